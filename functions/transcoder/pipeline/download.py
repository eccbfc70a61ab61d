"""Download: probe the input and check it against the limits; stage what Transcode reads."""

from typing import Any

from botocore.exceptions import BotoCoreError

from transcoder import fetch, repository, storage
from transcoder.errors import InputNotDecodable, InputNotFound, InputOverLimits
from transcoder.locations import S3Location
from transcoder.logo import stage_logo
from transcoder.media.probe import probe, validate_source
from transcoder.pipeline.common import READ_URL_SECONDS, abandon, as_dict, enter, location, reader, work_prefix
from transcoder.settings import settings
from transcoder.status import Status
from transcoder.templates import Template


def download(event: dict[str, Any]) -> dict[str, Any]:
    """Probe the input and check it against the limits; pin the version the next steps read.

    A dropped file's input names the version its upload created; any other s3 input pins the version
    current now.
    """
    task_id = event["task_id"]
    enter(task_id, Status.DOWNLOADING)
    config = settings()
    if "url" in event["input"]:
        # Fetched once, with every hop checked, into the work bucket; then probed like any object.
        source = S3Location(config.work_bucket, work_prefix(task_id) + "source")
        fetch.stage(event["input"]["url"], source, config.max_input_bytes)
    else:
        source = location(event["input"])
    input_reader = None if "url" in event["input"] else reader(event, event["input"])
    try:
        info = storage.head_input(source, input_reader, version_id=event["input"].get("version_id"))
    except BotoCoreError as exc:
        if input_reader is None:
            raise
        # botocore has retried already; a storage's endpoint that stays unreachable is the user's to fix.
        raise InputNotFound(f"input {source.url}: the storage's endpoint is not reachable") from exc
    if info.size == 0:
        raise InputNotDecodable(f"input {source.url} is empty (0 bytes)")
    if info.size > config.max_input_bytes:
        raise InputOverLimits(f"input is {info.size} bytes; the limit is {config.max_input_bytes} bytes")

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
    staged = {**as_dict(source), "version_id": info.version_id}
    if input_reader is not None:
        staged["storage_id"] = event["input"]["storage_id"]
    result: dict[str, Any] = {"staged": staged, "media": media.to_dict()}
    logo_path = Template.from_dict(event["template"]).logo_path
    if logo_path:
        # Fetched once here, where https is already fetched with every hop checked; Transcode reads the copy.
        result["logo"] = stage_logo(logo_path, S3Location(config.work_bucket, work_prefix(task_id) + "logo.rgba"))
    if not repository.still_wanted(task_id):
        abandon(task_id, "download")
    return result
