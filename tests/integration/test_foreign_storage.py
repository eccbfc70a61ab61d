"""A task that reads its input from, and writes its output to, a second S3-compatible endpoint with its own keys.

The foreign endpoint (tests.foreign_s3) is another moto server in its own process that enforces credentials:
requests signed with the storage's key succeed, anything else gets 403. The deployment's emulator knows
neither its buckets nor its users, so the pipeline can only succeed by using the storage's endpoint and keys.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from localmode.media import probe_file
from tests.foreign_s3 import ForeignEndpoint, foreign_endpoint
from tests.integration.conftest import Aws
from tests.integration.test_pipeline_steps import _run_pipeline
from transcoder import errors, pipeline, repository, storages, tasks
from transcoder.endpoints import Keys
from transcoder.models import DEFAULT_ACCOUNT


@pytest.fixture(scope="module")
def foreign() -> Iterator[ForeignEndpoint]:
    with foreign_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def trusted_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator trusts the foreign endpoint's network (a loopback address here)."""
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")


def _storage(foreign: ForeignEndpoint, *, secret_key: str | None = None, account: str = DEFAULT_ACCOUNT) -> str:
    added = storages.add(
        account,
        storage_type="s3",
        region="us-east-1",
        bucket=foreign.bucket,
        prefix="partner/out",
        endpoint=foreign.url,
        keys=Keys(foreign.access_key, secret_key or foreign.secret_key),
    )
    return added.storage_id


def _execution_input(aws: Aws, task_id: str) -> dict[str, Any]:
    import json

    executions = aws.sfn.list_executions(stateMachineArn=tasks.settings().state_machine_arn)["executions"]
    (execution,) = [e for e in executions if e["name"] == task_id]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    return event


def test_the_foreign_endpoint_enforces_credentials(foreign: ForeignEndpoint) -> None:
    foreign.client().put_object(Bucket=foreign.bucket, Key="probe.txt", Body=b"hello")
    with pytest.raises(ClientError) as raised:
        foreign.client(secret_key="not-the-secret").get_object(Bucket=foreign.bucket, Key="probe.txt")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert requests.get(f"{foreign.url}/{foreign.bucket}/probe.txt", timeout=10).status_code == 403
    url = foreign.client().generate_presigned_url("get_object", Params={"Bucket": foreign.bucket, "Key": "probe.txt"})
    assert requests.get(url, timeout=10).content == b"hello"
    forged = foreign.client(secret_key="nope").generate_presigned_url(
        "get_object", Params={"Bucket": foreign.bucket, "Key": "probe.txt"}
    )
    assert requests.get(forged, timeout=10).status_code == 403


def test_task_reads_from_and_writes_to_the_foreign_endpoint(
    aws: Aws, foreign: ForeignEndpoint, trusted_loopback: None, clip_720p: Path, tmp_path: Path
) -> None:
    foreign.client().upload_file(str(clip_720p), foreign.bucket, "in/clip.mp4")
    storage_id = _storage(foreign)
    task = tasks.create_task(
        input_url=f"s3://{foreign.bucket}/in/clip.mp4",
        output="clips/clip-360p",
        template_name="MP4_264_360p",
        storage_id=storage_id,
        account_id=DEFAULT_ACCOUNT,
    )
    event = _execution_input(aws, task.task_id)
    assert event["input"] == {"bucket": foreign.bucket, "key": "in/clip.mp4", "storage_id": storage_id}
    assert event["destination"] == {
        "bucket": foreign.bucket,
        "key": "partner/out/clips/clip-360p.mp4",
        "objkey": "partner/out/clips/clip-360p.mp4",
        "storage_id": storage_id,
    }
    assert foreign.secret_key not in str(event)

    _run_pipeline(event)
    done = repository.get(task.task_id)
    assert done is not None
    assert (done.status, done.err_code, done.dst_width, done.dst_height) == ("success", 0, 640, 360)

    # The output is on the foreign endpoint, under the storage's prefix, and not in the deployment's bucket.
    output = tmp_path / "out.mp4"
    foreign.client().download_file(foreign.bucket, "partner/out/clips/clip-360p.mp4", str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 640, 360, "aac")
    assert facts.frame_count == 50
    assert aws.s3.list_objects_v2(Bucket=aws.output_bucket).get("KeyCount", 0) == 0

    # query_task's URLs are signed for the foreign endpoint with the storage's key.
    view = tasks.task_view(done)
    assert view["output_url"].startswith(f"{foreign.url}/{foreign.bucket}/partner/out/clips/clip-360p.mp4?")
    assert requests.get(view["output_url"], timeout=30).content == output.read_bytes()
    assert view["input_url"].startswith(f"{foreign.url}/{foreign.bucket}/in/clip.mp4?")
    assert requests.get(view["input_url"], timeout=30).content == clip_720p.read_bytes()
    assert (view["bucket"], view["objkey"], view["region_type"]) == (
        foreign.bucket,
        "partner/out/clips/clip-360p.mp4",
        "s3",
    )


