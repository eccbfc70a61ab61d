"""ffmpeg argument lists for a chunked encode: one video-only chunk, and the audio encoded once.

All come from the same EncodePlan as the single pass (`plan_encode`), so chunks carry the very codec
parameters a single pass would (identical avcC/hvcC: they join by stream copy) and only validated
template fields and probed numbers reach the arguments.

What a chunk adds to the plan's video arguments:
- `-copyts -start_at_zero`: the chunk's filters see the source's own timeline, as the single pass
  does, so a frame-rate change picks the same frames. The chunk file keeps those timestamps: the
  concat demuxer places each file by its own start (shifting a chunk to 0 by a time off the encoder's
  frame grid moved an MPEG-TS source's video a frame early);
- HLS: keyframes forced on the single pass's segment grid (see chunk_command);
- the chunk's seek (`-ss … -noaccurate_seek` for a keyframe snap, an accurate `-ss` inside a long GOP)
  and its exact frame count (`-frames:v`), see chunk_plan;
- `-an`: audio is encoded once from the whole source (AAC frames do not split at chunk joins).

An HLS ladder's chunk is one ffmpeg run too: the source's range is decoded once and split (the single
pass's own filter graph) into one video-only MP4 per variant, each with that variant's arguments, the
same forced keyframes and the same frame count (`ladder_chunk_command`). `chunk_file_names` names a
chunk's files whatever the plan, `chunk_command_in` encodes a chunk into a folder under those names.

Rate control: CRF templates chunk without loss (measured ΔPSNR -0.05…+0.05 dB at 10-30 s chunks).
Bitrate templates (`-b:v`) lose 0.3-0.9 dB chunked, because each chunk spends on its first IDR and
cannot move bits between scenes; capped CRF (`-crf N -maxrate R -bufsize 2R`) chunks well and is the
better setting for them (notes.md, "Learned in review").
"""

import math
import os
from collections.abc import Sequence
from fractions import Fraction

from transcoder.media.chunk_plan import Chunk
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.sources import reader_options

_METADATA_OFF = ("-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1")


class NotChunkable(ValueError):
    """The plan has no chunked form (yet): encode it in one pass."""


def seconds_argument(value: Fraction) -> str:
    """A time for ffmpeg, to the microsecond its option parser keeps."""
    return f"{float(value):.6f}"


def chunk_file_names(plan: EncodePlan, chunk: Chunk) -> list[str]:
    """The files a chunk's encode writes: `chunk_00003.mp4`, or for a ladder one per variant in
    `plan.variant_names` order, `chunk_00003_v0.mp4`, `chunk_00003_v1.mp4`, …"""
    if plan.variant_names:
        return [f"chunk_{chunk.index:05d}_v{i}.mp4" for i in range(len(plan.variant_names))]
    return [f"chunk_{chunk.index:05d}.mp4"]


def chunk_command_in(
    plan: EncodePlan, chunk: Chunk, ffmpeg: str, source: str, folder: str, logo: str | None = None
) -> list[str]:
    """Encode `chunk` of `source` into `folder`, to the files `chunk_file_names` names (any chunkable plan)."""
    paths = [os.path.join(folder, name) for name in chunk_file_names(plan, chunk)]
    if plan.variant_names:
        if logo is not None:
            raise ValueError("a ladder draws no logo")
        return ladder_chunk_command(plan, chunk, ffmpeg, source, paths)
    return chunk_command(plan, chunk, ffmpeg, source, paths[0], logo)


def chunk_command(
    plan: EncodePlan, chunk: Chunk, ffmpeg: str, source: str, destination: str, logo: str | None = None
) -> list[str]:
    """Encode `chunk` of `source` (local path or URL) to the MP4 file `destination`, video only."""
    if plan.variant_names:
        raise NotChunkable("an HLS ladder's chunk has a file per variant: see ladder_chunk_command")
    if not plan.video_args:
        raise NotChunkable("the plan has no chunked form")
    return [
        *_chunk_input(chunk, ffmpeg, source),
        *plan.logo_arguments(logo),
        *plan.video_args,
        *_chunk_output(plan, chunk, destination),
    ]


def ladder_chunk_command(
    plan: EncodePlan, chunk: Chunk, ffmpeg: str, source: str, destinations: Sequence[str]
) -> list[str]:
    """Encode `chunk` of `source` once into every variant of an HLS ladder: `destinations[i]` (MP4, video
    only) gets variant `plan.variant_names[i]`."""
    if not plan.variant_names or plan.ladder_graph is None:
        raise ValueError("the plan is not an HLS ladder: see chunk_command")
    if len(destinations) != len(plan.variant_names):
        raise ValueError("one destination per variant")
    outputs = [
        arg
        for video_args, destination in zip(plan.variant_video_args, destinations, strict=True)
        for arg in (*video_args, *_chunk_output(plan, chunk, destination))
    ]
    return [*_chunk_input(chunk, ffmpeg, source), "-filter_complex", plan.ladder_graph, *outputs]


def _chunk_input(chunk: Chunk, ffmpeg: str, source: str) -> list[str]:
    seek: list[str] = []
    if chunk.seek is not None:
        seek = ["-ss", seconds_argument(chunk.seek)]
        if not chunk.accurate:
            seek.append("-noaccurate_seek")
    return [
        *(ffmpeg, "-hide_banner", "-nostdin", "-y", "-copyts", "-start_at_zero"),
        *seek,
        *reader_options(source),
        *("-i", source),
    ]


def _chunk_output(plan: EncodePlan, chunk: Chunk, destination: str) -> list[str]:
    """What follows an output's video arguments: HLS keyframes, the exact frame count, no audio, the file."""
    keyframes: list[str] = []
    if plan.hls_segment_seconds:
        # The single pass forces a keyframe at every multiple of the segment length. ffmpeg measures
        # `t` from the encode's first frame, so a chunk aims at the first multiple at or after its own
        # first frame, rounded down a microsecond so that a frame exactly on it is never missed.
        segment = plan.hls_segment_seconds
        first = math.ceil(chunk.first_frame_time / segment) * segment - chunk.first_frame_time
        offset = math.floor(first * 1_000_000 - 1) / 1_000_000 if first else 0.0
        keyframes = ["-force_key_frames", f"expr:gte(t,{offset:.6f}+n_forced*{segment})"]
    return [*keyframes, "-frames:v", str(chunk.frames), "-an", *_METADATA_OFF, "-f", "mp4", destination]


def audio_command(plan: EncodePlan, ffmpeg: str, source: str, destination: str) -> list[str]:
    """Encode the source's first audio stream once, whole, with the template's audio settings (M4A)."""
    if not plan.has_audio or not plan.audio_args:
        raise ValueError("the plan has no audio to encode")
    return [
        *(ffmpeg, "-hide_banner", "-nostdin", "-y"),
        *reader_options(source),
        *("-i", source, "-map", "0:a:0", "-vn", *plan.audio_args, *_METADATA_OFF),
        *("-f", "mp4", destination),
    ]
