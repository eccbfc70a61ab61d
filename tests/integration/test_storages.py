"""Storage endpoints through the API function, against moto: DynamoDB items, Secrets Manager, tasks."""

import json
import logging
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call
from transcoder import storages, tasks
from transcoder.endpoints import Keys
from transcoder.models import DEFAULT_ACCOUNT, TaskModel

AK, SK = "AKIAPARTNEREXAMPLE01", "partner-SECRET-key-0123456789abcdef"
OSS = {
    "type": "oss",
    "region": "cn-hangzhou",
    "bucket": "partner-media",
    "prefix": "out",
    "notify": "https://h.example.com/n",
}
KEYED = {**OSS, "storage_ak": AK, "storage_sk": SK}


def _add(fields: dict[str, Any]) -> str:
    status, body = _call("POST", "/api/add_storage", fields)
    assert (status, body["code"]) == (200, 0), body
    storage_id: str = body["data"]["storage_id"]
    return storage_id


def test_add_query_list_delete(aws: Aws) -> None:
    storage_id = _add({**OSS, "storage_ak": AK, "storage_sk": SK})
    assert storage_id.startswith("sto-")
    for target in (f"/api/query_storage?storage_id={storage_id}", f"/api/storage?StorageId={storage_id}"):
        status, body = _call("GET", target)
        assert status == 200, body
        assert body["data"] == {
            "storage_id": storage_id, "type": "oss", "region": "cn-hangzhou", "bucket": "partner-media",
            "prefix": "out", "endpoint": "", "notify": "https://h.example.com/n", "has_keys": True,
            "storage_type": "custom", "create_time": body["data"]["create_time"],
        }  # fmt: skip

    status, body = _call("GET", "/api/list_storage")
    assert status == 200
    assert body["data"]["num"] == 2 == len(body["data"]["list"])
    builtin, custom = body["data"]["list"]
    assert (builtin["storage_id"], builtin["type"], builtin["bucket"]) == ("default", "s3", aws.output_bucket)
    assert (builtin["storage_type"], builtin["has_keys"]) == ("built-in", False)
    assert custom["storage_id"] == storage_id

    status, body = _call("DELETE", "/api/del_storage", {"storage_id": storage_id})
    assert (status, body["code"], body["data"]) == (200, 0, None)
    status, body = _call("GET", f"/api/query_storage?storage_id={storage_id}")
    assert (status, body["code"]) == (404, 1004)
    assert [s["storage_id"] for s in _call("GET", "/api/list_storage")[1]["data"]["list"]] == ["default"]


def test_keys_live_in_secrets_manager_only(aws: Aws) -> None:
    storage_id = _add({**OSS, "storage_ak": AK, "storage_sk": SK})
    item = boto3.client("dynamodb").get_item(
        TableName="test-storages", Key={"account_id": {"S": DEFAULT_ACCOUNT}, "storage_id": {"S": storage_id}}
    )["Item"]
    assert AK not in json.dumps(item) and SK not in json.dumps(item)
    arn = item["secret_arn"]["S"]
    secrets = boto3.client("secretsmanager")
    described = secrets.describe_secret(SecretId=arn)
    assert described["Name"] == f"transcoder/storages/{DEFAULT_ACCOUNT}/{storage_id}"
    assert {t["Key"]: t["Value"] for t in described["Tags"]} == {
        "service": "transcoder",
        "account_id": DEFAULT_ACCOUNT,
        "storage_id": storage_id,
    }
    assert json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"]) == {"storage_ak": AK, "storage_sk": SK}

    # Deleting the storage deletes its secret at once (no recovery window).
    assert _call("DELETE", "/api/del_storage", {"StorageId": storage_id})[1]["code"] == 0
    assert not secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]


