"""Upload: write the encoded files to the destination storage and mark the task a success."""

import logging
import posixpath
from typing import TYPE_CHECKING, Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from transcoder import repository, storage
from transcoder.errors import SUCCESS_CODE, OutputWriteFailed, TransientStorageError
from transcoder.locations import S3Location
from transcoder.media.info import MediaInfo
from transcoder.pipeline.common import abandon, client_of, enter, storage_of, work_prefix
from transcoder.pipeline.payloads import TRANSCODED, DeliveredResult, UploadEvent, parse
from transcoder.settings import settings
from transcoder.status import Status
from transcoder.storages import DEFAULT_STORAGE_ID

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)


def upload(event: dict[str, Any]) -> DeliveredResult:
    """Write the encoded file to the destination storage and mark the task a success."""
    payload = parse(UploadEvent, event)
    task_id = payload["task_id"]
    enter(task_id, Status.UPLOADING)
    encoded = payload[TRANSCODED]["encoded"]
    result = MediaInfo.from_dict(payload[TRANSCODED]["media"])
    requested = payload["destination"]
    target = storage_of(payload, requested.get("storage_id", DEFAULT_STORAGE_ID), OutputWriteFailed)
    # Written where the storage keeps the account's objects (executions started before `objkey` was passed
    # carry it as `key`).
    destination = target.location_of(requested.get("objkey", requested["key"]))
    folder = posixpath.dirname(destination.key)
    # Within this account a server-side copy; to another account or endpoint the bytes go through here.
    writer = None if target.is_own_account else client_of(target, OutputWriteFailed)
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
        abandon(task_id, "upload")
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    return DeliveredResult(status=Status.SUCCESS.value, objkey=destination.key)


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
