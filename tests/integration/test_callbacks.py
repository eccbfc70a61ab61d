"""Callbacks and events against moto: real stream records → notify → EventBridge + queue → callback → receiver."""

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from localmode.functions import LocalContext
from localmode.streams import lambda_record
from tests.emf import metric_lines
from tests.integration.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, Aws
from tests.integration.test_api_handler import _call
from tests.receiver import Receiver, ReceiverServer
from transcoder import metric_names, repository
from transcoder.auth import keys
from transcoder.callbacks import backoff
from transcoder.callbacks.signature import verify
from transcoder.models import TaskModel
from transcoder.status import Status

VALID = {"input": "s3://test-input/a.mp4", "output": "a", "template_name": "MP4_264_360p"}


@pytest.fixture(scope="module")
def receiver_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverServer]:
    server = ReceiverServer(tmp_path_factory.mktemp("receiver"))
    yield server
    server.stop()


@pytest.fixture
def receiver(receiver_server: ReceiverServer, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    """The receiver, reachable: its network trusted and its certificate in the CA bundle."""
    receiver_server.state.received.clear()
    receiver_server.state.status = 200
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("CA_BUNDLE", str(receiver_server.state.cert))
    return receiver_server.state


@dataclass
class Wiring:
    """What the CDK app wires: the task table's stream, the callbacks queue and its DLQ, an event rule's queue."""

    stream_arn: str
    callbacks: str
    dead_letters: str
    events: str
    iterator: str = ""

    def stream_records(self) -> list[dict[str, Any]]:
        """New records of the task table's stream, as Lambda passes them."""
        streams = boto3.client("dynamodbstreams")
        if not self.iterator:
            shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]
            self.iterator = streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        answer = streams.get_records(ShardIterator=self.iterator)
        self.iterator = answer["NextShardIterator"]
        return [lambda_record(r, self.stream_arn) for r in answer["Records"]]

    def receive(self, queue_url: str, wait: int = 0) -> list[dict[str, Any]]:
        messages = boto3.client("sqs").receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return messages.get("Messages", [])


@pytest.fixture
def wiring(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Wiring:
    dynamodb, sqs, events = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("events")
    table = dynamodb.update_table(
        TableName=TaskModel.Meta.table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    urls = {name: sqs.create_queue(QueueName=f"test-{name}")["QueueUrl"] for name in ("callbacks", "dlq", "events")}
    events_arn = sqs.get_queue_attributes(QueueUrl=urls["events"], AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="task-events", EventPattern=json.dumps({"source": ["transcoder"]}))
    events.put_targets(Rule="task-events", Targets=[{"Id": "q", "Arn": events_arn["QueueArn"]}])
    monkeypatch.setenv("CALLBACK_QUEUE_URL", urls["callbacks"])
    monkeypatch.setenv("CALLBACK_DEAD_LETTER_QUEUE_URL", urls["dlq"])
    return Wiring(table["LatestStreamArn"], urls["callbacks"], urls["dlq"], urls["events"])


def _context(name: str) -> LocalContext:
    return LocalContext(name, 512, f"arn:aws:lambda:us-east-1:123456789012:function:{name}", 30)


def _notify(records: list[dict[str, Any]]) -> dict[str, Any]:
    from handlers.notify import handler

    result: dict[str, Any] = handler({"Records": records}, _context("notify"))
    return result


def _callback(messages: list[dict[str, Any]], *, sent_ago: float = 0) -> dict[str, Any]:
    """The callback function on received messages, as Lambda's SQS mapping passes them."""
    from handlers.callback import handler

    records = []
    for message in messages:
        attributes = dict(message["Attributes"])
        if sent_ago:
            attributes["SentTimestamp"] = str(int((time.time() - sent_ago) * 1000))
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test-callbacks",
            }
        )
    result: dict[str, Any] = handler({"Records": records}, _context("callback"))
    return result


