"""Transcoding templates (api.md, "Templates") and the built-in set, kept as data."""

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class VideoCodec(StrEnum):
    H264 = "h264"
    H265 = "h265"


class ContainerFormat(StrEnum):
    MP4 = "mp4"
    FLV = "flv"
    HLS = "hls"


class TemplateType(StrEnum):
    BUILT_IN = "built-in"
    CUSTOM = "custom"


DEFAULT_AUDIO_BITRATE_KBPS = 128


@dataclass(frozen=True)
class Template:
    template_id: str
    name: str
    resolution: str
    """`360p`…`2160p` (short side, never upscaled), `WxH` (fit inside), or `original`."""
    vcodec: VideoCodec = VideoCodec.H264
    format: ContainerFormat = ContainerFormat.MP4
    quality: int = 5
    """1 to 10, higher is better; mapped to the encoder's CRF."""
    framerate: float = 0
    """0 keeps the source's frame rate."""
    acodec: str = "aac"
    audio_bitrate: int = 0
    """kbps; 0 means DEFAULT_AUDIO_BITRATE_KBPS."""
    video_bitrate: int | None = None
    description: str = ""
    template_type: TemplateType = TemplateType.CUSTOM

    gop_seconds: float | None = None
    """Seconds between keyframes; unset leaves it to the encoder."""
    hls_seg_time: int | None = None
    """Seconds per HLS segment (format hls)."""

    logo_path: str | None = None
    """`https://` URL of a PNG or JPEG drawn over the video (validated at add/update_template)."""
    logo_size: str | None = None
    """`WxH` the logo is scaled to; unset keeps its own size."""
    logo_offset: str | None = None
    """`x=N:y=N` of the logo's top-left corner in the output frame; unset is x=10:y=10."""
    renditions: tuple[int, ...] = ()
    """HLS adaptive ladder (built-ins only): the short sides of the renditions, encoded in one run; a
    rendition that would upscale the source is encoded at the source's size, once."""

    @property
    def extension(self) -> str:
        return ".m3u8" if self.format is ContainerFormat.HLS else "." + self.format.value

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["vcodec"] = self.vcodec.value
        data["format"] = self.format.value
        data["template_type"] = self.template_type.value
        data["renditions"] = list(self.renditions)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Template":
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        values["vcodec"] = VideoCodec(values.get("vcodec", VideoCodec.H264))
        values["format"] = ContainerFormat(values.get("format", ContainerFormat.MP4))
        values["template_type"] = TemplateType(values.get("template_type", TemplateType.CUSTOM))
        values["renditions"] = tuple(int(side) for side in values.get("renditions") or ())
        return cls(**values)


_BUILTIN_RESOLUTIONS = ("360p", "480p", "720p", "1080p", "Original")
_CODEC_LABELS = {VideoCodec.H264: "264", VideoCodec.H265: "265"}


def _builtin(vcodec: VideoCodec, resolution: str) -> Template:
    label = _CODEC_LABELS[vcodec]
    return Template(
        template_id=f"builtin-MP4-{label}-{resolution}",
        name=f"MP4_{label}_{resolution}",
        resolution=resolution.lower(),
        vcodec=vcodec,
        description=f"MP4, {vcodec.value.upper()}, {resolution}, AAC audio",
        template_type=TemplateType.BUILT_IN,
    )


HLS_LADDER = Template(
    template_id="builtin-HLS-264-ladder",
    name="HLS_264_ladder",
    resolution="1080p",
    format=ContainerFormat.HLS,
    renditions=(1080, 720, 360),
    description="HLS adaptive ladder: 1080p, 720p and 360p H.264 renditions (never upscaled), AAC audio",
    template_type=TemplateType.BUILT_IN,
)
BUILTIN_TEMPLATES: tuple[Template, ...] = (
    *(_builtin(codec, resolution) for codec in VideoCodec for resolution in _BUILTIN_RESOLUTIONS),
    HLS_LADDER,
)
_BY_NAME = {t.name: t for t in BUILTIN_TEMPLATES}
_BY_ID = {t.template_id: t for t in BUILTIN_TEMPLATES}


def find_builtin(*, name: str | None = None, template_id: str | None = None) -> Template | None:
    if name is not None:
        return _BY_NAME.get(name)
    if template_id is not None:
        return _BY_ID.get(template_id)
    return None
