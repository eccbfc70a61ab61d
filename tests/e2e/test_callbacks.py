"""Callbacks and events through local mode: a task with a callback URL ends, one signed POST arrives.

Its own local mode, started as an operator would to call back to this machine: trusting 127.0.0.1/32
(TRANSCODER_SETTINGS → the CDK context) and the receiver's self-signed certificate (CA_BUNDLE). The shared
`local` keeps the default, untrusting posture.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest

from tests.e2e.conftest import Local, start_local
from tests.receiver import Receiver, ReceiverServer
from transcoder.callbacks.signature import verify
from transcoder_client.signing import signed_headers

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    server = ReceiverServer(tmp_path_factory.mktemp("receiver"))
    yield server.state
    server.stop()


@pytest.fixture(scope="module")
def trusting_local(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Local]:
    environment = {
        "TRANSCODER_SETTINGS": json.dumps({"trusted_input_networks": ["127.0.0.1/32"]}),
        "CA_BUNDLE": str(receiver.cert),
    }
    with start_local(tmp_path_factory.mktemp("callbacks-local"), environment) as started:
        yield started


def _signed(local: Local, method: str, target: str, body: Any = None) -> dict[str, Any]:
    payload = json.dumps(body).encode() if body is not None else b""
    url = urlsplit(target)
    headers = signed_headers(
        access_key_id=local.access_key_id,
        secret_access_key=local.secret_access_key,
        method=method,
        path=url.path,
        query=parse_qsl(url.query, keep_blank_values=True),
        body=payload or None,
    )
    request = urllib.request.Request(local.api_url + target, data=payload or None, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http://127.0.0.1
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read() or b"{}")
    assert answer.get("code") == 0, answer
    return answer


def _events_queue(local: Local) -> str:
    """An SQS queue subscribed to the default bus's transcoder events, as an operator's rule would be."""
    sqs = boto3.client("sqs", endpoint_url=local.aws_url)
    events = boto3.client("events", endpoint_url=local.aws_url)
    url = sqs.create_queue(QueueName="e2e-task-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="e2e-task-events", EventPattern=json.dumps({"source": ["transcoder"]}))
    events.put_targets(Rule="e2e-task-events", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def test_a_task_with_a_callback_url_is_posted_once_signed(
    trusting_local: Local, receiver: Receiver, clips: dict[str, Path]
) -> None:
    local = trusting_local
    events_queue = _events_queue(local)
    input_url = local.upload(clips["silent"], "callbacks/silent.mp4")
    created = _signed(
        local,
        "POST",
        "/api/create_task",
        {
            "input": input_url,
            "output": "callbacks/silent",
            "template_name": "MP4_264_360p",
            "callback_url": f"{receiver.url}/hooks/transcoder?token=t0k",
        },
    )
    task_id = created["data"]["task_id"]
    deadline = time.monotonic() + 300
    while (final := _signed(local, "GET", f"/api/query_task?task_id={task_id}")["data"])["status"] not in (
        "success", "fail", "cancelled"
    ):  # fmt: skip
        assert time.monotonic() < deadline, final
        time.sleep(0.2)
    assert final["status"] == "success", final

    deadline = time.monotonic() + 60
    while not receiver.received:
        assert time.monotonic() < deadline, "no callback arrived"
        time.sleep(0.2)
    time.sleep(3)  # a second (duplicate) POST would have arrived by now
    assert len(receiver.received) == 1, receiver.received
    post = receiver.received[0]
    assert post.path == "/hooks/transcoder?token=t0k"
    headers = {k.lower(): v for k, v in post.headers.items()}
    assert verify(post.body, local.secret_access_key, headers["x-transcoder-signature"])
    assert not verify(post.body, "x" * 32, headers["x-transcoder-signature"])
    assert headers["x-transcoder-event-id"] == f"{task_id}:success"
    assert headers["content-type"] == "application/json"

    posted = json.loads(post.body)
    # The presigned URLs are made at delivery, so their signatures differ from query_task's; the objects don't.
    for name in ("input_url", "output_url"):
        assert posted[name].split("?")[0] == final[name].split("?")[0], name
        assert "X-Amz-Signature=" in posted[name]
    # The callback carries the task as its `success` write left it; `cost` grows once more after that write (the
    # last step is charged as its invocation returns), and query_task read it after the write.
    assert 0 < posted["cost"] <= final["cost"]
    made_later = ("input_url", "output_url", "cost")
    assert {k: v for k, v in posted.items() if k not in made_later} == {
        k: v for k, v in final.items() if k not in made_later
    }

    sqs = boto3.client("sqs", endpoint_url=local.aws_url)
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not any(e["detail"]["task_id"] == task_id for e in found):
        assert time.monotonic() < deadline, found
        for message in sqs.receive_message(QueueUrl=events_queue, WaitTimeSeconds=1).get("Messages", []):
            found.append(json.loads(message["Body"]))
    event = next(e for e in found if e["detail"]["task_id"] == task_id)
    assert (event["source"], event["detail-type"]) == ("transcoder", "Task Status Change")
    assert event["detail"]["status"] == "success"
    assert event["detail"]["event_id"] == f"{task_id}:success"
    assert "output_url" not in event["detail"]
