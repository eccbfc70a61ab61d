"""Probe the video frame index of a source: every frame's presentation time and which are keyframes.

The chunk plan needs exact times, so they are kept as integer ticks of the stream's time base (ffprobe's
`pts_time` is rounded to microseconds). An MP4/MOV source's index is read from its `moov` box with a few
range requests (`mp4_index`); any other source, or one whose header leaves a doubt, has its packets listed
by ffprobe, which reads the whole file. Packets are parsed as ffprobe prints them, one line each, so a
long source never sits in memory as text; 8 bytes per frame are kept (a 12-hour 60 fps source: 21 MB).
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from array import array
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from transcoder.errors import InputNotDecodable
from transcoder.media.binaries import ffprobe_path
from transcoder.media.chunk_plan import SourceFrames
from transcoder.media.mp4_index import Unsupported, opened, read_mp4_frames
from transcoder.media.sources import reader_options, redact

logger = logging.getLogger(__name__)

INDEX_TIMEOUT_SECONDS = 300
"""Reading packet headers runs at hundreds of times real time locally; a stalled URL must still end."""
MOOV_TIMEOUT_SECONDS = 60.0
"""The header path reads a few MB; past this the ffprobe path gets what is left of the time limit."""
MOOV = "moov"
PACKETS = "packets"


@dataclass(frozen=True)
class KeyframeIndex:
    frames: SourceFrames
    audio_start: Fraction | None
    """Seconds from the container's start to the first audio sample (None without audio)."""

    read_from: str = PACKETS
    """How the frames were indexed: MOOV (the MP4 header's sample tables) or PACKETS (ffprobe's packet list)."""

    @property
    def keyframe_times(self) -> list[Fraction]:
        return [self.frames.seconds(pts) for pts in self.frames.keyframe_pts]

    @property
    def frame_count(self) -> int:
        return len(self.frames.frame_pts)


