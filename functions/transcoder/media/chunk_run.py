"""The chunked path on one machine: index, plan, encode every chunk, encode the audio, join.

Each step is the argument list a distributed run uses (chunk_encode, chunk_join); this runs them in
turn, for tests, the benchmark and local tools. It does not stream progress or watch for cancels:
that belongs to the steps that will run chunks as separate invocations.
"""

import math
import os
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction

from transcoder.errors import TranscodeFailed
from transcoder.media.chunk_encode import audio_command, chunk_command_in, chunk_file_names
from transcoder.media.chunk_join import join_step
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
class ChunkedSteps:
    """The ffmpeg runs of a chunked encode: every chunk (independent of each other), the audio, then the join."""

    chunks: list[Chunk]
    chunk_commands: list[list[str]]
    """One command per chunk, whatever the plan (a ladder's chunk encodes every variant in one run)."""
    audio_command: list[str] | None
    join_command: list[str]
    chunk_files: list[list[str]] = field(default_factory=list)
    """Per chunk, the paths its command writes (`chunk_file_names` in the work folder)."""
    join_lists: dict[str, str] = field(default_factory=dict)
    """The concat lists the join reads (path → text), already written by `chunked_steps`."""

    def labelled(self) -> list[tuple[str, list[str]]]:
        steps = [
            (f"chunk {c.index} ({c.time_range})", cmd) for c, cmd in zip(self.chunks, self.chunk_commands, strict=True)
        ]
        if self.audio_command is not None:
            steps.append(("audio", self.audio_command))
        return [*steps, ("join", self.join_command)]


def chunked_steps(
    plan: EncodePlan,
    index: KeyframeIndex,
    source: str,
    destination: str,
    workdir: str,
    chunks: list[Chunk],
    *,
    ffmpeg: str,
    logo: str | None = None,
) -> ChunkedSteps:
    """The commands encoding `chunks` of `source` into `workdir` and joining them into `destination`.

    Writes the join's concat lists into `workdir`. An HLS `destination` is several files (a ladder's is
    the master playlist): keep its folder apart from `workdir`.
    """
    chunk_commands = [chunk_command_in(plan, chunk, ffmpeg, source, workdir, logo) for chunk in chunks]
    audio_path = os.path.join(workdir, "audio.m4a") if plan.has_audio else None
    join = join_step(
        plan,
        chunks,
        ffmpeg,
        workdir,
        destination,
        audio_path=audio_path,
        video_start=index.frames.start,
        audio_start=index.audio_start or Fraction(0),
    )
    for path, text in join.lists.items():
        with open(path, "w", encoding="utf-8") as listing:
            listing.write(text)
    return ChunkedSteps(
        chunks=chunks,
        chunk_commands=chunk_commands,
        audio_command=None if audio_path is None else audio_command(plan, ffmpeg, source, audio_path),
        join_command=join.command,
        chunk_files=[[os.path.join(workdir, name) for name in chunk_file_names(plan, chunk)] for chunk in chunks],
        join_lists=join.lists,
    )


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
) -> ChunkedSteps:
    """Run the chunked steps in turn. Raises TranscodeFailed naming the step (a chunk by its time range)."""
    steps = chunked_steps(plan, index, source, destination, workdir, chunks, ffmpeg=ffmpeg, logo=logo)
    for label, command in steps.labelled():
        result = subprocess.run([command[0], "-loglevel", "error", *command[1:]], capture_output=True, text=True)
        if result.returncode != 0:
            detail = redact(result.stderr.strip()[-400:], source)
            raise TranscodeFailed(f"{label}: ffmpeg exited with code {result.returncode}: {detail}")
    return steps
