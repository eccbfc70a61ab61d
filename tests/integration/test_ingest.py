"""The ingest function against moto: S3 notifications on SQS become tasks, each object version once."""

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.s3 import notifications as s3_notifications
from mypy_boto3_s3.type_defs import QueueConfigurationTypeDef

from infra.settings import DROP_PREFIX
from localmode.emulator import add_version_to_s3_events
from localmode.functions import LocalContext
from localmode.media import generate_clip, probe_file
from tests.integration.conftest import Aws
from transcoder import pipeline, repository, tasks
from transcoder.errors import InputNotFound
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
    assert _deliver(_message("drop/MP4_264_360p/my+holiday/clip.mp4")) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert task.status == "pending"
    assert task.input == "s3://test-input/drop/MP4_264_360p/my holiday/clip.mp4"
    assert (task.template_name, task.objkey, task.bucket) == ("MP4_264_360p", "my holiday/clip.mp4", "test-output")
    executions = aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"]
    assert [e["name"] for e in executions] == [task.task_id]


def tasks_arn() -> str:
    import os

    return os.environ["STATE_MACHINE_ARN"]


def test_a_key_directly_under_the_prefix_uses_the_default_template(aws: Aws) -> None:
    _deliver(_message("drop/clip.mov"))
    (task,) = _tasks()
    assert (task.template_name, task.objkey) == ("MP4_264_720p", "clip.mp4")


def test_same_version_twice_makes_one_task(aws: Aws) -> None:
    _deliver(_message("drop/MP4_264_360p/a.mp4", version="v1"))
    _deliver(_message("drop/MP4_264_360p/a.mp4", version="v1"), _message("drop/MP4_264_360p/a.mp4", version="v1"))
    assert len(_tasks()) == 1
    _deliver(_message("drop/MP4_264_360p/a.mp4", version="v2"))
    assert len(_tasks()) == 2, "a new version of the key is a new upload"


def test_concurrent_duplicates_make_one_task(aws: Aws) -> None:
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(8)

    def deliver() -> None:
        barrier.wait()
        results.append(_deliver(_message("drop/MP4_264_360p/race.mp4", version="same")))

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
    retried = _deliver(_message("drop/MP4_264_360p/race.mp4", version="same"))
    assert retried == {"batchItemFailures": []}
    assert len(_tasks()) == 1


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("drop/holiday/clip.mp4", "folder 'holiday'"),
        ("drop/MP4_264_360p/../../escape.mp4", "output"),
        ("drop/MP4_264_360p/a\x01b.mp4", "control characters"),
    ],
)
def test_unusable_keys_end_as_failed_tasks(aws: Aws, key: str, needle: str) -> None:
    assert _deliver(_message(key)) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert (task.status, task.err_code) == ("fail", 1002)
    assert needle in task.err_message
    assert task.finish_time > 0
    assert aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"] == []


@pytest.mark.parametrize("key", ["videos/clip.mp4", "MP4_264_360p/clip.mp4", "clip.mp4", "dropped/clip.mp4"])
def test_keys_outside_the_drop_prefix_make_nothing(aws: Aws, key: str) -> None:
    """Even when a notification wider than `drop/` delivers them: no task, no execution (so no event)."""
    assert _deliver(_message(key)) == {"batchItemFailures": []}
    assert _tasks() == []
    assert aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"] == []


def test_a_drop_without_template_and_no_default_fails_naming_the_convention(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transcoder.settings import settings

    monkeypatch.setenv("DEFAULT_TEMPLATE", "")
    settings.cache_clear()
    assert _deliver(_message("drop/clip.mp4")) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert (task.status, task.err_code) == ("fail", 1002)
    assert "drop/<template_name>/" in task.err_message


def test_a_default_template_that_names_no_template_fails_clearly(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder.settings import settings

    monkeypatch.setenv("DEFAULT_TEMPLATE", "MP4_264_9000p")
    settings.cache_clear()
    _deliver(_message("drop/clip.mp4"))
    (task,) = _tasks()
    assert (task.status, task.err_code) == ("fail", 1002)
    assert "default template 'MP4_264_9000p'" in task.err_message


def test_folders_empty_objects_and_test_events_create_nothing(aws: Aws) -> None:
    test_event = {"messageId": "t", "receiptHandle": "r", "attributes": {}}
    test_event["body"] = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "test-input"})
    result = _deliver(
        _message("drop/MP4_264_360p/", size=0), _message("drop/MP4_264_360p/empty.mp4", size=0), test_event
    )
    assert result == {"batchItemFailures": []}
    assert _tasks() == []


def test_a_bad_message_fails_alone(aws: Aws) -> None:
    broken = {"messageId": "broken", "receiptHandle": "r", "body": "{not json", "attributes": {}}
    result = _deliver(_message("drop/MP4_264_360p/good.mp4"), broken)
    assert result == {"batchItemFailures": [{"itemIdentifier": "broken"}]}
    assert len(_tasks()) == 1


