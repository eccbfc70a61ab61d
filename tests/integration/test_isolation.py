"""Tenant isolation, as it was attacked: no account reaches what is not its own.

1. A storage naming one of the deployment's buckets (input, output, work) with no keys, or at the
   deployment's own endpoint however it is spelled, would make the service act for the account with its own
   credentials: read any object (an input_url presigned by the service) and write anywhere (an output under
   a template folder of the input bucket would even become a drop of account `default`).
2. In the built-in storage `default`, each account writes under its own part of the output bucket, so two
   accounts with the same `output` never touch each other's object.
"""

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from localmode.media import probe_file
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call
from tests.integration.test_pipeline_steps import _run_pipeline
from transcoder import errors, pipeline, tasks
from transcoder.auth import keys
from transcoder.media.probe import probe
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.storages import StorageModel

EVIL = "acct-evil"
EVIL_KEY = ("EVILKEY000000001", "evilsecret000000000000000000000A")
VICTIM_KEY = "victim/contract.mp4"
VICTIM_BYTES = b"another account's file" * 100


@pytest.fixture
def evil(aws: Aws) -> tuple[str, str]:
    """An account of its own, signing with its own key; the deployment's account has a file in the input bucket."""
    keys.create(EVIL, access_key_id=EVIL_KEY[0], secret_access_key=EVIL_KEY[1])
    aws.s3.put_object(Bucket=aws.input_bucket, Key=VICTIM_KEY, Body=VICTIM_BYTES)
    return EVIL_KEY


