"""Drop-a-file: S3 "object created" notifications become tasks (api.md, "Drop-a-file trigger").

Only keys under the drop prefix (`drop/`, settings.drop_prefix) are drops; every other key of the input
bucket is left alone (an input for create_task, say). `drop/<template_name>/<path/name.ext>` is transcoded
with that template to `<path/name>` plus the template's extension in the `default` storage;
`drop/<name.ext>` uses the operator's default template. A drop that names no known template (or sits
directly under `drop/` with no default template set), or whose output would leave the storage's prefix,
becomes a task that ends `fail` at once, with err_code 1002 and a message naming the problem.
Each task reads the object version its notification announced, not whatever the key holds later.
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
    version_id: str | None = None
    """The object version S3 created (versioned buckets): the one the task transcodes."""

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
        # A bucket whose versioning is suspended writes the version "null": no version to pin then.
        raw_version = obj.get("versionId")
        version_id = str(raw_version) if raw_version and raw_version != "null" else None
        version = version_id or obj.get("sequencer") or obj.get("eTag") or ""
        created.append(
            DroppedObject(
                bucket=s3["bucket"]["name"],
                # S3 sends keys form-encoded: '+' is a space, '%2B' a plus.
                key=unquote_plus(obj["key"]),
                size=int(obj.get("size") or 0),
                version=str(version),
                version_id=version_id,
            )
        )
    return created


def ignore_reason(dropped: DroppedObject, drop_prefix: str) -> str | None:
    """Why an object is not a file to transcode (nothing is created for it), or None."""
    if not is_drop(dropped.key, drop_prefix):
        # The bucket's notification passes only the drop prefix; a wider one must still not make tasks.
        return f"outside {drop_prefix!r}: not a drop"
    if dropped.key.endswith("/"):
        return "folder marker"
    if dropped.size == 0:
        return "zero-byte object"
    return None


def is_drop(key: str, drop_prefix: str) -> bool:
    return bool(drop_prefix) and key.startswith(drop_prefix) and key != drop_prefix


@dataclass(frozen=True)
class Route:
    template_name: str
    output: str
    by_default: bool
    """Directly under the drop prefix: the operator's default template (empty when unset)."""


def route(key: str, drop_prefix: str, default_template: str) -> Route | None:
    """Which template a drop asks for, and the output key (without the template's extension); None: not a drop."""
    if not is_drop(key, drop_prefix):
        return None
    relative = key.removeprefix(drop_prefix)
    folder, _, rest = relative.partition("/")
    by_default = not rest
    name, path = (default_template, relative) if by_default else (folder, rest)
    stem, dot, extension = path.rpartition(".")
    output = stem if dot and stem and "/" not in extension else path
    return Route(template_name=name, output=output, by_default=by_default)


class NotADrop(ValueError):
    """A key outside the drop prefix reached the ingest: a caller's bug, never a task."""


def create_task_for_drop(dropped: DroppedObject) -> TaskModel:
    """The same "create task" call the API makes; a key that cannot be served ends as a failed task."""
    config = settings()
    where = route(dropped.key, config.drop_prefix, config.default_template)
    if where is None:
        raise NotADrop(f"{dropped.key!r} is not under {config.drop_prefix!r}")
    location = S3Location(dropped.bucket, dropped.key)
    # The version the notification announced, so a later upload of the same key is not what gets encoded.
    source: tasks.Source = tasks.ObjectVersion(location, dropped.version_id) if dropped.version_id else location
    storage = tasks.resolve_storage(tasks.DEFAULT_STORAGE_ID, DROP_ACCOUNT)
    try:
        check_key(dropped.key)
        template = (
            template_store.find(name=where.template_name, account_id=DROP_ACCOUNT) if where.template_name else None
        )
        if template is None:
            raise tasks.InvalidParameter("template", _unknown_template(dropped.key, where, config.drop_prefix))
        return tasks.create_task_for(source, where.output, template, storage, account_id=DROP_ACCOUNT)
    except tasks.InvalidParameter as exc:
        logger.warning("dropped file rejected", extra={"key": dropped.key, "reason": str(exc)})
        reason = exc.reason if exc.field == "template" else str(exc)
    except ValueError as exc:
        reason = str(exc)
    return tasks.record_rejected_task(
        location,
        where.output,
        where.template_name,
        storage,
        account_id=DROP_ACCOUNT,
        err_code=REJECTED_ERR_CODE,
        message=f"bad param: {reason}",
    )


def _unknown_template(key: str, where: Route, drop_prefix: str) -> str:
    if where.by_default and not where.template_name:
        return f"{key!r} names no template: drop it as {drop_prefix}<template_name>/… (no default template is set)"
    if where.by_default:
        return f"default template {where.template_name!r} (for {key!r}) is not a template name"
    return f"folder {where.template_name!r} of {key!r} is not a template name"


def describe(task: TaskModel) -> dict[str, Any]:
    return {"task_id": task.task_id, "status": task.status, "err_code": int(task.err_code or 0)}
