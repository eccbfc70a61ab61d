"""The ingest function against moto: S3 notifications on SQS become tasks, each object version once."""

import json
import threading
import uuid
from typing import Any

import pytest

from localmode.functions import LocalContext
from tests.integration.conftest import Aws
from transcoder.models import TaskModel


def _message(key: str, *, version: str = "v1", size: int = 100, bucket: str = "test-input") -> dict[str, Any]:
    body = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size, "versionId": version}},
            }
        ]
    }
    return {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(body), "attributes": {}}


def _deliver(*records: dict[str, Any]) -> dict[str, Any]:
    from handlers.ingest import handler

    context = LocalContext("ingest", 512, "arn:aws:lambda:us-east-1:123456789012:function:ingest", 60)
    result: dict[str, Any] = handler({"Records": list(records)}, context)
    return result


def _tasks() -> list[TaskModel]:
    return list(TaskModel.scan())


def test_dropped_file_becomes_a_task_with_the_prefix_template(aws: Aws) -> None:
    assert _deliver(_message("MP4_264_360p/my+holiday/clip.mp4")) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert task.status == "pending"
    assert task.input == "s3://test-input/MP4_264_360p/my holiday/clip.mp4"
    assert (task.template_name, task.objkey, task.bucket) == ("MP4_264_360p", "my holiday/clip.mp4", "test-output")
    executions = aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"]
    assert [e["name"] for e in executions] == [task.task_id]


def tasks_arn() -> str:
    import os

    return os.environ["STATE_MACHINE_ARN"]


def test_top_level_key_uses_the_default_template(aws: Aws) -> None:
    _deliver(_message("clip.mov"))
    (task,) = _tasks()
    assert (task.template_name, task.objkey) == ("MP4_264_720p", "clip.mp4")


def test_same_version_twice_makes_one_task(aws: Aws) -> None:
    _deliver(_message("MP4_264_360p/a.mp4", version="v1"))
    _deliver(_message("MP4_264_360p/a.mp4", version="v1"), _message("MP4_264_360p/a.mp4", version="v1"))
    assert len(_tasks()) == 1
    _deliver(_message("MP4_264_360p/a.mp4", version="v2"))
    assert len(_tasks()) == 2, "a new version of the key is a new upload"


def test_concurrent_duplicates_make_one_task(aws: Aws) -> None:
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(_deliver(_message("MP4_264_360p/race.mp4", version="same")))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8, "a delivery raised instead of reporting"
    assert len(_tasks()) == 1
    # A duplicate that found the first still in progress is reported failed, so SQS delivers it again.
    failed = sum(len(r["batchItemFailures"]) for r in results)
    assert failed <= 7
    retried = _deliver(_message("MP4_264_360p/race.mp4", version="same"))
    assert retried == {"batchItemFailures": []}
    assert len(_tasks()) == 1


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("holiday/clip.mp4", "prefix 'holiday'"),
        ("MP4_264_360p/../../escape.mp4", "output"),
        ("MP4_264_360p/a\x01b.mp4", "control characters"),
    ],
)
def test_unusable_keys_end_as_failed_tasks(aws: Aws, key: str, needle: str) -> None:
    assert _deliver(_message(key)) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert (task.status, task.err_code) == ("fail", 1002)
    assert needle in task.err_message
    assert task.finish_time > 0
    assert aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"] == []


def test_top_level_key_without_a_default_template_makes_no_task(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder.settings import settings

    monkeypatch.setenv("DEFAULT_TEMPLATE", "")
    settings.cache_clear()
    assert _deliver(_message("clip.mp4")) == {"batchItemFailures": []}
    assert _tasks() == []


def test_a_default_template_that_names_no_template_fails_clearly(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder.settings import settings

    monkeypatch.setenv("DEFAULT_TEMPLATE", "MP4_264_9000p")
    settings.cache_clear()
    _deliver(_message("clip.mp4"))
    (task,) = _tasks()
    assert (task.status, task.err_code) == ("fail", 1002)
    assert "default template 'MP4_264_9000p'" in task.err_message


def test_folders_empty_objects_and_test_events_create_nothing(aws: Aws) -> None:
    test_event = {"messageId": "t", "receiptHandle": "r", "attributes": {}}
    test_event["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "test-input"})
    result = _deliver(_message("MP4_264_360p/", size=0), _message("MP4_264_360p/empty.mp4", size=0), test_event)
    assert result == {"batchItemFailures": []}
    assert _tasks() == []


def test_a_bad_message_fails_alone(aws: Aws) -> None:
    broken = {"messageId": "broken", "receiptHandle": "r", "body": "{not json", "attributes": {}}
    result = _deliver(_message("MP4_264_360p/good.mp4"), broken)
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert len(_tasks()) == 1


def test_s3_notification_to_sqs_to_ingest(aws: Aws) -> None:
    """The real event path in moto: the bucket notifies the queue, the ingest function reads it."""
    import boto3

    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.s3.put_bucket_notification_configuration(
        Bucket=aws.input_bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    aws.s3.put_object(Bucket=aws.input_bucket, Key="MP4_265_480p/trip to the sea+more.mp4", Body=b"x" * 10)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    records = [
        {"messageId": m["MessageId"], "receiptHandle": "r", "body": m["Body"], "attributes": {}} for m in messages
    ]
    assert _deliver(*records) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert task.input == f"s3://{aws.input_bucket}/MP4_265_480p/trip to the sea+more.mp4"
    assert task.objkey == "trip to the sea+more.mp4"