@pytest.fixture
def queue_of_drops(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> str:
    """The input bucket notifies a queue as the CDK app declares it (created objects under `drop/`), with
    the version id and sequencer S3 adds and moto leaves out (the patch local mode runs with)."""
    monkeypatch.setattr(s3_notifications, "_get_s3_event", s3_notifications._get_s3_event)  # undone after the test
    add_version_to_s3_events()
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    only_drops: QueueConfigurationTypeDef = {
        "QueueArn": queue_arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": DROP_PREFIX}]}},
    }
    aws.s3.put_bucket_notification_configuration(
        Bucket=aws.input_bucket, NotificationConfiguration={"QueueConfigurations": [only_drops]}
    )
    return queue_url


def _receive_all(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [{"messageId": m["MessageId"], "receiptHandle": "r", "body": m["Body"], "attributes": {}} for m in messages]


def test_s3_notification_to_sqs_to_ingest(aws: Aws, queue_of_drops: str) -> None:
    """The real event path in moto: the bucket notifies the queue, the ingest function reads it."""
    aws.s3.put_object(Bucket=aws.input_bucket, Key="drop/MP4_265_480p/trip to the sea+more.mp4", Body=b"x" * 10)
    assert _deliver(*_receive_all(queue_of_drops)) == {"batchItemFailures": []}
    (task,) = _tasks()
    assert task.input == f"s3://{aws.input_bucket}/drop/MP4_265_480p/trip to the sea+more.mp4"
    assert task.objkey == "trip to the sea+more.mp4"


def test_uploads_outside_the_drop_prefix_never_reach_the_queue(aws: Aws, queue_of_drops: str) -> None:
    for key in ("videos/clip.mp4", "MP4_264_360p/clip.mp4", "clip.mp4", "dropped/clip.mp4"):
        aws.s3.put_object(Bucket=aws.input_bucket, Key=key, Body=b"x" * 10)
    delivered = _receive_all(queue_of_drops)
    # S3 sends one s3:TestEvent when the notification is configured; nothing else may arrive.
    assert [json.loads(m["body"]).get("Event") for m in delivered] == ["s3:TestEvent"]
    assert _deliver(*delivered) == {"batchItemFailures": []}
    assert _tasks() == []


@pytest.fixture(scope="module")
def two_clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("versions")
    first = generate_clip(str(folder / "first.mp4"), seconds=1, size="320x240", rate=25)
    second = generate_clip(str(folder / "second.mp4"), seconds=3, size="480x270", rate=25)
    return Path(first), Path(second)


def test_two_quick_uploads_of_one_key_each_transcode_their_own_version(
    aws: Aws, queue_of_drops: str, two_clips: tuple[Path, Path], tmp_path: Path
) -> None:
    """Both uploads land before either task reads its input: each task still encodes the bytes it was made for,
    and each task's output_url serves its own output though both wrote the same output key."""
    key = "drop/MP4_264_360p/again.mp4"
    versions = [
        aws.s3.put_object(Bucket=aws.input_bucket, Key=key, Body=clip.read_bytes())["VersionId"] for clip in two_clips
    ]
    assert _deliver(*_receive_all(queue_of_drops)) == {"batchItemFailures": []}
    executions = aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"]
    assert len(executions) == 2
    events = [json.loads(aws.sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions]
    by_version = {event["input"]["version_id"]: event for event in events}
    assert sorted(by_version) == sorted(versions)

    for version, clip in zip(versions, two_clips, strict=True):
        event = by_version[version]
        event["source"] = pipeline.download(event)
        event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
        source, encoded = probe_file(str(clip)), event["transcoded"]["media"]
        assert abs(encoded["duration"] - source.duration) < 0.1, (clip.name, encoded["duration"], source.duration)
        assert event["source"]["staged"]["version_id"] == version
        task = repository.get(event["task_id"])
        assert task is not None
        assert (task.src_width, task.src_height) == (source.width, source.height)
    # The first upload's task finishes last here: the key holds its output, the second task's URL still its own.
    for version in reversed(versions):
        pipeline.upload(by_version[version])
    for version, clip in zip(versions, two_clips, strict=True):
        view = tasks.task_view(repository.get(by_version[version]["task_id"]))  # type: ignore[arg-type]
        assert view["objkey"] == "again.mp4"
        assert requests.get(view["input_url"], timeout=30).content == clip.read_bytes()
        delivered = tmp_path / f"{version}.mp4"
        delivered.write_bytes(requests.get(view["output_url"], timeout=30).content)
        output, source = probe_file(str(delivered)), probe_file(str(clip))
        assert abs(output.duration - source.duration) < 0.1, (clip.name, output.duration, source.duration)
        assert (output.width, output.height) == (source.width, source.height)  # 360p never upscales


def test_a_dropped_version_deleted_before_the_task_reads_it_is_not_found(
    aws: Aws, queue_of_drops: str, two_clips: tuple[Path, Path]
) -> None:
    """Not silently the key's other version: the one the upload made, or a 2001."""
    key = "drop/MP4_264_360p/gone.mp4"
    first = aws.s3.put_object(Bucket=aws.input_bucket, Key=key, Body=two_clips[0].read_bytes())["VersionId"]
    aws.s3.put_object(Bucket=aws.input_bucket, Key=key, Body=two_clips[1].read_bytes())
    _deliver(*_receive_all(queue_of_drops))
    aws.s3.delete_object(Bucket=aws.input_bucket, Key=key, VersionId=first)
    executions = aws.sfn.list_executions(stateMachineArn=tasks_arn())["executions"]
    events = [json.loads(aws.sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in executions]
    (event,) = [e for e in events if e["input"]["version_id"] == first]
    with pytest.raises(InputNotFound, match=f"version {first}"):
        pipeline.download(event)
