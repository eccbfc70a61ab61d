"""Join encoded chunks by stream copy and mux the once-encoded audio: the chunked path's output.

The concat demuxer reads a list with one `duration` line per chunk (the chunk's exact span in the
output; without it the join ends about a millisecond short) and copies the video as it is. The output
container is the template's: MP4 with `+faststart`, FLV, or HLS, whose segments are cut from the
joined stream by copy at the keyframes the chunks forced on the segment grid (chunks used as segments
directly made the audio start 1.4 s late).

An HLS ladder joins in one run too (`ladder_join_command`): each variant's chunks (a list per variant)
and the same audio are copied into that variant's playlist and segments, and ffmpeg writes the master
playlist, named and laid out as the single pass's (`EncodePlan.hls_naming`), with its BANDWIDTH,
AVERAGE-BANDWIDTH, RESOLUTION and CODECS measured from the joined streams as the single pass does.
`join_step` gives either join with the concat lists it reads.
"""

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from transcoder.media.chunk_encode import chunk_file_names, seconds_argument
from transcoder.media.chunk_plan import Chunk
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.ladder import variant_stream_map

# Chunk files are named by us, beside the list: the concat demuxer's "safe" names, nothing to escape.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def concat_list(chunks: Sequence[Chunk], names: Sequence[str]) -> str:
    """The concat demuxer's list: each chunk file (a name in the list's folder) and its duration."""
    if len(chunks) != len(names) or not chunks:
        raise ValueError("one file name per chunk, and at least one chunk")
    lines = ["ffconcat version 1.0"]
    for chunk, name in zip(chunks, names, strict=True):
        if not _SAFE_NAME.fullmatch(name):
            raise ValueError(f"chunk file name {name!r} is not a plain file name")
        lines += [f"file {name}", f"duration {seconds_argument(chunk.output_duration)}"]
    return "\n".join(lines) + "\n"


def join_command(
    plan: EncodePlan,
    ffmpeg: str,
    list_path: str,
    destination: str,
    *,
    audio_path: str | None,
    video_start: Fraction = Fraction(0),
    audio_start: Fraction = Fraction(0),
) -> list[str]:
    """Copy the listed chunks and the audio (when the plan has audio) into the template's container.

    `video_start`/`audio_start`: where each stream starts on the source's timeline, so a source whose
    streams start apart keeps its sync, as in the single pass.
    """
    if plan.variant_names:
        raise ValueError("an HLS ladder joins a list per variant: see ladder_join_command")
    return _join([list_path], plan, ffmpeg, destination, audio_path, video_start, audio_start)


def ladder_join_command(
    plan: EncodePlan,
    ffmpeg: str,
    list_paths: Sequence[str],
    destination: str,
    *,
    audio_path: str | None,
    video_start: Fraction = Fraction(0),
    audio_start: Fraction = Fraction(0),
) -> list[str]:
    """Copy each variant's listed chunks (`list_paths[i]` lists variant `plan.variant_names[i]`), with the
    audio muxed into every variant as the single pass does, into the ladder's HLS files.

    `destination` is the master playlist; the variants' playlists and segments are written beside it,
    named as the single pass names them (`EncodePlan.hls_naming`).
    """
    if not plan.variant_names:
        raise ValueError("the plan is not an HLS ladder: see join_command")
    if len(list_paths) != len(plan.variant_names):
        raise ValueError("one concat list per variant")
    return _join(list_paths, plan, ffmpeg, destination, audio_path, video_start, audio_start)


def _join(
    list_paths: Sequence[str],
    plan: EncodePlan,
    ffmpeg: str,
    destination: str,
    audio_path: str | None,
    video_start: Fraction,
    audio_start: Fraction,
) -> list[str]:
    if plan.has_audio != (audio_path is not None):
        raise ValueError("an audio file is needed exactly when the plan has audio")
    inputs: list[str] = []
    for list_path in list_paths:
        inputs += [*_offset(video_start), "-f", "concat", "-i", list_path]
    if audio_path is not None:
        inputs += [*_offset(audio_start), "-i", audio_path]
    maps: list[str] = []
    for video in range(len(list_paths)):
        # A ladder's variant i is the output's video stream i and audio stream i: the audio input is
        # mapped once per variant, as the single pass maps the source's audio.
        maps += ["-map", f"{video}:v:0", *(["-map", f"{len(list_paths)}:a:0"] if audio_path is not None else [])]
    output = [*maps, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1", *plan.container_args]
    if plan.variant_names:
        output += variant_stream_map(plan.variant_names, has_audio=audio_path is not None)
    naming, target = plan.hls_naming(destination)
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", *inputs, *output, *naming, target]


@dataclass(frozen=True)
class JoinStep:
    """A join: the concat lists to write into the work folder first (path → text), then the command."""

    lists: dict[str, str]
    command: list[str]


def join_step(
    plan: EncodePlan,
    chunks: Sequence[Chunk],
    ffmpeg: str,
    workdir: str,
    destination: str,
    *,
    audio_path: str | None,
    video_start: Fraction = Fraction(0),
    audio_start: Fraction = Fraction(0),
) -> JoinStep:
    """The join of `chunks` whose files (`chunk_file_names`) are in `workdir`, into `destination`.

    The lists are `chunks.ffconcat`, or per ladder variant `chunks_v0.ffconcat`, `chunks_v1.ffconcat`, …
    in `workdir`. Keep `destination`'s folder apart from `workdir`: every file the join writes there
    (an HLS output is several) is the output.
    """
    files = [chunk_file_names(plan, chunk) for chunk in chunks]
    count = len(plan.variant_names)
    names = [f"chunks_v{variant}.ffconcat" for variant in range(count)] if count else ["chunks.ffconcat"]
    lists = {
        os.path.join(workdir, name): concat_list(chunks, [chunk_files[position] for chunk_files in files])
        for position, name in enumerate(names)
    }
    command = _join(list(lists), plan, ffmpeg, destination, audio_path, video_start, audio_start)
    return JoinStep(lists, command)


def _offset(start: Fraction) -> list[str]:
    return ["-itsoffset", seconds_argument(start)] if start else []
