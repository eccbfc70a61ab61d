"""Probe the video frame index of a source: every frame's presentation time and which are keyframes.

The chunk plan needs exact times, so they are kept as integer ticks of the stream's time base (ffprobe's
`pts_time` is rounded to microseconds). Packets are parsed as ffprobe prints them, one line each, so a
long source never sits in memory as text; 8 bytes per frame are kept (a 12-hour 60 fps source: 21 MB).
"""

from __future__ import annotations

import json
import subprocess
import threading
from array import array
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from transcoder.errors import InputNotDecodable
from transcoder.media.binaries import ffprobe_path
from transcoder.media.chunk_plan import SourceFrames
from transcoder.media.sources import reader_options, redact

INDEX_TIMEOUT_SECONDS = 300
"""Reading packet headers runs at hundreds of times real time locally; a stalled URL must still end."""


@dataclass(frozen=True)
class KeyframeIndex:
    frames: SourceFrames
    audio_start: Fraction | None
    """Seconds from the container's start to the first audio sample (None without audio)."""

    @property
    def keyframe_times(self) -> list[Fraction]:
        return [self.frames.seconds(pts) for pts in self.frames.keyframe_pts]

    @property
    def frame_count(self) -> int:
        return len(self.frames.frame_pts)


def probe_keyframes(source: str, *, timeout_seconds: float = INDEX_TIMEOUT_SECONDS) -> KeyframeIndex:
    """Frame index of the first video stream of a local path or http(s) URL.

    Raises InputNotDecodable when ffprobe cannot read it, it has no timestamped video frames, or
    reading takes longer than `timeout_seconds`.
    """
    header = _header(source, timeout_seconds)
    video = next((s for s in header.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise InputNotDecodable("input has no video stream to index")
    audio = next((s for s in header.get("streams", []) if s.get("codec_type") == "audio"), None)
    origin = _seconds(header.get("format", {}).get("start_time")) or Fraction(0)
    time_base = _seconds(video.get("time_base"))
    if not time_base or time_base <= 0:
        raise InputNotDecodable("input's video stream has no time base")
    frame_pts, keyframe_pts, end_pts = _packets(source, timeout_seconds)
    audio_start = _seconds(audio.get("start_time")) if audio else None
    frames = SourceFrames(
        time_base=time_base, origin=origin, frame_pts=frame_pts, keyframe_pts=keyframe_pts, end_pts=end_pts
    )
    return KeyframeIndex(frames=frames, audio_start=None if audio_start is None else audio_start - origin)


def _header(source: str, timeout_seconds: float) -> dict[str, Any]:
    command = [
        ffprobe_path(),
        *("-v", "error", "-print_format", "json"),
        *("-show_entries", "format=start_time:stream=codec_type,time_base,start_time"),
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
    if not frame_pts or not keyframe_pts or end_pts is None:
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