def _create(callback_url: str | None) -> str:
    body = {**VALID, **({"callback_url": callback_url} if callback_url else {})}
    status, answer = _call("POST", "/api/create_task", body)
    assert (status, answer["code"]) == (200, 0), answer
    return str(answer["data"]["task_id"])


def _finish(task_id: str) -> None:
    for status in (Status.DOWNLOADING, Status.RUNNING, Status.UPLOADING):
        assert repository.move(task_id, status)
    assert repository.move(task_id, Status.SUCCESS, dst_bitrate=512.5, dst_width=640, dst_height=360)


def _events(wiring: Wiring) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in wiring.receive(wiring.events, wait=1)]


# --- create_task ---------------------------------------------------------------------------------------------


def test_create_task_stores_the_callback_url_and_the_signing_key(aws: Aws) -> None:
    task_id = _create("https://hooks.example.com/transcoder?token=abc")
    task = repository.get(task_id)
    assert task is not None
    assert (task.callback_url, task.callback_key_id) == (
        "https://hooks.example.com/transcoder?token=abc",
        TEST_ACCESS_KEY_ID,
    )
    assert "callback_url" not in _call("GET", f"/api/query_task?task_id={task_id}")[1]["data"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must be https"),
        ("ftp://hooks.example.com/x", "must be https"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://@hooks.example.com/x", "credentials"),
        ("https://hooks..example.com/x", "invalid host"),
        ("https://hooks example.com/x", "spaces or control characters"),
        ("https://-bad.example.com/x", "invalid host"),
        ("https:///x", "no host"),
        ("https://hooks.example.com:99999/x", "invalid port"),
        ("https://hooks.example.com/" + "a" * 2100, "at most 2048"),
    ],
)
def test_bad_callback_urls_are_refused_with_1002(aws: Aws, url: str, reason: str) -> None:
    status, answer = _call("POST", "/api/create_task", {**VALID, "callback_url": url})
    assert (status, answer["code"]) == (400, 1002), answer
    assert answer["msg"].startswith("bad param: callback_url"), answer["msg"]
    assert reason in answer["msg"], answer["msg"]
    assert list(TaskModel.scan()) == []


# --- notify: the stream → events and callback messages ---------------------------------------------------------


def test_success_publishes_an_event_and_queues_the_callback(aws: Aws, wiring: Wiring) -> None:
    task_id = _create("https://hooks.example.com/t")
    _finish(task_id)
    records = wiring.stream_records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "MODIFY", "MODIFY", "MODIFY"]
    assert _notify(records) == {"batchItemFailures": []}

    events = _events(wiring)
    assert len(events) == 1, events
    event = events[0]
    assert (event["source"], event["detail-type"]) == ("transcoder", "Task Status Change")
    detail = event["detail"]
    assert (detail["task_id"], detail["status"], detail["event_id"]) == (task_id, "success", f"{task_id}:success")
    assert (detail["account_id"], detail["dst_width"], detail["dst_bitrate"]) == ("default", 640, 512.5)
    assert not {"input_url", "output_url", "callback_url", "callback_key_id"} & set(detail)

    queued = wiring.receive(wiring.callbacks)
    assert len(queued) == 1
    message = json.loads(queued[0]["Body"])
    assert message["event_id"] == f"{task_id}:success"
    assert message["task"]["status"] == {"S": "success"}