def test_a_wrong_key_cannot_read_the_input(
    aws: Aws, foreign: ForeignEndpoint, trusted_loopback: None, clip_720p: Path
) -> None:
    foreign.client().upload_file(str(clip_720p), foreign.bucket, "in/clip.mp4")
    _storage(foreign, secret_key="wrong-secret-key", account="acct-wrong")
    task = tasks.create_task(
        input_url=f"s3://{foreign.bucket}/in/clip.mp4",
        output="x",
        template_name="MP4_264_360p",
        account_id="acct-wrong",
    )
    event = _execution_input(aws, task.task_id)
    with pytest.raises(errors.InputNotFound, match="not readable"):
        pipeline.download(event)


def test_a_wrong_key_cannot_write_the_output(
    aws: Aws, foreign: ForeignEndpoint, trusted_loopback: None, clip_720p: Path
) -> None:
    aws.s3.upload_file(str(clip_720p), aws.input_bucket, "in/clip.mp4")
    storage_id = _storage(foreign, secret_key="wrong-secret-key")
    task = tasks.create_task(
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="y",
        template_name="MP4_264_360p",
        storage_id=storage_id,
        account_id=DEFAULT_ACCOUNT,
    )
    event = _execution_input(aws, task.task_id)
    event["source"] = pipeline.download(event)
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    with pytest.raises(errors.OutputWriteFailed, match="could not be written"):
        pipeline.upload(event)
    assert "y.mp4" not in str(foreign.client().list_objects_v2(Bucket=foreign.bucket).get("Contents", []))


def test_an_untrusted_loopback_endpoint_is_refused(
    aws: Aws, foreign: ForeignEndpoint, monkeypatch: pytest.MonkeyPatch, clip_720p: Path
) -> None:
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    storage_id = _storage(foreign)
    # The operator stops trusting the network: the step refuses the endpoint instead of connecting to it.
    monkeypatch.delenv("TRUSTED_INPUT_NETWORKS")
    storages.forget_clients()
    aws.s3.upload_file(str(clip_720p), aws.input_bucket, "in/clip.mp4")
    task = tasks.create_task(
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="z",
        template_name="MP4_264_360p",
        storage_id=storage_id,
        account_id=DEFAULT_ACCOUNT,
    )
    event = _execution_input(aws, task.task_id)
    event["source"] = pipeline.download(event)
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    with pytest.raises(errors.OutputWriteFailed, match="non-public"):
        pipeline.upload(event)


def test_an_unreachable_endpoint_fails_the_task_with_its_reason(aws: Aws, trusted_loopback: None) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    storages.add(
        "acct-gone", storage_type="s3", region="us-east-1", bucket="gone-bucket", endpoint=closed, keys=Keys("A", "B")
    )
    task = tasks.create_task(
        input_url="s3://gone-bucket/a.mp4", output="x", template_name="MP4_264_360p", account_id="acct-gone"
    )
    with pytest.raises(errors.InputNotFound, match="not reachable"):
        pipeline.download(_execution_input(aws, task.task_id))
