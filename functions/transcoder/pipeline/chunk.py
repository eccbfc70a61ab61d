"""EncodeChunk: one iteration of the Distributed Map encodes one chunk of the source, video only.

ffmpeg reads the chunk's own range straight from the source through a presigned URL (the seek the
Plan chose lands on a keyframe, so nothing before it is fetched or decoded) and writes a short MP4,
which goes to the task's chunks/ folder for Join.
"""

import os
import time
from typing import Any

from transcoder import metrics, repository, storage
from transcoder.errors import InputNotDecodable
from transcoder.media.binaries import ffmpeg_path
from transcoder.media.chunk_encode import chunk_command_in, chunk_file_names
from transcoder.media.chunk_plan import Chunk
from transcoder.media.encode import run_ffmpeg
from transcoder.media.probe import video_frame_times
from transcoder.media.watcher import EncodeStopped
from transcoder.pipeline.chunking import chunk_location, chunk_of, describe
from transcoder.pipeline.common import (
    READ_URL_SECONDS,
    abandon,
    enter_running,
    input_urls,
    planned_encode,
    scratch_dir,
    storage_call,
)
from transcoder.pipeline.payloads import ChunkEvent, ChunkResult, parse

UPLOAD_MARGIN_SECONDS = 20.0


TIMESTAMP_TOLERANCE = 0.001
"""A chunk keeps the source's timestamps, rounded to its own time base (1/12,800 s and finer)."""


def check_chunk(chunk: Chunk, frame_times: list[float]) -> None:
    """The chunk holds its own frames, all of them: a damaged stretch of the source decodes short without an
    ffmpeg error, and `-frames:v` then takes the missing frames from the next chunk's part of the source."""
    own = [t for t in frame_times if float(chunk.first_frame_time) - TIMESTAMP_TOLERANCE <= t < float(chunk.end)]
    if len(own) != chunk.frames or len(frame_times) != chunk.frames:
        raise InputNotDecodable(
            f"input is truncated or damaged: {len(own)} of the chunk's {chunk.frames} frames could be decoded"
        )


def encode_chunk(event: dict[str, Any], remaining_seconds: float) -> ChunkResult:
    """Encode the event's chunk into the task's chunks/ folder and count it done."""
    payload = parse(ChunkEvent, event)
    task_id = payload["task_id"]
    enter_running(task_id)
    _, plan = planned_encode(payload)
    chunk = chunk_of(payload["chunk"])
    source_url, logo_url = input_urls(payload, int(remaining_seconds) + READ_URL_SECONDS)
    names = chunk_file_names(plan, chunk)
    with scratch_dir(task_id) as scratch:
        started = time.monotonic()
        try:
            run_ffmpeg(
                chunk_command_in(plan, chunk, ffmpeg_path(), source_url, scratch, logo_url),
                source=source_url,
                duration=float(chunk.output_duration),
                timeout_seconds=max(1.0, remaining_seconds - UPLOAD_MARGIN_SECONDS),
                logo=logo_url,
                keep_going=lambda: repository.still_wanted(task_id),
            )
        except EncodeStopped:
            abandon(task_id, describe(payload["chunk"]))
        encoded_in = time.monotonic() - started
        for name in names:  # one file, or one per variant of a ladder
            check_chunk(chunk, video_frame_times(os.path.join(scratch, name)))
        metrics.encode_speed(
            "EncodeChunk", task_id=task_id, media_seconds=float(chunk.output_duration), wall_seconds=encoded_in
        )
        for name in names:
            storage_call(storage.upload, os.path.join(scratch, name), chunk_location(task_id, name), "video/mp4")
    if not repository.count_chunk_done(task_id, payload["total"]):
        abandon(task_id, describe(payload["chunk"]))
    return ChunkResult(index=chunk.index, files=names)