def test_every_terminal_path_is_announced_once(aws: Aws, wiring: Wiring) -> None:
    """cancel_task and del_task (through the API), RecordFailure's fail, a rejected drop; no callback URL."""
    cancelled, deleted, failed = _create(None), _create(None), _create(None)
    assert _call("POST", "/api/cancel_task", {"task_id": cancelled})[1]["code"] == 0
    assert _call("DELETE", "/api/del_task", {"task_id": deleted})[1]["code"] == 0
    assert repository.move(failed, Status.FAIL, err_code=2002, err_message="not a media file")
    from transcoder.locations import S3Location
    from transcoder.tasks import record_rejected_task, resolve_storage

    dropped = record_rejected_task(
        S3Location("test-input", "nope/x.mp4"), "x", "nope", resolve_storage("default", "default"),
        account_id="default", err_code=1002, message="no template 'nope'",
    )  # fmt: skip
    # A retried stream batch, and writes after the end, must not announce anything twice.
    assert not repository.move(cancelled, Status.FAIL)
    records = wiring.stream_records()
    assert _notify(records) == {"batchItemFailures": []}
    assert _notify(records) == {"batchItemFailures": []}  # redelivered: receivers deduplicate by event id
    announced: dict[str, list[str]] = {}
    for event in _events(wiring) + _events(wiring):
        announced.setdefault(event["detail"]["event_id"], []).append(event["detail"]["status"])
    assert set(announced) == {
        f"{cancelled}:cancelled", f"{deleted}:cancelled", f"{failed}:fail", f"{dropped.task_id}:fail"
    }  # fmt: skip
    assert all(len(statuses) == 2 for statuses in announced.values()), announced
    assert wiring.receive(wiring.callbacks) == []


def test_non_terminal_records_are_ignored_even_unfiltered(aws: Aws, wiring: Wiring) -> None:
    task_id = _create("https://hooks.example.com/t")
    assert repository.move(task_id, Status.DOWNLOADING)
    assert _notify(wiring.stream_records()) == {"batchItemFailures": []}
    assert _events(wiring) == []
    assert wiring.receive(wiring.callbacks) == []


# --- callback: delivery, retries, refusals ---------------------------------------------------------------------


def _queued_callback(wiring: Wiring, url: str) -> tuple[str, list[dict[str, Any]]]:
    task_id = _create(url)
    _finish(task_id)
    assert _notify(wiring.stream_records()) == {"batchItemFailures": []}
    messages = wiring.receive(wiring.callbacks)
    assert len(messages) == 1
    return task_id, messages


def test_callback_is_delivered_signed_with_the_creating_key(aws: Aws, wiring: Wiring, receiver: Receiver) -> None:
    task_id, messages = _queued_callback(wiring, f"{receiver.url}/hook?token=abc")
    assert _callback(messages) == {"batchItemFailures": []}
    assert len(receiver.received) == 1
    post = receiver.received[0]
    headers = {k.lower(): v for k, v in post.headers.items()}
    assert post.path == "/hook?token=abc"
    assert headers["x-transcoder-signature"].startswith("sha256=")
    assert verify(post.body, TEST_SECRET_ACCESS_KEY, headers["x-transcoder-signature"])
    assert not verify(post.body + b" ", TEST_SECRET_ACCESS_KEY, headers["x-transcoder-signature"])
    assert headers["x-transcoder-event-id"] == f"{task_id}:success"
    payload = json.loads(post.body)
    view = _call("GET", f"/api/query_task?task_id={task_id}")[1]["data"]
    assert set(payload) == set(view)
    assert {k: v for k, v in payload.items() if not k.endswith("_url")} == {
        k: v for k, v in view.items() if not k.endswith("_url")
    }
    assert payload["output_url"].split("?")[0] == view["output_url"].split("?")[0]
    assert TEST_SECRET_ACCESS_KEY.encode() not in post.body
    assert wiring.receive(wiring.dead_letters) == []