def probe_keyframes(
    source: str, *, timeout_seconds: float = INDEX_TIMEOUT_SECONDS, from_moov: bool = True
) -> KeyframeIndex:
    """Frame index of the first video stream of a local path or http(s) URL.

    `from_moov=False` lists the packets with ffprobe even when the MP4 header could tell (to compare).
    Raises InputNotDecodable when ffprobe cannot read it, it has no timestamped video frames, or
    reading takes longer than `timeout_seconds`.
    """
    deadline = time.monotonic() + timeout_seconds
    header = _header(source, timeout_seconds)
    video = next((s for s in header.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise InputNotDecodable("input has no video stream to index")
    audio = next((s for s in header.get("streams", []) if s.get("codec_type") == "audio"), None)
    origin = _seconds(header.get("format", {}).get("start_time")) or Fraction(0)
    time_base = _seconds(video.get("time_base"))
    if not time_base or time_base <= 0:
        raise InputNotDecodable("input's video stream has no time base")
    from_header = _moov_frames(source, header, video, time_base, deadline) if from_moov else None
    if from_header is not None:
        frame_pts, keyframe_pts, end_pts = from_header
    else:
        frame_pts, keyframe_pts, end_pts = _packets(source, max(0.001, deadline - time.monotonic()))
    audio_start = _seconds(audio.get("start_time")) if audio else None
    frames = SourceFrames(
        time_base=time_base, origin=origin, frame_pts=frame_pts, keyframe_pts=keyframe_pts, end_pts=end_pts
    )
    return KeyframeIndex(
        frames=frames,
        audio_start=None if audio_start is None else audio_start - origin,
        read_from=PACKETS if from_header is None else MOOV,
    )


def _moov_frames(
    source: str, header: dict[str, Any], video: dict[str, Any], time_base: Fraction, deadline: float
) -> tuple[array[int], list[int], int] | None:
    """The frames from an MP4/MOV header, or None when ffprobe must list the packets.

    ffprobe's header read (which the origin and the audio start come from) is the referee: the track's
    timescale must be its time base and the stream start time it reports must be the one replayed here.
    """
    if "mov" not in str(header.get("format", {}).get("format_name", "")).split(","):
        return None
    videos = [s for s in header.get("streams", []) if s.get("codec_type") == "video"]
    try:
        if len(videos) != 1:
            raise Unsupported(f"{len(videos)} video streams")
        with opened(source, min(deadline, time.monotonic() + MOOV_TIMEOUT_SECONDS)) as reader:
            frames = read_mp4_frames(reader)
        if Fraction(1, frames.timescale) != time_base:
            raise Unsupported("track timescale is not the stream's time base")
        # ffprobe prints start_time as the C double start * time_base with %f.
        start = f"{frames.start_time * (time_base.numerator / time_base.denominator):f}"
        if start != video.get("start_time"):
            raise Unsupported(f"start time {start} where ffprobe reports {video.get('start_time')}")
    except Unsupported as reason:
        logger.info("frame index from ffprobe's packets: %s", reason)
        return None
    ends = max(p + d for p, d in zip(frames.frame_pts, frames.frame_durations, strict=True))
    return _ordered(frames.frame_pts, frames.keyframe_pts, ends)


def _header(source: str, timeout_seconds: float) -> dict[str, Any]:
    command = [
        ffprobe_path(),
        *("-v", "error", "-print_format", "json"),
        *("-show_entries", "format=format_name,start_time:stream=codec_type,time_base,start_time"),
        *reader_options(source),
        source,
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout_seconds, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InputNotDecodable("input's streams could not be read within the time limit") from exc
    if result.returncode != 0:
        raise InputNotDecodable(
            f"input's streams could not be read ({_tail(result.stderr.decode(errors='replace'), source)})"
        )
    data: dict[str, Any] = json.loads(result.stdout or b"{}")
    return data


def _packets(source: str, timeout_seconds: float) -> tuple[array[int], list[int], int]:
    """Sorted frame pts, keyframe pts, and the end of the last frame, from the video packets."""
    command = [
        ffprobe_path(),
        *("-v", "error", "-select_streams", "v:0"),
        *("-show_entries", "packet=pts,duration,flags", "-of", "compact=p=0"),
        *reader_options(source),
        source,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_tail: deque[str] = deque(maxlen=5)
    drain = threading.Thread(target=lambda: stderr_tail.extend(process.stderr or []), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout_seconds, stop)
    timer.start()
    frame_pts: array[int] = array("q")
    keyframe_pts: list[int] = []
    end_pts: int | None = None
    try:
        for line in process.stdout or []:
            fields = dict(field.partition("=")[::2] for field in line.strip().split("|"))
            pts = fields.get("pts", "")
            if not pts.lstrip("-").isdigit():
                continue  # a packet without a timestamp is not a frame that can be placed
            value = int(pts)
            frame_pts.append(value)
            if "K" in fields.get("flags", ""):
                keyframe_pts.append(value)
            duration = fields.get("duration", "")
            ends = value + (int(duration) if duration.isdigit() else 0)
            end_pts = ends if end_pts is None else max(end_pts, ends)
        returncode = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        drain.join(timeout=5)
    if timed_out.is_set():
        raise InputNotDecodable(f"input's frames could not be indexed within {timeout_seconds:.0f} s")
    if returncode != 0:
        raise InputNotDecodable(f"input's frames could not be indexed ({_tail(''.join(stderr_tail), source)})")
    if end_pts is None:
        raise InputNotDecodable("input has no timestamped video keyframes")
    return _ordered(frame_pts, keyframe_pts, end_pts)


def _ordered(frame_pts: array[int], keyframe_pts: list[int], end_pts: int) -> tuple[array[int], list[int], int]:
    """Frame pts in presentation order, keyframe pts, and an end after the last frame."""
    if not frame_pts or not keyframe_pts:
        raise InputNotDecodable("input has no timestamped video keyframes")
    ordered = array("q", sorted(frame_pts))
    if end_pts <= ordered[-1]:
        # The last packet carried no duration: give it the median spacing of its neighbours.
        gaps = sorted(b - a for a, b in zip(ordered[-9:], ordered[-8:], strict=False)) or [1]
        end_pts = ordered[-1] + max(1, gaps[len(gaps) // 2])
    return ordered, sorted(keyframe_pts), end_pts


def _seconds(value: Any) -> Fraction | None:
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None


def _tail(text: str, source: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(lines[-1], source).removeprefix("input: ") if lines else "unknown format"
