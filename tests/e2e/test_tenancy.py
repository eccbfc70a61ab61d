"""Two accounts through local mode: the same `output` to `default` gives each its own object, both intact.

The second account is made as an operator makes one (`transcoder --state-file … keys create --account …`) and reads
its input through a storage of its own (the foreign endpoint, with its keys): the deployment's input bucket
belongs to the deployment's account.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from localmode.media import probe_file
from tests.e2e.conftest import Local
from tests.foreign_s3 import ForeignEndpoint, foreign_endpoint
from transcoder_client import Client
from transcoder_client.download import fetch

COMMAND = Path(sys.executable).with_name("transcoder")
TENANT = "tenant-b"


@pytest.fixture(scope="module")
def foreign() -> Iterator[ForeignEndpoint]:
    with foreign_endpoint(bucket="tenantbucket") as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def tenant(local: Local) -> Client:
    created = subprocess.run(
        [str(COMMAND), "--state-file", str(local.state_file), "keys", "create", "--account", TENANT],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    fields = {name.strip(): value.strip() for name, value in (line.split(":", 1) for line in created.splitlines())}
    return Client(local.api_url, fields["access key id"], fields["secret access key"])


def test_two_accounts_same_output_both_intact(
    local: Local, tenant: Client, foreign: ForeignEndpoint, clips: dict[str, Path], tmp_path: Path
) -> None:
    keys = {"storage_ak": foreign.access_key, "storage_sk": foreign.secret_key}
    # The attacks of the issue, through local mode: no storage of the deployment's buckets, keyed or not.
    for storage in (
        {"type": "s3", "region": "us-east-1", "bucket": local.input_bucket, "endpoint": local.aws_url},
        {"type": "s3", "region": "us-east-1", "bucket": local.output_bucket, "endpoint": local.aws_url, **keys},
        {"type": "s3", "region": "us-east-1", "bucket": local.output_bucket, **keys},
    ):
        answer = tenant.request("POST", "/api/add_storage", body=storage)
        assert (answer.http_status, answer.body["code"]) == (400, 1002), (storage, answer.body)

    own_input = local.upload(clips["720p"], "tenancy/clip.mp4")
    foreign.client().upload_file(str(clips["720p"]), foreign.bucket, "clip.mp4")
    storage = {"type": "s3", "region": "us-east-1", "bucket": foreign.bucket, "endpoint": foreign.url, **keys}
    answer = tenant.request("POST", "/api/add_storage", body=storage)
    assert (answer.http_status, answer.body["code"]) == (200, 0), answer.body

    mine = local.client.create_task(own_input, "tenancy/same", template_name="MP4_264_360p")["task_id"]
    theirs = tenant.create_task(f"s3://{foreign.bucket}/clip.mp4", "tenancy/same", template_name="MP4_265_480p")
    done = {
        "default": local.client.wait(mine, interval=0.2, timeout=600),
        TENANT: tenant.wait(theirs["task_id"], interval=0.2, timeout=600),
    }
    expected = {"default": ("h264", 640, 360), TENANT: ("hevc", 854, 480)}
    for account, data in done.items():
        assert (data["status"], data["err_code"], data["objkey"]) == ("success", 0, "tenancy/same.mp4"), data
        stored_key = f"accounts/{account}/tenancy/same.mp4"
        assert urlsplit(data["output_url"]).path == f"/{local.output_bucket}/{stored_key}"
        via_url = tmp_path / f"{account}.mp4"
        fetch(data["output_url"], str(via_url))
        facts = probe_file(str(via_url))
        assert (facts.video_codec, facts.width, facts.height) == expected[account], account
        assert facts.frame_count == 120, "4 s at 30 fps"
        stored = local.s3.get_object(Bucket=local.output_bucket, Key=stored_key)["Body"].read()
        assert stored == via_url.read_bytes()
    # Nothing is written outside the accounts' parts.
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix="tenancy/")
    assert listed.get("KeyCount", 0) == 0
