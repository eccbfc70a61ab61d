"""Which runner encodes a task: one Lambda, chunks on Lambda (a Distributed Map), or the Fargate worker.

One rule, with its thresholds as settings (`chunk_min_input_seconds`, `lambda_max_output_mib`):
- an output estimated larger than a Lambda's /tmp can stage (`lambda_max_output_mib`; Transcode and Join
  both hold the whole output there) runs on the worker, whose storage is `worker_ephemeral_storage_gib`;
- an input up to `chunk_min_input_seconds` runs in one Lambda;
- a longer one runs in chunks, when its keyframes let it be cut into more than one;
- one that cannot be cut (its only keyframes a chunk apart or more) would be one whole-file encode longer
  than a Lambda should run: the worker.
"""

import re

from transcoder.media.encode_plan import EncodePlan
from transcoder.media.info import MediaInfo
from transcoder.pipeline.payloads import Runner

BITS_PER_PIXEL = {"libx264": 0.10, "libx265": 0.07}
"""Bits per output pixel per frame a CRF encode spends, generously (720p30 H.264 at CRF 23 is about 0.05
on film, more on noise): the estimate must err towards the larger output."""
DEFAULT_BITS_PER_PIXEL = 0.15


def estimated_output_bytes(plan: EncodePlan, media: MediaInfo) -> int:
    """The output's size, estimated before encoding: a capped bitrate's worth, or pixels x bits per pixel."""
    arguments = " ".join([*plan.video_args, *(a for args in plan.variant_video_args for a in args)])
    caps = [int(kbps) for kbps in re.findall(r"-maxrate (\d+)k", arguments)]
    rate = float(plan.output_rate) if plan.output_rate else (media.video.fps if media.video else 30.0)
    if caps:
        video_bits_per_second = float(sum(caps)) * 1000
    else:
        codec = next((name for name in BITS_PER_PIXEL if name in arguments), "")
        video_bits_per_second = plan.width * plan.height * rate * BITS_PER_PIXEL.get(codec, DEFAULT_BITS_PER_PIXEL)
    audio_kbps = [int(kbps) for kbps in re.findall(r"-b:a (\d+)k", " ".join(plan.audio_args))]
    audio_bits_per_second = (sum(audio_kbps) * 1000) if plan.has_audio else 0
    return int((video_bits_per_second + audio_bits_per_second) * media.duration / 8)


def choose_runner(
    *,
    duration_seconds: float,
    output_bytes: int,
    chunks: int,
    chunk_min_input_seconds: float,
    lambda_max_output_bytes: int,
) -> Runner:
    """The runner for a task (module docstring); `chunks`: how many chunks its keyframes allow (1: none)."""
    if output_bytes > lambda_max_output_bytes:
        return "fargate"
    if duration_seconds <= chunk_min_input_seconds:
        return "lambda"
    return "chunks" if chunks > 1 else "fargate"
