"""Deliver one callback message: the task's query_task view, signed with the SK of the key that created it."""

import json
from dataclasses import dataclass
from typing import Any

from transcoder import metrics
from transcoder.auth import keys
from transcoder.callbacks import delivery, signature
from transcoder.models import TaskModel
from transcoder.tasks import task_view


class Unsignable(Exception):
    """The key that created the task is unknown, disabled, or of another account: nothing can be signed."""


@dataclass(frozen=True)
class Callback:
    event_id: str
    task: TaskModel


def parse(body: str) -> Callback:
    message: dict[str, Any] = json.loads(body)
    return Callback(event_id=str(message["event_id"]), task=TaskModel.from_raw_data(message["task"]))


def payload(task: TaskModel) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(task_view(task), separators=(",", ":"), ensure_ascii=False).encode()


def send(callback: Callback) -> delivery.Delivered:
    """POST the callback; each attempt is counted delivered or failed (CallbacksDelivered, CallbackFailures)."""
    try:
        delivered = _send(callback)
    except (delivery.Refused, delivery.NotDelivered, Unsignable):
        metrics.callback_failed(callback.task.task_id)
        raise
    metrics.callback_delivered(callback.task.task_id)
    return delivered


def _send(callback: Callback) -> delivery.Delivered:
    task = callback.task
    found = keys.enabled_secret(task.callback_key_id) if task.callback_key_id else None
    if found is None or found[0] != task.account_id:
        raise Unsignable(f"access key {task.callback_key_id or '(none)'} cannot sign callbacks of this task")
    body = payload(task)
    return delivery.post(task.callback_url, body, signature.headers(body, found[1], callback.event_id))
