"""Storages through local mode: a task reads from and writes to a foreign S3-compatible endpoint with its keys.

Local mode points every AWS client at its emulator (AWS_ENDPOINT_URL); the storage's explicit endpoint must
win over it, and its keys over local mode's credentials, or the foreign endpoint answers 403.
"""

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from localmode.media import probe_file
from tests.e2e.conftest import Local
from tests.foreign_s3 import ForeignEndpoint, foreign_endpoint
from transcoder_client.download import fetch


@pytest.fixture(scope="module")
def foreign() -> Iterator[ForeignEndpoint]:
    with foreign_endpoint() as endpoint:
        yield endpoint


def test_task_through_a_foreign_storage(
    local: Local, foreign: ForeignEndpoint, clips: dict[str, Path], tmp_path: Path
) -> None:
    foreign.client().upload_file(str(clips["720p"]), foreign.bucket, "clip.mp4")
    storage = {
        "type": "s3",
        "region": "us-east-1",
        "bucket": foreign.bucket,
        "prefix": "partner",
        "endpoint": foreign.url,
        "storage_ak": foreign.access_key,
        "storage_sk": foreign.secret_key,
    }
    answer = local.client.request("POST", "/api/add_storage", body=storage)
    assert (answer.http_status, answer.body["code"]) == (200, 0), answer.body
    storage_id = answer.body["data"]["storage_id"]
    answer = local.client.request("GET", "/api/query_storage", params={"storage_id": storage_id})
    assert answer.body["data"]["endpoint"] == foreign.url and foreign.secret_key not in str(answer.body)

    created = local.client.create_task(
        f"s3://{foreign.bucket}/clip.mp4", "e2e/clip", template_name="MP4_264_360p", storage_id=storage_id
    )
    data = local.client.wait(created["task_id"], timeout=300)
    assert (data["status"], data["err_code"]) == ("success", 0), data
    assert (data["bucket"], data["objkey"]) == (foreign.bucket, "partner/e2e/clip.mp4")

    # Fetched from the foreign endpoint with its own key, and through query_task's presigned URL.
    output = tmp_path / "out.mp4"
    foreign.client().download_file(foreign.bucket, "partner/e2e/clip.mp4", str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 640, 360, "aac")
    assert facts.frame_count == 120, "4 s at 30 fps"
    assert data["output_url"].startswith(foreign.url)
    via_url = tmp_path / "via-url.mp4"
    fetch(data["output_url"], str(via_url))
    assert via_url.read_bytes() == output.read_bytes()
    written = local.s3.list_objects_v2(Bucket=local.output_bucket).get("Contents", [])
    assert not [o["Key"] for o in written if o["Key"].endswith("partner/e2e/clip.mp4")]

    # Deleting the storage deletes its secret in local mode's Secrets Manager.
    answer = local.client.request("DELETE", "/api/del_storage", body={"storage_id": storage_id})
    assert (answer.http_status, answer.body["code"]) == (200, 0), answer.body
    secrets = boto3.client("secretsmanager", endpoint_url=local.aws_url)
    names = [s["Name"] for s in secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]]
    assert not [name for name in names if name.endswith(storage_id)]


def test_oss_input_without_a_storage_is_refused(local: Local) -> None:
    answer = local.client.request(
        "POST",
        "/api/create_task",
        body={"input": "oss://nobody-bucket/a.mp4", "output": "a", "template_name": "MP4_264_360p"},
    )
    assert (answer.http_status, answer.body["code"]) == (400, 1002)
    assert "input" in answer.body["msg"]


def test_list_storage_type(local: Local) -> None:
    answer = local.client.request("GET", "/api/list_storage_type", signed=False)
    assert (answer.http_status, answer.body["code"]) == (200, 0), "list_storage_type needs no signature"
    assert answer.body["data"] == {"list": ["s3", "oss", "obs"], "num": 3}