def test_a_storage_needs_keys(aws: Aws) -> None:
    """The service's own credentials act only for `default`: a storage without keys could reach nothing else."""
    for body in (OSS, {"type": "s3", "region": "us-east-1", "bucket": "my-other-bucket"}):
        status, answer = _call("POST", "/api/add_storage", body)
        assert (status, answer["code"]) == (400, 1002), answer
        assert answer["msg"] == (
            "bad param: storage_ak: a storage needs its own keys (storage_ak and storage_sk): "
            "the service's own credentials act only for the built-in storage 'default'"
        )
    assert not boto3.client("secretsmanager").list_secrets()["SecretList"]
    assert [s["storage_id"] for s in _call("GET", "/api/list_storage")[1]["data"]["list"]] == ["default"]


def test_secret_values_never_reach_responses_or_logs(
    aws: Aws, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from handlers.api import logger

    # The service's own logger at its most verbose, every other logger at INFO. (botocore's DEBUG wire log
    # prints request bodies, CreateSecret's included: operators must never turn that on in production.)
    logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=logger.name)
    try:
        bodies = []
        storage_id = _add({**OSS, "storage_ak": AK, "storage_sk": SK})
        bodies.append(_call("GET", f"/api/query_storage?storage_id={storage_id}")[1])
        bodies.append(_call("GET", "/api/list_storage")[1])
        bodies.append(_call("POST", "/api/add_storage", {**OSS, "storage_ak": AK, "storage_sk": SK})[1])  # 1006
        bodies.append(_call("POST", "/api/add_storage", {**OSS, "bucket": "X", "storage_ak": AK, "storage_sk": SK})[1])
        bodies.append(_call("POST", "/api/add_storage", {**OSS, "storage_sk": SK})[1])
        bodies.append(_call("POST", "/api/add_storage", {**OSS, "storage_ak": AK, "storage_sk": 7})[1])
        request = {"input": "oss://partner-media/in.mp4", "output": "a", "template_name": "MP4_264_360p"}
        created = _call("POST", "/api/create_task", {**request, "storage_id": storage_id})[1]
        bodies.append(_call("GET", f"/api/query_task?task_id={created['data']['task_id']}")[1])
        executions = aws.sfn.list_executions(stateMachineArn=tasks.settings().state_machine_arn)["executions"]
        payload = aws.sfn.describe_execution(executionArn=executions[-1]["executionArn"])["input"]
    finally:
        logger.setLevel("WARNING")
    assert [b["code"] for b in bodies] == [0, 0, 1006, 1002, 1002, 1002, 0]
    captured = capfd.readouterr()
    everything = json.dumps(bodies) + payload + captured.out + captured.err + caplog.text
    logged = captured.out + caplog.text
    assert "storage added" in logged and "task created" in logged  # the logs were really captured
    assert SK not in everything
    # The key id is not returned by the storage routes nor passed to the pipeline; only a presigned URL
    # (query_task's input_url) carries it, as every presigned URL carries its signer's key id.
    assert AK not in json.dumps(bodies[:-1]) + payload
    assert f"AWSAccessKeyId={AK}" in bodies[-1]["data"]["input_url"]
    # The pipeline gets the storage by id and looks the keys up itself.
    assert json.loads(payload)["input"] == {"bucket": "partner-media", "key": "in.mp4", "storage_id": storage_id}


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ({k: v for k, v in OSS.items() if k != "type"}, 1001, "type"),
        ({k: v for k, v in OSS.items() if k != "bucket"}, 1001, "bucket"),
        ({**OSS, "type": "gcs"}, 1002, "type:"),
        ({**OSS, "bucket": "Upper"}, 1002, "bucket:"),
        ({**OSS, "region": "cn hangzhou"}, 1002, "region:"),
        ({**OSS, "prefix": "a/../b"}, 1002, "prefix:"),
        ({**OSS, "notify": "http://h.example.com"}, 1002, "notify:"),
        ({**OSS, "endpoint": "http://169.254.169.254"}, 1002, "endpoint:"),
        ({**OSS, "storage_ak": AK}, 1002, "storage_sk"),
        (OSS, 1002, "storage_ak:"),
    ],
)
def test_bad_requests(aws: Aws, body: dict[str, Any], code: int, needle: str) -> None:
    status, answer = _call("POST", "/api/add_storage", body)
    assert (status, answer["code"]) == (400, code), answer
    assert needle in answer["msg"]


