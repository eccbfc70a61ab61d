"""What a terminal transition becomes: an EventBridge event, and a callback message when the task has a URL."""

import json
import os
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3

from transcoder.callbacks.transitions import event_id
from transcoder.models import TaskModel
from transcoder.tasks import task_fields

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EVENT_SOURCE = "transcoder"
DETAIL_TYPE = "Task Status Change"


class NotPublished(Exception):
    """EventBridge refused the entry; the stream record is retried."""


@cache
def _events() -> Any:  # EventBridge's type stubs are not among the project's dev dependencies
    return boto3.client("events")


@cache
def _sqs() -> "SQSClient":
    return boto3.client("sqs")


def callback_queue_url() -> str:
    url = os.environ.get("CALLBACK_QUEUE_URL", "")
    if not url:
        raise RuntimeError("CALLBACK_QUEUE_URL is not set: the queue of callbacks to deliver")
    return url


def event_detail(task: TaskModel) -> dict[str, Any]:
    """The task as query_task shows it, minus the presigned URLs: events fan out to any rule's targets,
    archives and logs, where a bearer URL to the customer's media must not travel. The account lets rules
    route one account's events; the event id lets targets deduplicate."""
    return {
        **task_fields(task),
        "account_id": task.account_id,
        "event_id": event_id(task.task_id, task.status),
    }


def publish(task: TaskModel) -> None:
    """One event on the default bus (`source: transcoder`, `detail-type: Task Status Change`)."""
    answer = _events().put_events(
        Entries=[{"Source": EVENT_SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(event_detail(task))}]
    )
    if answer.get("FailedEntryCount"):
        failure = answer["Entries"][0]
        raise NotPublished(f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")


def callback_message(task_image: dict[str, Any], task: TaskModel) -> dict[str, Any]:
    """The stream's image of the task travels with the message: the callback is the task as it ended,
    even if it is deleted (del_task) before delivery. Presigned URLs are made at delivery, so they are
    fresh however late a retry comes."""
    return {"event_id": event_id(task.task_id, task.status), "task": task_image}


def queue_callback(task_image: dict[str, Any], task: TaskModel) -> None:
    _sqs().send_message(QueueUrl=callback_queue_url(), MessageBody=json.dumps(callback_message(task_image, task)))
