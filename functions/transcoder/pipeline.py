"""The pipeline's steps: Download → Transcode → Upload, and recording a failure.

Each step first moves the task's status with a conditional write; if that write is
refused (the task was cancelled or already ended), the step stops with StatusConflict.
Steps pass what they learn to the next one through the state machine's payload.
"""

import json
import logging
import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from transcoder import endpoints, fetch, repository, storage, storage_secrets, storages
from transcoder.errors import (
    SUCCESS_CODE,
    InputNotDecodable,
    InputNotFound,
    InputOverLimits,
    OutputWriteFailed,
    StatusConflict,
    TaskError,
    TranscodeFailed,
    TransientStorageError,
    err_code_for,
)
from transcoder.locations import S3Location
from transcoder.logo import stage_logo
from transcoder.media.encode import ProgressCallback, run_encode
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.info import MediaInfo
from transcoder.media.probe import probe, validate_source
from transcoder.media.watcher import EncodeStopped
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.settings import settings
from transcoder.status import RUNNING_PROGRESS_SPAN, Status
from transcoder.storages import DEFAULT_STORAGE_ID
from transcoder.template_rules import OutputOverLimits, TemplateRuleError
from transcoder.templates import Template

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 2.0
READ_URL_SECONDS = 900
"""Lifetime of the presigned URLs ffprobe and ffmpeg read inputs through (beyond the step's own time)."""
UPLOAD_MARGIN_SECONDS = 30.0


def _location(data: dict[str, str]) -> S3Location:
    return S3Location(bucket=data["bucket"], key=data["key"])


def _as_dict(location: S3Location) -> dict[str, str]:
    return {"bucket": location.bucket, "key": location.key}


def work_prefix(task_id: str) -> str:
    return f"tasks/{task_id}/"


def _enter(task_id: str, status: Status) -> None:
    if not repository.move(task_id, status):
        raise StatusConflict(f"task {task_id} is cancelled or already finished; not moving to {status}")


def _abandon(task_id: str, step: str) -> NoReturn:
    """The task was cancelled, ended or deleted while a step worked on it: its work files go, the step stops.

    The step cleans up itself: on AWS a cancel stops the execution, so no RecordFailure follows.
    """
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    raise StatusConflict(f"task {task_id} was cancelled, ended or deleted during {step}; its work was discarded")


