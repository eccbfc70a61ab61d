"""Probe a media file with ffprobe and validate it against the operator's limits."""

import json
import subprocess
from fractions import Fraction
from typing import Any

from transcoder.errors import InputNotDecodable, InputOverLimits, NoVideoStream
from transcoder.media.binaries import ffprobe_path
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.media.sources import reader_options, redact

PROBE_TIMEOUT_SECONDS = 120


def probe(source: str) -> MediaInfo:
    """Probe a local path or an http(s) URL. Raises InputNotDecodable for anything ffprobe rejects."""
    command = [
        ffprobe_path(),
        *("-v", "error", "-print_format", "json", "-show_format", "-show_streams"),
        *reader_options(source),
        source,
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise InputNotDecodable("input could not be read by ffprobe within the time limit") from exc
    if result.returncode != 0:
        reason = _last_line(result.stderr.decode(errors="replace"), source) or "unknown format"
        raise InputNotDecodable(f"input is not a decodable media file ({reason})")
    return parse_probe_output(json.loads(result.stdout or b"{}"))


def video_frame_times(path: str) -> list[float]:
    """Presentation times (seconds) of the first video stream's packets of a local file, sorted."""
    command = [
        ffprobe_path(),
        *("-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0", path),
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=PROBE_TIMEOUT_SECONDS, check=False, text=True)
    except subprocess.TimeoutExpired as exc:
        raise InputNotDecodable("an encoded file could not be read by ffprobe within the time limit") from exc
    if result.returncode != 0:
        raise InputNotDecodable(f"an encoded file is not readable ({_last_line(result.stderr, path)})")
    return sorted(float(line) for line in result.stdout.split() if line.replace(".", "", 1).lstrip("-").isdigit())


def _last_line(text: str, source: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    # ffprobe prefixes errors with the input's path or URL, which may carry a signature.
    return redact(lines[-1], source).removeprefix("input: ")


def parse_probe_output(data: dict[str, Any]) -> MediaInfo:
    fmt = data.get("format") or {}
    streams = data.get("streams") or []
    video = next((_video(s) for s in streams if _is_moving_picture(s)), None)
    audio = next((_audio(s) for s in streams if s.get("codec_type") == "audio"), None)
    duration = _float(fmt.get("duration"))
    size_bytes = int(_float(fmt.get("size")))
    bitrate = _float(fmt.get("bit_rate")) / 1000 or (size_bytes * 8 / duration / 1000 if duration else 0.0)
    return MediaInfo(
        format_name=str(fmt.get("format_name", "")),
        duration=duration,
        size_bytes=size_bytes,
        bitrate_kbps=round(bitrate, 3),
        video=video,
        audio=audio,
    )


def _is_moving_picture(stream: dict[str, Any]) -> bool:
    # Cover art in audio files is a video stream flagged attached_pic: not a video.
    disposition = stream.get("disposition") or {}
    return stream.get("codec_type") == "video" and not disposition.get("attached_pic")


def _video(stream: dict[str, Any]) -> VideoStream:
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    sar = _fraction(stream.get("sample_aspect_ratio")) or Fraction(1)
    display_width, display_height = round(width * sar), height
    if _rotation(stream) % 180 == 90:
        display_width, display_height = display_height, display_width
    fps = _fraction(stream.get("avg_frame_rate")) or _fraction(stream.get("r_frame_rate")) or Fraction(0)
    frames = stream.get("nb_frames")
    return VideoStream(
        codec=str(stream.get("codec_name", "")),
        width=width,
        height=height,
        display_width=display_width,
        display_height=display_height,
        fps=round(float(fps), 3),
        frame_count=int(frames) if frames and str(frames).isdigit() else None,
    )


def _audio(stream: dict[str, Any]) -> AudioStream:
    return AudioStream(
        codec=str(stream.get("codec_name", "")),
        channels=int(stream.get("channels") or 0),
        sample_rate=int(stream.get("sample_rate") or 0),
    )


def _rotation(stream: dict[str, Any]) -> int:
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            return abs(int(float(side_data["rotation"])))
    return abs(int(float((stream.get("tags") or {}).get("rotate", 0))))


def _fraction(value: Any) -> Fraction | None:
    try:
        result = Fraction(str(value).replace(":", "/"))
    except (ValueError, ZeroDivisionError):
        return None
    return result if result > 0 else None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def validate_source(media: MediaInfo, *, max_bytes: int, max_seconds: float) -> VideoStream:
    """Refuse what the pipeline cannot or may not transcode, with the contract's err_codes."""
    if media.video is None:
        kind = "audio-only" if media.audio else "without any audio or video stream"
        raise NoVideoStream(f"input has no video stream ({kind})")
    if media.video.width <= 0 or media.video.height <= 0:
        raise InputNotDecodable("input's video stream has no picture size")
    if media.duration <= 0:
        raise InputNotDecodable("input has no duration: it is empty or truncated")
    if media.size_bytes > max_bytes:
        raise InputOverLimits(
            f"input is {media.size_bytes} bytes; this service's limit (setting max_input_bytes) is {max_bytes} bytes"
        )
    if media.duration > max_seconds:
        raise InputOverLimits(
            f"input lasts {media.duration:.1f} s; this service's limit (setting max_input_seconds) is {max_seconds:g} s"
        )
    return media.video