def test_duplicates_and_the_builtin(aws: Aws) -> None:
    _add(KEYED)
    status, body = _call("POST", "/api/add_storage", KEYED)
    assert (status, body["code"]) == (409, 1006)
    assert _add({**KEYED, "prefix": "other"})  # another prefix of the same bucket is another storage
    # The service's own buckets are reached through `default` only, even with keys: another storage there
    # would let one account read another's files (tests/integration/test_isolation.py has the attacks).
    builtin = {"type": "s3", "region": "us-east-1", "bucket": aws.output_bucket, "storage_ak": AK, "storage_sk": SK}
    for bucket in (aws.input_bucket, aws.work_bucket, aws.output_bucket):
        for prefix in ("", "mine"):
            status, body = _call("POST", "/api/add_storage", {**builtin, "bucket": bucket, "prefix": prefix})
            assert (status, body["code"]) == (400, 1002), body
            assert body["msg"].startswith("bad param: bucket:") and "own buckets" in body["msg"]
    # At another service the name is just a name.
    assert _add({**KEYED, "bucket": aws.work_bucket})
    status, body = _call("DELETE", "/api/del_storage", {"storage_id": "default"})
    assert (status, body["code"]) == (409, 1005)
    assert "built-in" in body["msg"]


def test_unknown_storages(aws: Aws) -> None:
    assert _call("GET", "/api/query_storage")[1]["code"] == 1001
    assert _call("GET", "/api/query_storage?storage_id=sto-nope")[1]["code"] == 1004
    assert _call("DELETE", "/api/del_storage", {"storage_id": "sto-nope"})[1]["code"] == 1004
    assert _call("DELETE", "/api/del_storage", {})[1]["code"] == 1001


def test_list_storage_type(aws: Aws) -> None:
    status, body = _call("GET", "/api/list_storage_type")
    assert (status, body["data"]) == (200, {"list": ["s3", "oss", "obs"], "num": 3})


def test_a_storage_in_use_cannot_be_deleted(aws: Aws) -> None:
    storage_id = _add(KEYED)
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in.mp4", Body=b"x")
    task_id = _call(
        "POST",
        "/api/create_task",
        {"input": "s3://test-input/in.mp4", "output": "a", "template_name": "MP4_264_360p", "storage_id": storage_id},
    )[1]["data"]["task_id"]
    task = TaskModel.get(task_id)
    assert (task.storage_id, task.bucket, task.region, task.region_type, task.objkey) == (
        storage_id, "partner-media", "cn-hangzhou", "oss", "out/a.mp4",
    )  # fmt: skip
    status, body = _call("DELETE", "/api/del_storage", {"storage_id": storage_id})
    assert (status, body["code"]) == (409, 1005)
    assert task_id in body["msg"]
    assert _call("POST", "/api/cancel_task", {"task_id": task_id})[1]["data"]["status"] == "cancelled"
    assert _call("DELETE", "/api/del_storage", {"storage_id": storage_id})[1]["code"] == 0


def test_a_storage_read_by_a_running_task_cannot_be_deleted(aws: Aws) -> None:
    storage_id = _add(KEYED)
    task = tasks.create_task(
        input_url="oss://partner-media/in.mp4", output="a", template_name="MP4_264_360p", account_id=DEFAULT_ACCOUNT
    )
    assert (task.input_storage_id, task.storage_id) == (storage_id, "default")
    assert _call("DELETE", "/api/del_storage", {"storage_id": storage_id})[1]["code"] == 1005


def test_inputs_through_storages(aws: Aws) -> None:
    for url in ("oss://partner-media/a.mp4", "obs://partner-media/a.mp4", "s3://foreign-bucket/a.mp4"):
        status, body = _call("POST", "/api/create_task", {"input": url, "output": "a", "template_name": "MP4_264_360p"})
        assert (status, body["code"]) == (400, 1002), body
        assert "input" in body["msg"]
    _add(KEYED)
    _add({"type": "obs", "region": "cn-north-4", "bucket": "partner-media", "storage_ak": AK, "storage_sk": SK})
    _add({"type": "s3", "region": "eu-west-1", "bucket": "foreign-bucket", "storage_ak": AK, "storage_sk": SK})
    for url, storage_type in (
        ("oss://partner-media/a.mp4", "oss"),
        ("obs://partner-media/a.mp4", "obs"),
        ("s3://foreign-bucket/a.mp4", "s3"),
    ):
        source = tasks.resolve_input(url, DEFAULT_ACCOUNT)
        assert isinstance(source, tasks.StoredSource) and source.storage.type == storage_type, url
        assert source.url == url