@contextmanager
def _scratch_dir(task_id: str) -> Iterator[str]:
    path = tempfile.mkdtemp(prefix=f"{task_id}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _storage_of(event: dict[str, Any], storage_id: str, failure: type[TaskError]) -> storages.Storage:
    """The task's storage, looked up by id: the state machine's payload never carries keys."""
    found = storages.find(event.get("account_id", DEFAULT_ACCOUNT), storage_id)
    if found is None:
        raise failure(f"storage {storage_id} no longer exists")
    return found


def _client_of(found: storages.Storage, failure: type[TaskError]) -> "S3Client":
    try:
        return storages.s3_client_of(found)
    except endpoints.RefusedEndpoint as exc:
        raise failure(f"storage {found.storage_id}: endpoint {exc}") from exc
    except (storage_secrets.SecretUnavailable, storages.StorageRefused) as exc:
        raise failure(f"storage {found.storage_id}: {exc}") from exc


def _reader(event: dict[str, Any], location: dict[str, Any]) -> "S3Client | None":
    """The client that reads an input of a storage (its endpoint and keys); None: this deployment's own."""
    storage_id = location.get("storage_id")
    if not storage_id:
        return None
    return _client_of(_storage_of(event, storage_id, InputNotFound), InputNotFound)


def download(event: dict[str, Any]) -> dict[str, Any]:
    """Probe the input and check it against the limits; pin the version the next steps read.

    A dropped file's input names the version its upload created; any other s3 input pins the version
    current now.
    """
    task_id = event["task_id"]
    _enter(task_id, Status.DOWNLOADING)
    config = settings()
    if "url" in event["input"]:
        # Fetched once, with every hop checked, into the work bucket; then probed like any object.
        source = S3Location(config.work_bucket, work_prefix(task_id) + "source")
        fetch.stage(event["input"]["url"], source, config.max_input_bytes)
    else:
        source = _location(event["input"])
    reader = None if "url" in event["input"] else _reader(event, event["input"])
    try:
        info = storage.head_input(source, reader, version_id=event["input"].get("version_id"))
    except BotoCoreError as exc:
        if reader is None:
            raise
        # botocore has retried already; a storage's endpoint that stays unreachable is the user's to fix.
        raise InputNotFound(f"input {source.url}: the storage's endpoint is not reachable") from exc
    if info.size == 0:
        raise InputNotDecodable(f"input {source.url} is empty (0 bytes)")
    if info.size > config.max_input_bytes:
        raise InputOverLimits(f"input is {info.size} bytes; the limit is {config.max_input_bytes} bytes")

    # ffprobe reads only the parts of the input it needs, through a short-lived URL of this version.
    media = probe(storage.presign(source, READ_URL_SECONDS, info.version_id, client=reader))
    video = validate_source(media, max_bytes=config.max_input_bytes, max_seconds=config.max_input_seconds)
    repository.move(
        task_id,
        Status.DOWNLOADING,
        src_bitrate=media.bitrate_kbps,
        duration=media.duration,
        src_width=video.display_width,
        src_height=video.display_height,
        src_size=media.size_bytes,
        input_version_id=info.version_id or "",
    )
    # An s3:// input stays where it is, its version pinning its bytes; an https:// one is in the work bucket.
    staged = {**_as_dict(source), "version_id": info.version_id}
    if reader is not None:
        staged["storage_id"] = event["input"]["storage_id"]
    result: dict[str, Any] = {"staged": staged, "media": media.to_dict()}
    logo_path = Template.from_dict(event["template"]).logo_path
    if logo_path:
        # Fetched once here, where https is already fetched with every hop checked; Transcode reads the copy.
        result["logo"] = stage_logo(logo_path, S3Location(config.work_bucket, work_prefix(task_id) + "logo.rgba"))
    if not repository.still_wanted(task_id):
        _abandon(task_id, "download")
    return result


def transcode(event: dict[str, Any], remaining_seconds: float) -> dict[str, Any]:
    """Encode the staged input with the task's template into the work bucket."""
    task_id = event["task_id"]
    _enter(task_id, Status.RUNNING)
    template = Template.from_dict(event["template"])
    media = MediaInfo.from_dict(event["source"]["media"])
    logo = event["source"].get("logo")
    plan = _plan(template, media, (int(logo["width"]), int(logo["height"])) if logo else None)
    # Files are named as they will be delivered: an HLS playlist refers to its segments by name.
    output_name = posixpath.basename(event["destination"]["key"])
    encoded_prefix = work_prefix(task_id) + "output/"

    staged = event["source"]["staged"]
    # ffmpeg encodes while the input arrives; only the output is written to /tmp.
    lifetime = int(remaining_seconds) + READ_URL_SECONDS
    reader = _reader(event, staged)
    source_url = storage.presign(_location(staged), lifetime, staged.get("version_id"), client=reader)
    logo_url = storage.presign(_location(logo), lifetime) if logo else None
    with _scratch_dir(task_id) as scratch:
        local_output = os.path.join(scratch, output_name)
        try:
            run_encode(
                plan,
                source_url,
                local_output,
                duration=media.duration,
                timeout_seconds=max(1.0, remaining_seconds - UPLOAD_MARGIN_SECONDS),
                on_progress=_progress_reporter(task_id),
                logo=logo_url,
                keep_going=lambda: repository.still_wanted(task_id),
            )
        except EncodeStopped:
            _abandon(task_id, "transcoding")
        result = probe(local_output)
        check_complete(source=media, encoded=result)
        files = sorted(os.listdir(scratch))
        for name in files:
            target = S3Location(settings().work_bucket, encoded_prefix + name)
            _storage_call(storage.upload, os.path.join(scratch, name), target, content_type(name))
        total_bytes = sum(os.path.getsize(os.path.join(scratch, name)) for name in files)
    if not repository.still_wanted(task_id):
        _abandon(task_id, "transcoding")
    result = replace(result, size_bytes=total_bytes)
    encoded = {"bucket": settings().work_bucket, "prefix": encoded_prefix, "files": files}
    return {"encoded": encoded, "media": result.to_dict()}


def _plan(template: Template, media: MediaInfo, logo_input: tuple[int, int] | None) -> EncodePlan:
    """The encode plan, or the task's failure when the template or its output is refused before encoding."""
    try:
        return plan_encode(template, media, logo_input, limits=settings().output_limits)
    except TemplateRuleError as exc:
        raise TranscodeFailed(
            f"template {template.name!r} does not pass today's template rules ({exc}); change it with update_template"
        ) from exc
    except OutputOverLimits as exc:
        raise InputOverLimits(f"input is too large for template {template.name!r}: {exc}") from exc


_CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".flv": "video/x-flv",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
}


def content_type(name: str) -> str:
    return _CONTENT_TYPES.get(os.path.splitext(name)[1].lower(), "application/octet-stream")


def check_complete(*, source: MediaInfo, encoded: MediaInfo) -> None:
    """A damaged or truncated input can decode partially without an ffmpeg error: compare durations."""
    allowed_shortfall = max(0.5, 0.02 * source.duration)
    if source.duration - encoded.duration > allowed_shortfall:
        decoded, expected = f"{encoded.duration:.2f}", f"{source.duration:.2f}"
        raise InputNotDecodable(f"input is truncated or damaged: only {decoded} s of its {expected} s could be decoded")


def _progress_reporter(task_id: str) -> ProgressCallback:
    low, high = RUNNING_PROGRESS_SPAN
    last_report = 0.0

    def report(fraction: float) -> None:
        nonlocal last_report
        if time.monotonic() - last_report >= PROGRESS_INTERVAL_SECONDS:
            last_report = time.monotonic()
            repository.report_progress(task_id, low + int((high - low) * fraction))

    return report


