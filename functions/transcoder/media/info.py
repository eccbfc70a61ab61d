"""Facts about a media file, as ffprobe reports them."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class VideoStream:
    codec: str
    width: int
    height: int
    display_width: int
    """Width as shown: after the rotation in the stream's side data and its pixel aspect ratio."""
    display_height: int
    fps: float
    frame_count: int | None


@dataclass(frozen=True)
class AudioStream:
    codec: str
    channels: int
    sample_rate: int


@dataclass(frozen=True)
class MediaInfo:
    format_name: str
    duration: float
    size_bytes: int
    bitrate_kbps: float
    video: VideoStream | None
    audio: AudioStream | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MediaInfo":
        video = data.get("video")
        audio = data.get("audio")
        return cls(
            format_name=data["format_name"],
            duration=data["duration"],
            size_bytes=data["size_bytes"],
            bitrate_kbps=data["bitrate_kbps"],
            video=VideoStream(**video) if video else None,
            audio=AudioStream(**audio) if audio else None,
        )