@pytest.fixture
def loopback_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator trusts loopback (as local mode does), so only the tenancy rules stand in the way."""
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32,::1/128")


def _storages_of(key: tuple[str, str]) -> list[str]:
    return [s["storage_id"] for s in _call("GET", "/api/list_storage", key=key)[1]["data"]["list"]]


def _execution_input(aws: Aws, task_id: str) -> dict[str, Any]:
    executions = aws.sfn.list_executions(stateMachineArn=tasks.settings().state_machine_arn)["executions"]
    (execution,) = [e for e in executions if e["name"] == task_id]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    return event


# --- 1. the service's credentials act only for `default` ----------------------------------------------------


def test_a_storage_without_keys_is_refused_wherever_it_points(
    aws: Aws, evil: tuple[str, str], loopback_trusted: None, moto_server: str
) -> None:
    service = {"type": "s3", "region": "us-east-1"}
    for body in (
        {**service, "bucket": aws.input_bucket, "endpoint": moto_server},  # the attack: the service's own S3
        {**service, "bucket": aws.input_bucket, "prefix": "MP4_264_360p", "endpoint": moto_server},
        {**service, "bucket": aws.output_bucket, "endpoint": moto_server.replace("127.0.0.1", "localhost")},
        {**service, "bucket": aws.work_bucket},
        {**service, "bucket": "a-bucket-of-my-own"},
        {"type": "oss", "region": "cn-hangzhou", "bucket": "a-bucket-of-my-own"},
    ):
        status, answer = _call("POST", "/api/add_storage", body, key=evil)
        assert (status, answer["code"]) == (400, 1002), (body, answer)
        assert answer["msg"].startswith("bad param: storage_ak:"), answer["msg"]
        assert "the service's own credentials act only for the built-in storage 'default'" in answer["msg"]
    assert _storages_of(evil) == ["default"]
    assert not boto3.client("secretsmanager").list_secrets()["SecretList"]
    # Nor may the account name the deployment's buckets as inputs of its own.
    request = {"input": f"s3://{aws.input_bucket}/{VICTIM_KEY}", "output": "stolen", "template_name": "MP4_264_360p"}
    status, answer = _call("POST", "/api/create_task", request, key=evil)
    assert (status, answer["code"]) == (400, 1002) and "input" in answer["msg"]


def test_keys_do_not_open_the_services_buckets_at_its_endpoint_however_spelled(
    aws: Aws, evil: tuple[str, str], loopback_trusted: None, moto_server: str
) -> None:
    """Local mode's emulator accepts any keys: a keyed storage there would read every account's files."""
    port = urlsplit(moto_server).port
    spellings = [
        moto_server,
        moto_server + "/",
        f"HTTP://127.0.0.1:{port}",
        f"http://LOCALHOST:{port}",
        f"http://127.1:{port}",
        None,  # no endpoint: botocore's resolution, which follows $AWS_ENDPOINT_URL as the service's own does
    ]
    keyed = {"region": "eu-west-1", "storage_ak": "AKIAMADEUPBYTENANT01", "storage_sk": "any-secret-at-all"}
    cases = [({**keyed, "type": "s3", "bucket": aws.input_bucket}, spelling) for spelling in spellings]
    cases += [({**keyed, "type": kind, "bucket": bucket}, moto_server) for kind in ("s3", "oss", "obs")
              for bucket in (aws.input_bucket, aws.output_bucket, aws.work_bucket)]  # fmt: skip
    for body, endpoint in cases:
        request = {**body, **({"endpoint": endpoint} if endpoint else {})}
        status, answer = _call("POST", "/api/add_storage", request, key=evil)
        assert (status, answer["code"]) == (400, 1002), (request, answer)
        assert answer["msg"].startswith("bad param: bucket:") and "own buckets" in answer["msg"], answer["msg"]
    assert _storages_of(evil) == ["default"]
    # Another bucket at the same endpoint, or the same name at another service, is just a bucket.
    status, answer = _call("POST", "/api/add_storage", {**keyed, "type": "s3", "bucket": "tenant-own"}, key=evil)
    assert (status, answer["code"]) == (200, 0), answer
    oss = {**keyed, "type": "oss", "region": "cn-hangzhou", "bucket": aws.input_bucket}
    assert _call("POST", "/api/add_storage", oss, key=evil)[1]["code"] == 0


def _legacy_storage(aws: Aws, endpoint: str, *, prefix: str = "") -> str:
    """A storage without keys written before keys were required: straight into the table, as it was stored."""
    StorageModel(
        EVIL, "sto-legacy", storage_type="s3", region="us-east-1", bucket=aws.input_bucket, prefix=prefix,
        endpoint=endpoint, create_time=1,
    ).save()  # fmt: skip
    return "sto-legacy"


@pytest.mark.parametrize("endpoint", ["", "moto"])
def test_a_stored_storage_without_keys_cannot_read_with_the_services_credentials(
    aws: Aws, evil: tuple[str, str], loopback_trusted: None, moto_server: str, endpoint: str
) -> None:
    _legacy_storage(aws, moto_server if endpoint == "moto" else "")
    request = {"input": f"s3://{aws.input_bucket}/{VICTIM_KEY}", "output": "stolen", "template_name": "MP4_264_360p"}
    status, answer = _call("POST", "/api/create_task", request, key=evil)
    assert status == 200, answer
    task_id = answer["data"]["task_id"]

    # query_task answers, but signs no URL with the service's identity.
    status, answer = _call("GET", f"/api/query_task?task_id={task_id}", key=evil)
    assert (status, answer["code"], answer["data"]["input_url"], answer["data"]["output_url"]) == (200, 0, "", "")
    # The Download step fails the task (2001) saying why, without reading the object.
    with pytest.raises(errors.InputNotFound, match="sto-legacy: has no keys of its own") as failed:
        pipeline.download(_execution_input(aws, task_id))
    assert failed.value.err_code == 2001


@pytest.mark.parametrize("endpoint", ["", "moto"])
def test_a_stored_storage_without_keys_cannot_write_with_the_services_credentials(
    aws: Aws, evil: tuple[str, str], loopback_trusted: None, moto_server: str, endpoint: str, clip_720p: Path
) -> None:
    # Under a template folder of the input bucket, a written output would become a drop of account `default`.
    storage_id = _legacy_storage(aws, moto_server if endpoint == "moto" else "", prefix="MP4_264_360p")
    request = {"input": f"s3://{aws.input_bucket}/x.mp4", "output": "planted", "template_name": "MP4_264_360p"}
    status, answer = _call("POST", "/api/create_task", {**request, "storage_id": storage_id}, key=evil)
    assert status == 200, answer
    event = _execution_input(aws, answer["data"]["task_id"])
    # What Transcode leaves in the work bucket, for the Upload step to deliver.
    encoded_prefix = pipeline.work_prefix(event["task_id"]) + "output/"
    aws.s3.upload_file(str(clip_720p), aws.work_bucket, encoded_prefix + "planted.mp4")
    event["transcoded"] = {
        "encoded": {"bucket": aws.work_bucket, "prefix": encoded_prefix, "files": ["planted.mp4"]},
        "media": probe(str(clip_720p)).to_dict(),
    }
    with pytest.raises(errors.OutputWriteFailed, match="sto-legacy: has no keys of its own") as failed:
        pipeline.upload(event)
    assert failed.value.err_code == 4001
    assert aws.s3.list_objects_v2(Bucket=aws.input_bucket, Prefix="MP4_264_360p/").get("KeyCount") == 0


# --- 2. `default` is partitioned by account ------------------------------------------------------------------


@pytest.fixture
def https_clip(https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    """An input both accounts may read: an https URL (the deployment's input bucket is its own account's)."""
    base, cert = https_site
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("CA_BUNDLE", str(cert))
    return f"{base}/clip.mp4"


def _transcode(aws: Aws, key: tuple[str, str], input_url: str, template: str) -> dict[str, Any]:
    request = {"input": input_url, "output": "shared/clip", "template_name": template}
    status, answer = _call("POST", "/api/create_task", request, key=key)
    assert status == 200, answer
    _run_pipeline(_execution_input(aws, answer["data"]["task_id"]))
    status, answer = _call("GET", f"/api/query_task?task_id={answer['data']['task_id']}", key=key)
    assert (status, answer["data"]["status"]) == (200, "success"), answer
    view: dict[str, Any] = answer["data"]
    return view


def test_two_accounts_write_the_same_output_without_touching_each_other(
    aws: Aws, https_clip: str, tmp_path: Path
) -> None:
    alice = ("ALICEKEY00000001", "alicesecret00000000000000000000A")
    bob = ("BOBKEY0000000001", "bobsecret0000000000000000000000A")
    keys.create("alice", access_key_id=alice[0], secret_access_key=alice[1])
    keys.create("bob", access_key_id=bob[0], secret_access_key=bob[1])

    first = _transcode(aws, alice, https_clip, "MP4_264_Original")
    alice_object = aws.s3.get_object(Bucket=aws.output_bucket, Key="accounts/alice/shared/clip.mp4")["Body"].read()
    second = _transcode(aws, bob, https_clip, "MP4_265_Original")

    # Each account sees the objkey it asked for; the service keeps each under the account's own part.
    assert (first["objkey"], second["objkey"]) == ("shared/clip.mp4", "shared/clip.mp4")
    assert (first["bucket"], second["bucket"]) == (aws.output_bucket, aws.output_bucket)
    stored = sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.output_bucket)["Contents"])
    assert stored == ["accounts/alice/shared/clip.mp4", "accounts/bob/shared/clip.mp4"]
    after = aws.s3.get_object(Bucket=aws.output_bucket, Key="accounts/alice/shared/clip.mp4")["Body"].read()
    assert after == alice_object, "bob's task overwrote alice's output"

    for view, owner, codec in ((first, "alice", "h264"), (second, "bob", "hevc")):
        url = urlsplit(view["output_url"])
        assert url.path == f"/{aws.output_bucket}/accounts/{owner}/shared/clip.mp4", view["output_url"]
        downloaded = tmp_path / f"{owner}.mp4"
        downloaded.write_bytes(requests.get(view["output_url"], timeout=30).content)
        facts = probe_file(str(downloaded))
        assert (facts.video_codec, facts.width, facts.height) == (codec, 320, 240), owner
        expected = aws.s3.get_object(Bucket=aws.output_bucket, Key=f"accounts/{owner}/shared/clip.mp4")
        assert downloaded.read_bytes() == expected["Body"].read()


def test_the_deployments_own_account_and_its_drops_have_their_part_too(aws: Aws) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="out/clip",
        template_name="MP4_264_360p",
    )
    destination = _execution_input(aws, task.task_id)["destination"]
    assert (task.objkey, destination["key"]) == ("out/clip.mp4", "accounts/default/out/clip.mp4")
