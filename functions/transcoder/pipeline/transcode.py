"""Transcode: encode the staged input with the task's template into the work bucket."""

import os
import posixpath
import time
from dataclasses import replace
from typing import Any

from transcoder import repository, storage
from transcoder.errors import InputNotDecodable
from transcoder.locations import S3Location
from transcoder.media.encode import ProgressCallback, run_encode
from transcoder.media.info import MediaInfo
from transcoder.media.probe import probe
from transcoder.media.watcher import EncodeStopped
from transcoder.pipeline.common import (
    READ_URL_SECONDS,
    abandon,
    content_type,
    encode_plan_for,
    enter,
    location,
    reader,
    scratch_dir,
    storage_call,
    work_prefix,
)
from transcoder.pipeline.payloads import SOURCE, EncodedFiles, TranscodedResult, TranscodeEvent, parse
from transcoder.settings import settings
from transcoder.status import RUNNING_PROGRESS_SPAN, Status
from transcoder.templates import Template

PROGRESS_INTERVAL_SECONDS = 2.0
UPLOAD_MARGIN_SECONDS = 30.0


def transcode(event: dict[str, Any], remaining_seconds: float) -> TranscodedResult:
    """Encode the staged input with the task's template into the work bucket."""
    payload = parse(TranscodeEvent, event)
    task_id = payload["task_id"]
    enter(task_id, Status.RUNNING)
    template = Template.from_dict(payload["template"])
    media = MediaInfo.from_dict(payload[SOURCE]["media"])
    logo = payload[SOURCE].get("logo")
    plan = encode_plan_for(template, media, (logo["width"], logo["height"]) if logo else None)
    # Files are named as they will be delivered: an HLS playlist refers to its segments by name.
    output_name = posixpath.basename(payload["destination"]["key"])
    encoded_prefix = work_prefix(task_id) + "output/"

    staged = payload[SOURCE]["staged"]
    # ffmpeg encodes while the input arrives; only the output is written to /tmp.
    lifetime = int(remaining_seconds) + READ_URL_SECONDS
    input_reader = reader(payload, staged.get("storage_id"))
    source_url = storage.presign(location(staged), lifetime, staged.get("version_id"), client=input_reader)
    logo_url = storage.presign(location(logo), lifetime) if logo else None
    with scratch_dir(task_id) as scratch:
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
            abandon(task_id, "transcoding")
        result = probe(local_output)
        check_complete(source=media, encoded=result)
        files = sorted(os.listdir(scratch))
        for name in files:
            target = S3Location(settings().work_bucket, encoded_prefix + name)
            storage_call(storage.upload, os.path.join(scratch, name), target, content_type(name))
        total_bytes = sum(os.path.getsize(os.path.join(scratch, name)) for name in files)
    if not repository.still_wanted(task_id):
        abandon(task_id, "transcoding")
    result = replace(result, size_bytes=total_bytes)
    encoded = EncodedFiles(bucket=settings().work_bucket, prefix=encoded_prefix, files=files)
    return TranscodedResult(encoded=encoded, media=result.to_dict())


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