def upload(event: dict[str, Any]) -> dict[str, Any]:
    """Write the encoded file to the destination storage and mark the task a success."""
    task_id = event["task_id"]
    _enter(task_id, Status.UPLOADING)
    encoded = event["transcoded"]["encoded"]
    result = MediaInfo.from_dict(event["transcoded"]["media"])
    target = _storage_of(event, event["destination"].get("storage_id", DEFAULT_STORAGE_ID), OutputWriteFailed)
    # Written where the storage keeps the account's objects (executions started before `objkey` was passed
    # carry it as `key`).
    destination = target.location_of(event["destination"].get("objkey", event["destination"]["key"]))
    folder = posixpath.dirname(destination.key)
    # Within this account a server-side copy; to another account or endpoint the bytes go through here.
    writer = None if target.is_own_account else _client_of(target, OutputWriteFailed)
    # The version this task wrote at its output key: a later task writing the same key leaves it to this one.
    output_version = ""
    delivered: list[S3Location] = []
    versions: dict[S3Location, str] = {}
    try:
        for name in encoded["files"]:
            source = S3Location(encoded["bucket"], encoded["prefix"] + name)
            written = S3Location(destination.bucket, posixpath.join(folder, name))
            delivered.append(written)
            if writer is None:
                version = storage.copy(source, written)
                if version:
                    versions[written] = version
                if written == destination:
                    output_version = version or ""
            else:
                storage.transfer(source, written, writer)
    except S3UploadFailedError as exc:
        raise OutputWriteFailed(f"output could not be written to {destination.url}: {exc}") from exc
    except BotoCoreError as exc:
        if writer is None:
            raise
        raise OutputWriteFailed(f"output could not be written to {destination.url}: endpoint not reachable") from exc
    except ClientError as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"writing {destination.url}: {storage.error_code(exc)}") from exc
        raise OutputWriteFailed(f"output could not be written to {destination.url}: {storage.error_code(exc)}") from exc
    dst_bitrate = round(result.size_bytes * 8 / result.duration / 1000, 3) if result.duration else 0.0
    video = result.video
    moved = repository.move(
        task_id,
        Status.SUCCESS,
        dst_bitrate=dst_bitrate,
        dst_width=video.display_width if video else 0,
        dst_height=video.display_height if video else 0,
        dst_size=result.size_bytes,
        output_version_id=output_version,
        err_code=SUCCESS_CODE,
        err_message="success",
    )
    if not moved:
        current = repository.get(task_id)
        if current is None or current.status != Status.SUCCESS.value:
            # Cancelled, failed or deleted while copying: no output may stay for a task that is not `success`.
            _withdraw(delivered, writer, versions)
        _abandon(task_id, "upload")
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    return {"status": Status.SUCCESS.value, "objkey": destination.key}


def _withdraw(delivered: list[S3Location], writer: "S3Client | None", versions: dict[S3Location, str]) -> None:
    """Delete the objects an Upload wrote for a task that did not become `success`."""
    # The task stays as it ended either way; an operator finds what is left in the logs.
    try:
        refused = storage.delete_objects(delivered, writer, versions)
    except (BotoCoreError, ClientError):
        refused = [location.url for location in delivered]
        logger.warning("deleting the outputs of a task that is not success failed", exc_info=True)
    if refused:
        logger.warning("outputs of a task that is not success were left", extra={"objects": refused})


def record_failure(event: dict[str, Any]) -> dict[str, Any]:
    """The Catch target of every state: end the task as `fail` with a specific err_code."""
    task_id = event["task_id"]
    error = event.get("error") or {}
    error_name = str(error.get("Error", ""))
    err_code = err_code_for(error_name)
    message = _failure_message(error_name, str(error.get("Cause", "")), err_code)
    recorded = repository.move(task_id, Status.FAIL, err_code=err_code, err_message=message)
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    return {"task_id": task_id, "recorded": recorded, "err_code": err_code, "err_message": message}


def _failure_message(error_name: str, cause: str, err_code: int) -> str:
    try:
        detail = json.loads(cause)
    except (json.JSONDecodeError, TypeError):
        detail = {}
    message = detail.get("errorMessage") if isinstance(detail, dict) else None
    if error_name == "StatusConflict":
        return str(message or "task ended before the pipeline finished")
    if err_code == 3002 and not message:
        return "transcoding timed out: the step ran out of time"
    if err_code == 9000 or not message:
        # An unexpected error's text can hold internals; the logs keep it, the user gets a reference.
        return f"internal error ({error_name or 'unknown'}); the service's logs have the details"
    return str(message)


def _storage_call(function: Callable[..., None], *args: Any) -> None:
    try:
        function(*args)
    except ClientError as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"{function.__name__}: {storage.error_code(exc)}") from exc
        raise


__all__ = ["download", "record_failure", "transcode", "upload"]
