"""Download: probe the input and check it against the limits; stage what Transcode reads."""

from typing import Any

from botocore.exceptions import BotoCoreError

from transcoder import fetch, repository, storage
from transcoder.errors import InputNotDecodable, InputNotFound, InputOverLimits
from transcoder.locations import S3Location
from transcoder.logo import stage_logo
from transcoder.media.probe import probe, validate_source
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.pipeline.common import READ_URL_SECONDS, abandon, enter, location, reader, work_prefix
from transcoder.pipeline.payloads import ExecutionInput, SourceResult, StagedInput, StagedLogo, parse
from transcoder.settings import settings
from transcoder.status import Status
from transcoder.templates import Template


def download(event: dict[str, Any]) -> SourceResult:
    """Probe the input and check it against the limits; pin the version the next steps read.

    A dropped file's input names the version its upload created; any other s3 input pins the version
    current now.
    """
    execution = parse(ExecutionInput, event)
    task_id = execution["task_id"]
    enter(task_id, Status.DOWNLOADING)
    config = settings()
    requested = execution["input"]
    if "url" in requested:
        # Fetched once, with every hop checked, into the work bucket; then probed like any object.
        source = S3Location(config.work_bucket, work_prefix(task_id) + "source")
        fetch.stage(requested["url"], source, config.max_input_bytes)
        storage_id, version_id = None, None
    else:
        source = location(requested)
        storage_id, version_id = requested.get("storage_id"), requested.get("version_id")
    input_reader = reader(execution, storage_id)
    try:
        info = storage.head_input(source, input_reader, version_id=version_id)
    except BotoCoreError as exc:
        if input_reader is None:
            raise
        # botocore has retried already; a storage's endpoint that stays unreachable is the user's to fix.
        raise InputNotFound(f"input {source.url}: the storage's endpoint is not reachable") from exc
    if info.size == 0:
        raise InputNotDecodable(f"input {source.url} is empty (0 bytes)")
    if info.size > config.max_input_bytes:
        raise InputOverLimits(
            f"input is {info.size} bytes; this service's limit (setting max_input_bytes)"
            f" is {config.max_input_bytes} bytes"
        )

    # ffprobe reads only the parts of the input it needs, through a short-lived URL of this version.
    media = probe(storage.presign(source, READ_URL_SECONDS, info.version_id, client=input_reader))
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
    staged = StagedInput(bucket=source.bucket, key=source.key, version_id=info.version_id)
    if storage_id:
        staged["storage_id"] = storage_id
    result = SourceResult(staged=staged, media=media.to_dict())
    logo_path = Template.from_dict(execution["template"]).logo_path
    if logo_path:
        # Fetched once here, where https is already fetched with every hop checked; Transcode reads the copy.
        staged_at = S3Location(config.work_bucket, work_prefix(task_id) + "logo.rgba")
        logo = stage_logo(logo_path, staged_at, account_id=execution.get("account_id", DEFAULT_ACCOUNT))
        result["logo"] = parse(StagedLogo, logo)
    if not repository.still_wanted(task_id):
        abandon(task_id, "download")
    return result
