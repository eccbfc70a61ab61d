"""Transcode: encode the staged input with the task's template into the work bucket."""

import os
import posixpath
import time
from typing import Any

from transcoder import metrics, repository
from transcoder.errors import InputNotDecodable
from transcoder.media.encode import ProgressCallback, run_encode
from transcoder.media.info import MediaInfo
from transcoder.media.probe import probe
from transcoder.media.watcher import EncodeStopped
from transcoder.pipeline.common import (
    READ_URL_SECONDS,
    abandon,
    enter,
    input_urls,
    planned_encode,
    scratch_dir,
    stage_output,
)
from transcoder.pipeline.payloads import TranscodedResult, TranscodeEvent, parse
from transcoder.status import RUNNING_PROGRESS_SPAN, Status

PROGRESS_INTERVAL_SECONDS = 2.0
UPLOAD_MARGIN_SECONDS = 30.0


def transcode(event: dict[str, Any], remaining_seconds: float, *, step: str = "Transcode") -> TranscodedResult:
    """Encode the staged input with the task's template into the work bucket.

    `step` names where it runs in the EncodeSpeed metric: the Transcode function, or the Fargate worker.
    """
    payload = parse(TranscodeEvent, event)
    task_id = payload["task_id"]
    enter(task_id, Status.RUNNING)
    media, plan = planned_encode(payload)
    # Files are named as they will be delivered: an HLS playlist refers to its segments by name.
    output_name = posixpath.basename(payload["destination"]["key"])

    # ffmpeg encodes while the input arrives; only the output is written to /tmp.
    source_url, logo_url = input_urls(payload, int(remaining_seconds) + READ_URL_SECONDS)
    with scratch_dir(task_id) as scratch:
        local_output = os.path.join(scratch, output_name)
        started = time.monotonic()
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
        encoded_in = time.monotonic() - started
        result = probe(local_output)
        check_complete(source=media, encoded=result)
        metrics.encode_speed(step, task_id=task_id, media_seconds=result.duration, wall_seconds=encoded_in)
        staged = stage_output(task_id, scratch, result)
    if not repository.still_wanted(task_id):
        abandon(task_id, "transcoding")
    return staged


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
