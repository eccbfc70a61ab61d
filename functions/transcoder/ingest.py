"""Drop-a-file: S3 "object created" notifications become tasks (api.md, "Drop-a-file trigger").

A key `<template_name>/<path/name.ext>` is transcoded with that template to `<path/name>` plus the
template's extension in the `default` storage; a key at the top level uses the operator's default
template when the operator set one (without it, top-level keys are inputs for create_task and make
no task). A key that names no known template, or whose output would leave the storage's prefix,
becomes a task that ends `fail` at once, with err_code 1002 and a message naming the problem.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from transcoder import tasks, template_store
from transcoder.locations import S3Location, check_key
from transcoder.models import DEFAULT_ACCOUNT, TaskModel
from transcoder.settings import settings

logger = logging.getLogger(__name__)

REJECTED_ERR_CODE = 1002
# Dropped files have no signed caller: their tasks and templates are the deployment's own account's.
DROP_ACCOUNT = DEFAULT_ACCOUNT
"""The contract's "bad param": what a file's key asks for cannot be done."""


@dataclass(frozen=True)
class DroppedObject:
    bucket: str
    key: str
    size: int
    version: str
    """What tells this upload from another of the same key: the version id, else the sequencer, else the ETag."""

    @property
    def idempotency_key(self) -> str:
        return f"{self.bucket}/{self.key}#{self.version}"


def parse_notification(body: str) -> list[DroppedObject]:
    """The created objects in one S3 notification (an SQS message body). Other events yield nothing."""
    message = json.loads(body)
    if not isinstance(message, dict) or message.get("Event") == "s3:TestEvent":
        return []
    created = []
    for record in message.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        version = obj.get("versionId") or obj.get("sequencer") or obj.get("eTag") or ""
        created.append(
            DroppedObject(
                bucket=s3["bucket"]["name"],
                # S3 sends keys form-encoded: '+' is a space, '%2B' a plus.
                key=unquote_plus(obj["key"]),
                size=int(obj.get("size") or 0),
                version=str(version),
            )
        )
    return created


def ignore_reason(dropped: DroppedObject, default_template: str) -> str | None:
    """Why an object is not a file to transcode (nothing is created for it), or None."""
    if dropped.key.endswith("/"):
        return "folder marker"
    if dropped.size == 0:
        return "zero-byte object"
    if "/" not in dropped.key and not default_template:
        return "top-level key and no default template: an input for create_task"
    return None


@dataclass(frozen=True)
class Route:
    template_name: str
    output: str


def route(key: str, default_template: str) -> Route:
    """Which template a key asks for, and the output key (without the template's extension)."""
    prefix, _, rest = key.partition("/")
    if not rest:
        name, path = default_template, key
    else:
        name, path = prefix, rest
    stem, dot, extension = path.rpartition(".")
    output = stem if dot and stem and "/" not in extension else path
    return Route(template_name=name, output=output)


def create_task_for_drop(dropped: DroppedObject) -> TaskModel:
    """The same "create task" call the API makes; a key that cannot be served ends as a failed task."""
    source = S3Location(dropped.bucket, dropped.key)
    storage = tasks.resolve_storage(tasks.DEFAULT_STORAGE_ID, DROP_ACCOUNT)
    where = route(dropped.key, settings().default_template)
    try:
        check_key(dropped.key)
        template = (
            template_store.find(name=where.template_name, account_id=DROP_ACCOUNT) if where.template_name else None
        )
        if template is None:
            raise tasks.InvalidParameter("template", _unknown_template(dropped.key, where.template_name))
        return tasks.create_task_for(source, where.output, template, storage, account_id=DROP_ACCOUNT)
    except tasks.InvalidParameter as exc:
        logger.warning("dropped file rejected", extra={"key": dropped.key, "reason": str(exc)})
        reason = exc.reason if exc.field == "template" else str(exc)
    except ValueError as exc:
        reason = str(exc)
    return tasks.record_rejected_task(
        source,
        where.output,
        where.template_name,
        storage,
        account_id=DROP_ACCOUNT,
        err_code=REJECTED_ERR_CODE,
        message=f"bad param: {reason}",
    )


def _unknown_template(key: str, name: str) -> str:
    if "/" not in key:
        return f"default template {name!r} (for top-level {key!r}) is not a template name"
    return f"prefix {name!r} of {key!r} is not a template name"


def describe(task: TaskModel) -> dict[str, Any]:
    return {"task_id": task.task_id, "status": task.status, "err_code": int(task.err_code or 0)}
