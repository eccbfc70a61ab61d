"""A template's logo watermark: fetched once per task (SSRF-checked), checked, staged as raw RGBA.

The Download step stages it beside the task's other work files; Transcode overlays it. Whatever goes
wrong ends the task with LogoNotUsable (2005) and a message saying what, never with the input's codes.
"""

from typing import Any

from transcoder import fetch, storage
from transcoder.errors import LogoNotUsable, TaskError, TransientStorageError
from transcoder.locations import S3Location
from transcoder.media.logo import decode_logo

MAX_LOGO_BYTES = 5 * 1024 * 1024


def stage_logo(url: str, destination: S3Location) -> dict[str, Any]:
    """Fetch, check and store the logo; returns where it is and its pixel size, for the Transcode step."""
    try:
        data = fetch.read(url, MAX_LOGO_BYTES, subject="logo")
    except TaskError as exc:
        # The fetch speaks of an input; the task's input is fine, its logo is not.
        raise LogoNotUsable(str(exc)) from exc
    image = decode_logo(data)
    try:
        storage.put_bytes(image.rgba, destination)
    except Exception as exc:
        if storage.is_transient(exc):
            raise TransientStorageError(f"staging the logo: {exc}") from exc
        raise
    return {"bucket": destination.bucket, "key": destination.key, "width": image.width, "height": image.height}
