"""The chunked path on one machine: index, plan, encode every chunk, encode the audio, join.

Each step is the argument list a distributed run uses (chunk_encode, chunk_join); this runs them in
turn, for tests, the benchmark and local tools. It does not stream progress or watch for cancels:
that belongs to the steps that will run chunks as separate invocations.
"""

import math
import os
import subprocess
from dataclasses import dataclass
from fractions import Fraction

from transcoder.errors import TranscodeFailed
from transcoder.media.chunk_encode import audio_command, chunk_command
from transcoder.media.chunk_join import concat_list, join_command
from transcoder.media.chunk_plan import Chunk, plan_chunks
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.keyframes import KeyframeIndex
from transcoder.media.sources import redact


def chunk_length(plan: EncodePlan, chunk_seconds: float) -> float:
    """HLS: a whole number of segments, so chunk boundaries fall on the segment grid when the source allows."""
    if not plan.hls_segment_seconds:
        return chunk_seconds
    segment = plan.hls_segment_seconds
    return float(max(1, math.floor(chunk_seconds / segment + 0.5)) * segment)


def plan_for(plan: EncodePlan, index: KeyframeIndex, chunk_seconds: float, **options: float) -> list[Chunk]:
    rate = Fraction(plan.output_rate) if plan.output_rate else None
    return plan_chunks(index.frames, chunk_length(plan, chunk_seconds), output_rate=rate, **options)


@dataclass(frozen=True)
class ChunkedRun:
    chunks: list[Chunk]
    commands: list[list[str]]
    """Every ffmpeg run, in order: the chunks, the audio (when any), the join."""


def run_chunked(
    plan: EncodePlan,
    index: KeyframeIndex,
    source: str,
    destination: str,
    workdir: str,
    chunks: list[Chunk],
    *,
    ffmpeg: str,
    logo: str | None = None,
) -> ChunkedRun:
    """Encode `chunks` of `source` and join them into `destination`. Raises TranscodeFailed naming the step."""
    names = [f"chunk_{chunk.index:05d}.mp4" for chunk in chunks]
    commands = [
        chunk_command(plan, chunk, ffmpeg, source, os.path.join(workdir, name), logo)
        for chunk, name in zip(chunks, names, strict=True)
    ]
    audio_path = os.path.join(workdir, "audio.m4a") if plan.has_audio else None
    if audio_path is not None:
        commands.append(audio_command(plan, ffmpeg, source, audio_path))
    list_path = os.path.join(workdir, "chunks.ffconcat")
    with open(list_path, "w", encoding="utf-8") as listing:
        listing.write(concat_list(chunks, names))
    commands.append(
        join_command(
            plan,
            ffmpeg,
            list_path,
            destination,
            audio_path=audio_path,
            video_start=index.frames.start,
            audio_start=index.audio_start or Fraction(0),
        )
    )
    labels = [f"chunk {chunk.index} ({chunk.time_range})" for chunk in chunks]
    labels += ["audio"] * (audio_path is not None) + ["join"]
    for label, command in zip(labels, commands, strict=True):
        result = subprocess.run([command[0], "-loglevel", "error", *command[1:]], capture_output=True, text=True)
        if result.returncode != 0:
            detail = redact(result.stderr.strip()[-400:], source)
            raise TranscodeFailed(f"{label}: ffmpeg exited with code {result.returncode}: {detail}")
    return ChunkedRun(chunks=chunks, commands=commands)
