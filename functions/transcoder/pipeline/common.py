"""What every step of the pipeline does alike: enter its status, find the task's storages, give up a task
that ended under it."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from botocore.exceptions import ClientError

from transcoder import endpoints, repository, storage, storage_secrets, storages
from transcoder.errors import (
    InputNotFound,
    InputOverLimits,
    StatusConflict,
    TaskError,
    TranscodeFailed,
    TransientStorageError,
)
from transcoder.locations import S3Location
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.info import MediaInfo
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.pipeline.payloads import SOURCE, EncodedFiles, EncodeEvent, ObjectRef, TaskRef, TranscodedResult
from transcoder.settings import settings
from transcoder.status import Status
from transcoder.template_rules import OutputOverLimits, TemplateRuleError
from transcoder.templates import Template

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_URL_SECONDS = 900
"""Lifetime of the presigned URLs ffprobe and ffmpeg read inputs through (beyond the step's own time)."""


def location(ref: ObjectRef) -> S3Location:
    return S3Location(bucket=ref["bucket"], key=ref["key"])


def work_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/"


def enter(task_id: str, status: Status) -> None:
    if not repository.move(task_id, status):
        raise StatusConflict(f"task {task_id} is cancelled or already finished; not moving to {status}")


def enter_running(task_id: str) -> None:
    """`enter(task_id, RUNNING)` for steps that run side by side (chunks, audio, join): the first moves the
    task to running, the others join it there and keep its progress."""
    if not repository.touch_running(task_id):
        enter(task_id, Status.RUNNING)


def abandon(task_id: str, step: str) -> NoReturn:
    """The task was cancelled, ended or deleted while a step worked on it: its work files go, the step stops.

    The step cleans up itself: on AWS a cancel stops the execution, so no RecordFailure follows.
    """
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    raise StatusConflict(f"task {task_id} was cancelled, ended or deleted during {step}; its work was discarded")


def storage_of(event: TaskRef, storage_id: str, failure: type[TaskError]) -> storages.Storage:
    """The task's storage, looked up by id: the state machine's payload never carries keys."""
    found = storages.find(event.get("account_id", DEFAULT_ACCOUNT), storage_id)
    if found is None:
        raise failure(f"storage {storage_id} no longer exists")
    return found


def client_of(found: storages.Storage, failure: type[TaskError]) -> "S3Client":
    try:
        return storages.s3_client_of(found)
    except endpoints.RefusedEndpoint as exc:
        raise failure(f"storage {found.storage_id}: endpoint {exc}") from exc
    except (storage_secrets.SecretUnavailable, storages.StorageRefused) as exc:
        raise failure(f"storage {found.storage_id}: {exc}") from exc


def reader(event: TaskRef, storage_id: str | None) -> "S3Client | None":
    """The client that reads an input of a storage (its endpoint and keys); None: this deployment's own."""
    if not storage_id:
        return None
    return client_of(storage_of(event, storage_id, InputNotFound), InputNotFound)


_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".flv": "video/x-flv",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
}


def content_type(name: str) -> str:
    return _CONTENT_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def planned_encode(payload: EncodeEvent) -> tuple[MediaInfo, EncodePlan]:
    """The probed source and the task's encode plan for it (see encode_plan_for)."""
    media = MediaInfo.from_dict(payload[SOURCE]["media"])
    logo = payload[SOURCE].get("logo")
    size = (logo["width"], logo["height"]) if logo else None
    return media, encode_plan_for(Template.from_dict(payload["template"]), media, size)


def input_urls(payload: EncodeEvent, lifetime_seconds: int) -> tuple[str, str | None]:
    """Presigned URLs ffmpeg reads the source (the version Download pinned, through its storage) and the
    staged logo through."""
    staged = payload[SOURCE]["staged"]
    client = reader(payload, staged.get("storage_id"))
    source_url = storage.presign(location(staged), lifetime_seconds, staged.get("version_id"), client=client)
    logo = payload[SOURCE].get("logo")
    return source_url, storage.presign(location(logo), lifetime_seconds) if logo else None


def stage_output(task_id: str, folder: str, media: MediaInfo) -> TranscodedResult:
    """Upload the encoded output (every file of `folder`: one, or an HLS playlist and its segments) to the task's
    work folder, where Upload delivers it from; `media` is its probe, its size made the sum of its files."""
    prefix = work_prefix(task_id) + "output/"
    files = sorted(os.listdir(folder))
    for name in files:
        target = S3Location(settings().work_bucket, prefix + name)
        storage_call(storage.upload, os.path.join(folder, name), target, content_type(name))
    size = sum(os.path.getsize(os.path.join(folder, name)) for name in files)
    encoded = EncodedFiles(bucket=settings().work_bucket, prefix=prefix, files=files)
    return TranscodedResult(encoded=encoded, media=replace(media, size_bytes=size).to_dict())


def encode_plan_for(template: Template, media: MediaInfo, logo_input: tuple[int, int] | None) -> EncodePlan:
    """The encode plan, or the task's failure when the template or its output is refused before encoding."""
    try:
        return plan_encode(template, media, logo_input, limits=settings().output_limits)
    except TemplateRuleError as exc:
        raise TranscodeFailed(
            f"template {template.name!r} does not pass today's template rules ({exc}); change it with update_template"
        ) from exc
    except OutputOverLimits as exc:
        raise InputOverLimits(f"input is too large for template {template.name!r}: {exc}") from exc


@contextmanager
def scratch_dir(task_id: str) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix=f"{task_id}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def storage_call(function: Callable[..., None], *args: Any) -> None:
    try:
        function(*args)
    except ClientError as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"{function.__name__}: {storage.error_code(exc)}") from exc
        raise
