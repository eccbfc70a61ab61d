"""Join encoded chunks by stream copy and mux the once-encoded audio: the chunked path's output.

The concat demuxer reads a list with one `duration` line per chunk (the chunk's exact span in the
output; without it the join ends about a millisecond short) and copies the video as it is. The output
container is the template's: MP4 with `+faststart`, FLV, or HLS, whose segments are cut from the
joined stream by copy at the keyframes the chunks forced on the segment grid (chunks used as segments
directly made the audio start 1.4 s late).
"""

import os
import re
from collections.abc import Sequence
from fractions import Fraction

from transcoder.media.chunk_encode import seconds_argument
from transcoder.media.chunk_plan import Chunk
from transcoder.media.encode_plan import EncodePlan

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
    if plan.has_audio != (audio_path is not None):
        raise ValueError("an audio file is needed exactly when the plan has audio")
    inputs = [*_offset(video_start), "-f", "concat", "-i", list_path]
    maps = ["-map", "0:v:0"]
    if audio_path is not None:
        inputs += [*_offset(audio_start), "-i", audio_path]
        maps += ["-map", "1:a:0"]
    output = [*maps, "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1", *plan.container_args]
    if plan.segmented:
        stem = os.path.splitext(destination)[0]
        output += ["-hls_segment_filename", f"{stem}_%05d.ts"]
    return [ffmpeg, "-hide_banner", "-nostdin", "-y", *inputs, *output, destination]


def _offset(start: Fraction) -> list[str]:
    return ["-itsoffset", seconds_argument(start)] if start else []
