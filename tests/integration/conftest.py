"""moto in-process: the task table, the buckets and a state machine, as the handlers expect them."""

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pynamodb.connection.base
import pytest
import requests
from moto.server import ThreadedMotoServer
from mypy_boto3_s3 import S3Client
from mypy_boto3_stepfunctions import SFNClient

from localmode.dynamo_numbers import add_numbers_in_any_notation
from localmode.media import generate_clip
from tests.https_site import serve_https
from transcoder.auth import keys
from transcoder.auth.accounts import AccountModel
from transcoder.auth.keys import AccessKeyModel
from transcoder.auth.nonces import NonceModel
from transcoder.models import DEFAULT_ACCOUNT, TaskModel
from transcoder.settings import settings
from transcoder.storages import StorageModel
from transcoder.template_store import TemplateModel


def _session_with_the_shared_loader(env_vars: dict[str, Any] | None = None) -> botocore.session.Session:
    """A new botocore session, as pynamodb makes one for each connection, reading botocore's models once.

    Every test gets fresh pynamodb connections (`_forget_clients`), and every fresh session parsed the
    service models, endpoints and partitions JSON again: most of each test's setup time. The session, its
    credentials, its client and the endpoint stay new; only the parsed, read-only model files are shared.
    """
    session = botocore.session.get_session(env_vars)
    session.register_component("data_loader", _SHARED_LOADER)
    return session


_SHARED_LOADER = botocore.session.get_session().get_component("data_loader")
pynamodb.connection.base.get_session = _session_with_the_shared_loader

_PASS_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
# The access key every `aws` fixture creates for the deployment's own account; tests sign with it.
TEST_ACCESS_KEY_ID = "TESTKEY000000001"
TEST_SECRET_ACCESS_KEY = "testsecret000000000000000000000A"


@dataclass
class Aws:
    s3: S3Client
    sfn: SFNClient
    input_bucket: str
    output_bucket: str
    work_bucket: str


@pytest.fixture(scope="package")
def moto_server() -> Iterator[str]:
    """moto's server, not its in-process mock: ffprobe and ffmpeg read inputs over HTTP from it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    add_numbers_in_any_notation()  # as local mode does: a task's cost is a sum of sub-cent ADDs
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = url
    yield url
    server.stop()
    del os.environ["AWS_ENDPOINT_URL"]


def _forget_clients() -> None:
    """Clients are cached per process, as in Lambda; each test gets fresh ones for the reset server."""
    import sys

    from aws_lambda_powertools.utilities import parameters

    from transcoder import storage, storage_secrets, storages, tasks

    # The ingest function's idempotency layer makes its client when its module is imported, which
    # test collection may do before any endpoint is set; the API's is made on first use.
    if "handlers.ingest" in sys.modules:
        sys.modules["handlers.ingest"].persistence.client = boto3.client("dynamodb")
    if "handlers.client_token" in sys.modules:
        sys.modules["handlers.client_token"].persistence.cache_clear()

    settings.cache_clear()
    storage.s3_client.cache_clear()
    tasks._sfn.cache_clear()
    keys._kms.cache_clear()
    keys._decrypt.cache_clear()
    for model in (TaskModel, TemplateModel, AccessKeyModel, AccountModel, NonceModel, StorageModel):
        model._connection = None
    storages.forget_clients()
    storage_secrets._client.cache_clear()
    parameters.clear_caches()
    # Powertools keeps one Secrets Manager client per process: a fresh one for the reset server.
    parameters.base.DEFAULT_PROVIDERS.clear()


@pytest.fixture
def aws(moto_server: str) -> Iterator[Aws]:
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    _forget_clients()
    TaskModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    TemplateModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    AccessKeyModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    NonceModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    os.environ["KEYS_KMS_KEY_ID"] = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    keys.create(DEFAULT_ACCOUNT, access_key_id=TEST_ACCESS_KEY_ID, secret_access_key=TEST_SECRET_ACCESS_KEY)
    StorageModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    boto3.client("dynamodb").create_table(
        TableName=os.environ["IDEMPOTENCY_TABLE"],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3 = boto3.client("s3")
    for bucket in (os.environ["INPUT_BUCKET"], os.environ["OUTPUT_BUCKET"], os.environ["WORK_BUCKET"]):
        s3.create_bucket(Bucket=bucket)
    # As the CDK app declares them: tasks pin the version of their input, and of the output they wrote.
    for versioned in (os.environ["INPUT_BUCKET"], os.environ["OUTPUT_BUCKET"]):
        s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="test-pipeline",
        definition=json.dumps(_PASS_MACHINE),
        roleArn="arn:aws:iam::123456789012:role/test",
    )
    assert machine["stateMachineArn"] == os.environ["STATE_MACHINE_ARN"]
    yield Aws(s3, sfn, os.environ["INPUT_BUCKET"], os.environ["OUTPUT_BUCKET"], os.environ["WORK_BUCKET"])
    _forget_clients()


@pytest.fixture(scope="session")
def clip_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clip-720p.mp4"
    generate_clip(str(path), seconds=2, size="1280x720", rate=25)
    return path


@pytest.fixture(scope="session")
def clip_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough at 720p for the worker's tests to stop it mid-encode on a busy 2-core machine."""
    path = tmp_path_factory.mktemp("clips") / "clip-long.mp4"
    generate_clip(str(path), seconds=40, size="1280x720", rate=25)
    return path


@pytest.fixture(scope="session")
def clip_silent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "clip-silent.mp4"
    generate_clip(str(path), seconds=2, size="640x480", rate=25, audio=False)
    return path


@pytest.fixture(scope="session")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server with a self-signed certificate for 127.0.0.1, serving one clip."""
    folder = tmp_path_factory.mktemp("https")
    generate_clip(str(folder / "clip.mp4"), seconds=1, size="320x240", rate=25)
    with serve_https(folder) as site:
        yield site
