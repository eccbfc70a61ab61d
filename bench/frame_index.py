"""The Plan step's frame index of one source over HTTP: the MP4 header path against ffprobe's packet list.

`python -m bench.frame_index FILE` serves FILE with byte ranges (as S3 serves the presigned URL), indexes it
both ways and prints, for each, the wall time, the GETs and the bytes the server sent, as JSON, and whether
its index equals ffprobe's packet list of the local file (the reference).
"""

import json
import os
import sys
import time
from typing import Any

from bench.http_source import CountsReader, served
from localmode.stack import use_static_ffmpeg
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.mp4_index import opened, read_mp4_frames


def _timed(url: str, counts: CountsReader, *, from_moov: bool) -> tuple[KeyframeIndex, dict[str, Any]]:
    counts.take()
    started = time.perf_counter()
    index = probe_keyframes(url, from_moov=from_moov)
    seconds = time.perf_counter() - started
    sent = counts.take()
    figures = {"read_from": index.read_from, "seconds": round(seconds, 3), "gets": sent.gets, "bytes": sent.bytes_sent}
    return index, figures


def measure_frame_index(path: str) -> dict[str, Any]:
    reference = probe_keyframes(path, from_moov=False)
    with served(path) as (url, counts):
        counts.take()
        with opened(url, time.monotonic() + 60) as reader:
            read_mp4_frames(reader)
        moov_reads = counts.take()
        header, header_figures = _timed(url, counts, from_moov=True)
        packets, packets_figures = _timed(url, counts, from_moov=False)
    for index, figures in ((header, header_figures), (packets, packets_figures)):
        figures["equals_local_ffprobe"] = (index.frames, index.audio_start) == (
            reference.frames,
            reference.audio_start,
        )
    return {
        "figure": "Plan frame index over HTTP",
        "source_bytes": os.path.getsize(path),
        "frames": header.frame_count,
        "moov_reads_alone": {"gets": moov_reads.gets, "bytes": moov_reads.bytes_sent},
        "header": header_figures,
        "packets": packets_figures,
        "method": "local range server; header path = ffprobe's header read (origin, audio start) + moov range "
        "reads; packets path = ffprobe -show_entries packet over the URL",
    }


if __name__ == "__main__":
    use_static_ffmpeg()
    print(json.dumps(measure_frame_index(sys.argv[1]), indent=2))