def test_a_failing_receiver_is_retried_later_with_backoff(aws: Aws, wiring: Wiring, receiver: Receiver) -> None:
    receiver.status = 500
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    result = _callback(messages)
    assert result == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert len(receiver.received) == 1
    # Hidden for the first backoff delay (30 s), not the queue's visibility timeout: nothing to receive now.
    assert wiring.receive(wiring.callbacks) == []
    assert wiring.receive(wiring.dead_letters) == []
    # Made visible again (as the delay would), the next attempt is delivered.
    receiver.status = 204
    boto3.client("sqs").change_message_visibility(
        QueueUrl=wiring.callbacks, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    again = wiring.receive(wiring.callbacks)
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    assert _callback(again) == {"batchItemFailures": []}
    assert len(receiver.received) == 2
    event_id = json.loads(again[0]["Body"])["event_id"]
    assert [r.headers["X-Transcoder-Event-Id"] for r in receiver.received] == [event_id, event_id]


def test_a_callback_still_failing_after_24_hours_goes_to_the_dead_letter_queue(
    aws: Aws, wiring: Wiring, receiver: Receiver
) -> None:
    receiver.status = 503
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    assert _callback(messages, sent_ago=backoff.MAX_AGE_SECONDS - 10) == {"batchItemFailures": []}
    assert len(receiver.received) == 1
    dead = wiring.receive(wiring.dead_letters)
    assert len(dead) == 1
    assert dead[0]["Body"] == messages[0]["Body"]
    assert "within 24 h" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8"])
def test_a_callback_to_loopback_is_refused_unless_trusted(
    aws: Aws, wiring: Wiring, receiver: Receiver, monkeypatch: pytest.MonkeyPatch, trusted: str
) -> None:
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", trusted)
    assert _callback(messages) == {"batchItemFailures": []}
    assert receiver.received == []
    dead = wiring.receive(wiring.dead_letters)
    assert "non-public address (127.0.0.1)" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data/", "https://[::ffff:169.254.169.254]/x"])
def test_a_callback_to_the_metadata_service_is_refused(aws: Aws, wiring: Wiring, receiver: Receiver, url: str) -> None:
    status, answer = _call("POST", "/api/create_task", {**VALID, "callback_url": url})
    assert (status, answer["code"]) == (400, 1002) and "callback_url" in answer["msg"], answer
    # A task that holds such a URL anyway (stored before the request-time rule) is refused at delivery.
    task_id = _create(f"{receiver.url}/hook")
    task = repository.get(task_id)
    assert task is not None
    task.update(actions=[TaskModel.callback_url.set(url)])
    _finish(task_id)
    assert _notify(wiring.stream_records()) == {"batchItemFailures": []}
    messages = wiring.receive(wiring.callbacks)
    assert _callback(messages) == {"batchItemFailures": []}
    dead = wiring.receive(wiring.dead_letters)
    assert "non-public address" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


def test_a_host_that_resolves_to_loopback_is_refused(aws: Aws, wiring: Wiring, receiver: Receiver,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """A public-looking name is checked by the addresses it resolves to, not by its spelling."""
    _, messages = _queued_callback(wiring, f"https://localhost:{receiver.url.rsplit(':', 1)[1]}/hook")
    monkeypatch.delenv("TRUSTED_INPUT_NETWORKS")
    assert _callback(messages) == {"batchItemFailures": []}
    assert receiver.received == []
    assert "non-public address" in wiring.receive(wiring.dead_letters)[0]["MessageAttributes"]["reason"]["StringValue"]


def test_a_disabled_key_signs_nothing(aws: Aws, wiring: Wiring, receiver: Receiver) -> None:
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    keys.set_status(TEST_ACCESS_KEY_ID, keys.DISABLED)
    assert _callback(messages) == {"batchItemFailures": []}
    assert receiver.received == []
    dead = wiring.receive(wiring.dead_letters)
    assert "cannot sign" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


def test_callback_attempts_are_counted_delivered_failed_and_abandoned(
    aws: Aws, wiring: Wiring, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    assert _callback(messages) == {"batchItemFailures": []}
    receiver.status = 503
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    _callback(messages)
    _, messages = _queued_callback(wiring, f"{receiver.url}/hook")
    _callback(messages, sent_ago=backoff.MAX_AGE_SECONDS - 10)
    counted = [line.name for line in metric_lines(capsys.readouterr().out) if line.name.startswith("Callback")]
    assert counted == [
        metric_names.CALLBACKS_DELIVERED,
        metric_names.CALLBACK_FAILURES,
        metric_names.CALLBACK_FAILURES,
        metric_names.CALLBACKS_ABANDONED,
    ]
