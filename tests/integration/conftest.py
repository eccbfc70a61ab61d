"""moto in-process: the task table, the buckets and a state machine, as the handlers expect them."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from mypy_boto3_s3 import S3Client
from mypy_boto3_stepfunctions import SFNClient

from localmode.media import generate_clip
from transcoder.models import TaskModel
from transcoder.settings import settings

_PASS_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@dataclass
class Aws:
    s3: S3Client
    sfn: SFNClient
    input_bucket: str
    output_bucket: str
    work_bucket: str


@pytest.fixture
def aws() -> Iterator[Aws]:
    settings.cache_clear()
    with mock_aws():
        TaskModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        boto3.client("dynamodb").create_table(
            TableName=os.environ["IDEMPOTENCY_TABLE"],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3")
        for bucket in (os.environ["INPUT_BUCKET"], os.environ["OUTPUT_BUCKET"], os.environ["WORK_BUCKET"]):
            s3.create_bucket(Bucket=bucket)
        # As the CDK app declares it: tasks pin the version of their input.
        s3.put_bucket_versioning(Bucket=os.environ["INPUT_BUCKET"], VersioningConfiguration={"Status": "Enabled"})
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="test-pipeline",
            definition=json.dumps(_PASS_MACHINE),
            roleArn="arn:aws:iam::123456789012:role/test",
        )
        assert machine["stateMachineArn"] == os.environ["STATE_MACHINE_ARN"]
        yield Aws(s3, sfn, os.environ["INPUT_BUCKET"], os.environ["OUTPUT_BUCKET"], os.environ["WORK_BUCKET"])
    settings.cache_clear()


@pytest.fixture(scope="session")
def clip_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clip-720p.mp4"
    generate_clip(str(path), seconds=2, size="1280x720", rate=25)
    return path


@pytest.fixture(scope="session")
def clip_silent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clip-silent.mp4"
    generate_clip(str(path), seconds=2, size="640x480", rate=25, audio=False)
    return path
