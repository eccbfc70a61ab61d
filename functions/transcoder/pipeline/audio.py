"""EncodeAudio: the chunked path's audio, encoded once from the whole source beside the video map.

AAC frames do not split at chunk boundaries, so the audio is never chunked: one ffmpeg reads only the
audio stream (the demuxer skips the video packets) and Join muxes the result in.
"""

import os
from typing import Any

from transcoder import repository, storage
from transcoder.media.binaries import ffmpeg_path
from transcoder.media.chunk_encode import audio_command
from transcoder.media.encode import run_ffmpeg
from transcoder.media.watcher import EncodeStopped
from transcoder.pipeline.chunking import AUDIO_NAME, chunk_location
from transcoder.pipeline.common import (
    READ_URL_SECONDS,
    abandon,
    enter_running,
    input_urls,
    planned_encode,
    scratch_dir,
    storage_call,
)
from transcoder.pipeline.payloads import AudioEvent, AudioResult, ObjectRef, parse

UPLOAD_MARGIN_SECONDS = 20.0


def encode_audio(event: dict[str, Any], remaining_seconds: float) -> AudioResult:
    """Encode the source's audio with the template's settings into the task's chunks/ folder."""
    payload = parse(AudioEvent, event)
    task_id = payload["task_id"]
    enter_running(task_id)
    media, plan = planned_encode(payload)
    source_url, _ = input_urls(payload, int(remaining_seconds) + READ_URL_SECONDS)
    target = chunk_location(task_id, AUDIO_NAME)
    with scratch_dir(task_id) as scratch:
        local_audio = os.path.join(scratch, AUDIO_NAME)
        try:
            run_ffmpeg(
                audio_command(plan, ffmpeg_path(), source_url, local_audio),
                source=source_url,
                duration=media.duration,
                timeout_seconds=max(1.0, remaining_seconds - UPLOAD_MARGIN_SECONDS),
                keep_going=lambda: repository.still_wanted(task_id),
            )
        except EncodeStopped:
            abandon(task_id, "the audio encode")
        storage_call(storage.upload, local_audio, target, "audio/mp4")
    # A cancel the watcher did not see before ffmpeg ended: the audio just written must not stay behind.
    if not repository.still_wanted(task_id):
        abandon(task_id, "the audio encode")
    return AudioResult(audio=ObjectRef(bucket=target.bucket, key=target.key))
