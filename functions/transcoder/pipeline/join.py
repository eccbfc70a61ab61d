"""Join: the encoded chunks and the once-encoded audio become the template's output, by stream copy.

Nothing is re-encoded here: the chunks carry identical codec parameters (chunk_encode), so the concat
demuxer copies them one after another, each placed by its exact duration, and the audio is muxed in.
The output goes to the work bucket like a single-pass Transcode's, and Upload delivers it the same way.
"""

import json
import os
import posixpath
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any

from transcoder import repository, storage
from transcoder.errors import InputNotDecodable
from transcoder.media.binaries import ffmpeg_path
from transcoder.media.chunk_encode import chunk_file_names
from transcoder.media.chunk_join import join_step
from transcoder.media.encode import run_ffmpeg
from transcoder.media.probe import probe
from transcoder.media.watcher import EncodeStopped
from transcoder.pipeline.chunking import AUDIO_NAME, chunk_location, chunk_of
from transcoder.pipeline.common import (
    abandon,
    enter_running,
    location,
    planned_encode,
    scratch_dir,
    stage_output,
    storage_call,
)
from transcoder.pipeline.payloads import PLAN, ChunkItem, JoinEvent, TranscodedResult, parse
from transcoder.pipeline.transcode import check_complete

DOWNLOAD_THREADS = 16
"""Chunks fetched at once: S3 serves each GET at tens of MB/s, so parallel GETs fill the function's network."""
UPLOAD_MARGIN_SECONDS = 60.0


def join(event: dict[str, Any], remaining_seconds: float) -> TranscodedResult:
    """Join the task's chunks and audio into its output, in the work bucket."""
    payload = parse(JoinEvent, event)
    task_id = payload["task_id"]
    enter_running(task_id)
    media, plan = planned_encode(payload)
    planned = payload[PLAN]
    items: list[ChunkItem] = json.loads(storage.read_bytes(location(planned["items"])))
    chunks = [chunk_of(item) for item in items]
    names = [name for chunk in chunks for name in chunk_file_names(plan, chunk)]
    output_name = posixpath.basename(payload["destination"]["key"])
    with scratch_dir(task_id) as scratch:
        parts, output_dir = os.path.join(scratch, "chunks"), os.path.join(scratch, "output")
        os.makedirs(parts)
        os.makedirs(output_dir)
        wanted = [*names, AUDIO_NAME] if planned.get("audio") else names
        with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            list(pool.map(lambda name: _fetch(task_id, name, parts), wanted))
        local_output = os.path.join(output_dir, output_name)
        joining = join_step(
            plan,
            chunks,
            ffmpeg_path(),
            parts,
            local_output,
            audio_path=os.path.join(parts, AUDIO_NAME) if planned.get("audio") else None,
            video_start=Fraction(planned.get("video_start", "0")),
            audio_start=Fraction(planned.get("audio_start", "0")),
        )
        for path, text in joining.lists.items():
            with open(path, "w", encoding="utf-8") as listing:
                listing.write(text)
        try:
            run_ffmpeg(
                joining.command,
                source=parts,
                duration=media.duration,
                timeout_seconds=max(1.0, remaining_seconds - UPLOAD_MARGIN_SECONDS),
                keep_going=lambda: repository.still_wanted(task_id),
            )
        except EncodeStopped:
            abandon(task_id, "joining")
        result = probe(local_output)
        check_complete(source=media, encoded=result)
        expected = sum(chunk.frames for chunk in chunks)
        if result.video and result.video.frame_count is not None and result.video.frame_count != expected:
            raise InputNotDecodable(
                f"the joined video has {result.video.frame_count} frames where its chunks have {expected}"
            )
        staged = stage_output(task_id, output_dir, result)
    if not repository.still_wanted(task_id):
        abandon(task_id, "joining")
    return staged


def _fetch(task_id: str, name: str, folder: str) -> None:
    storage_call(storage.download, chunk_location(task_id, name), os.path.join(folder, name))