def test_storages_belong_to_their_account(aws: Aws) -> None:
    mine = storages.add("acct-a", storage_type="s3", region="us-east-1", bucket="bucket-a", keys=Keys(AK, SK))
    assert storages.find("acct-a", mine.storage_id) == mine
    assert storages.find("acct-b", mine.storage_id) is None
    assert [s.storage_id for s in storages.list_all("acct-b")] == ["default"]
    assert storages.find_for_input("acct-b", "s3", "bucket-a") is None
    with pytest.raises(tasks.InvalidParameter, match="storage_id"):
        tasks.create_task(
            input_url="s3://test-input/a.mp4", output="a", template_name="MP4_264_360p",
            storage_id=mine.storage_id, account_id=DEFAULT_ACCOUNT,
        )  # fmt: skip
    with pytest.raises(tasks.InvalidParameter, match="input"):
        tasks.create_task(input_url="s3://bucket-a/a.mp4", output="a", template_name="MP4_264_360p", account_id="b")
    # The same bucket may be another account's storage too.
    assert storages.add("acct-b", storage_type="s3", region="us-east-1", bucket="bucket-a", keys=Keys(AK, SK))


def test_a_secret_removed_outside_the_service(aws: Aws) -> None:
    """query_task still answers (without the URL) and the pipeline fails with a specific message, never a 500."""
    from transcoder import errors, pipeline

    storage_id = _add({**OSS, "storage_ak": AK, "storage_sk": SK})
    task_id = _call(
        "POST",
        "/api/create_task",
        {"input": "oss://partner-media/a.mp4", "output": "a", "template_name": "MP4_264_360p"},
    )[1]["data"]["task_id"]
    found = storages.find(DEFAULT_ACCOUNT, storage_id)
    assert found is not None
    boto3.client("secretsmanager").delete_secret(SecretId=found.secret_arn, ForceDeleteWithoutRecovery=True)
    storages.forget_clients()
    status, body = _call("GET", f"/api/query_task?task_id={task_id}")
    assert (status, body["code"], body["data"]["input_url"]) == (200, 0, "")
    event = json.loads(aws.sfn.describe_execution(executionArn=tasks.execution_arn(task_id))["input"])
    assert event["input"] == {"bucket": "partner-media", "key": "a.mp4", "storage_id": storage_id}
    with pytest.raises(errors.InputNotFound, match="keys could not be read"):
        pipeline.download(event)


def test_a_storages_notify_url_is_the_callback_of_its_tasks(aws: Aws) -> None:
    from tests.integration.conftest import TEST_ACCESS_KEY_ID
    from transcoder import repository

    storage_id = _add({**OSS, "storage_ak": AK, "storage_sk": SK})
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/a.mp4", Body=b"x")
    request = {"input": f"s3://{aws.input_bucket}/in/a.mp4", "output": "a", "template_name": "MP4_264_360p"}
    _, body = _call("POST", "/api/create_task", {**request, "storage_id": storage_id})
    task = repository.get(body["data"]["task_id"])
    assert task is not None
    assert (task.callback_url, task.callback_key_id) == (OSS["notify"], TEST_ACCESS_KEY_ID)
    # The request's own callback_url wins over the storage's.
    _, body = _call(
        "POST", "/api/create_task", {**request, "storage_id": storage_id, "callback_url": "https://mine.example.com/cb"}
    )
    task = repository.get(body["data"]["task_id"])
    assert task is not None and task.callback_url == "https://mine.example.com/cb"
    # The default storage has no notify URL: no callback.
    _, body = _call("POST", "/api/create_task", request)
    task = repository.get(body["data"]["task_id"])
    assert task is not None and task.callback_url == ""
