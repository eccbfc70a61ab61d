"""Generating test clips and checking outputs with the static ffmpeg/ffprobe."""

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from localmode.stack import static_ffmpeg


def generate_clip(
    path: str,
    *,
    seconds: float = 10,
    size: str = "1280x720",
    rate: int = 30,
    audio: bool = True,
) -> str:
    """A clip from ffmpeg's lavfi sources: moving test pattern, and a tone if `audio`."""
    ffmpeg, _ = static_ffmpeg()
    command = [ffmpeg, "-hide_banner", "-v", "error", "-y"]
    command += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", str(rate * 2)]
    if audio:
        command += ["-c:a", "aac", "-b:a", "128k"]
    command += ["-movflags", "+faststart", path]
    subprocess.run(command, check=True)
    return path


@dataclass(frozen=True)
class ProbedFile:
    """What a user checks on an output: container, codecs, size, duration, frames."""

    format_name: str
    duration: float
    video_codec: str | None
    width: int
    height: int
    frame_count: int
    audio_codec: str | None
    audio_duration: float
    video_duration: float

    def summary(self) -> dict[str, Any]:
        return {
            "container": self.format_name,
            "video": f"{self.video_codec} {self.width}x{self.height}, {self.frame_count} frames",
            "audio": self.audio_codec or "none",
            "duration_seconds": round(self.duration, 3),
        }


def probe_file(path: str) -> ProbedFile:
    _, ffprobe = static_ffmpeg()
    output = subprocess.run(
        [ffprobe, "-v", "error", "-count_packets", "-print_format", "json", "-show_format", "-show_streams", path],
        check=True,
        capture_output=True,
    ).stdout
    data = json.loads(output)
    streams = data.get("streams", [])
    video: dict[str, Any] = next((s for s in streams if s.get("codec_type") == "video"), {})
    audio: dict[str, Any] = next((s for s in streams if s.get("codec_type") == "audio"), {})
    return ProbedFile(
        format_name=data["format"]["format_name"],
        duration=float(data["format"].get("duration", 0)),
        video_codec=video.get("codec_name"),
        width=int(video.get("width", 0)),
        height=int(video.get("height", 0)),
        frame_count=int(video.get("nb_read_packets", 0)),
        audio_codec=audio.get("codec_name"),
        audio_duration=float(audio.get("duration", 0)),
        video_duration=float(video.get("duration", 0)),
    )
