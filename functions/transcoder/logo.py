"""A template's logo watermark: read once per task (https with SSRF checks, or s3:// of a readable
bucket), checked, staged as raw RGBA.

The Download step stages it beside the task's other work files; Transcode overlays it. Whatever goes
wrong ends the task with LogoNotUsable (2005) and a message saying what, never with the input's codes.
"""

from typing import Any

from botocore.exceptions import ClientError

from transcoder import fetch, storage, storages
from transcoder.errors import LogoNotUsable, TaskError, TransientStorageError
from transcoder.locations import S3Location, parse_s3_url
from transcoder.media.logo import decode_logo
from transcoder.settings import settings

MAX_LOGO_BYTES = 5 * 1024 * 1024


def _read_s3(url: str, account_id: str) -> bytes:
    location = parse_s3_url(url)
    if location.bucket not in settings().readable_buckets:
        raise LogoNotUsable(f"logo bucket {location.bucket!r} is not readable by this service")
    refused = storages.own_object_refusal(account_id, location)
    if refused:
        # Checked at add_template too; a template stored before that check must not read them either.
        raise LogoNotUsable(f"logo: {refused}")
    info = storage.head_input(location)
    if info.size > MAX_LOGO_BYTES:
        raise LogoNotUsable(f"logo is {info.size} bytes; the limit is {MAX_LOGO_BYTES} bytes")
    try:
        return storage.read_bytes(location, info.version_id)
    except ClientError as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"reading the logo: {storage.error_code(exc)}") from exc
        raise LogoNotUsable(f"logo {location.url} could not be read ({storage.error_code(exc)})") from exc


def _read(url: str, account_id: str) -> bytes:
    try:
        if url.startswith("s3://"):
            return _read_s3(url, account_id)
        return fetch.read(url, MAX_LOGO_BYTES, subject="logo")
    except LogoNotUsable:
        raise
    except TaskError as exc:
        # Fetching and head_input speak of an input; the task's input is fine, its logo is not.
        message = str(exc)
        raise LogoNotUsable("logo" + message.removeprefix("input") if message.startswith("input") else message) from exc


def stage_logo(url: str, destination: S3Location, *, account_id: str) -> dict[str, Any]:
    """Fetch, check and store the logo; returns where it is and its pixel size, for the Transcode step."""
    image = decode_logo(_read(url, account_id))
    try:
        storage.put_bytes(image.rgba, destination)
    except ClientError as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"staging the logo: {storage.error_code(exc)}") from exc
        raise
    return {"bucket": destination.bucket, "key": destination.key, "width": image.width, "height": image.height}
