"""Template requests (api.md, "Templates"): every field validated, errors naming the field."""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator, model_validator

from transcoder import fetch
from transcoder.locations import parse_s3_url
from transcoder.settings import settings
from transcoder.templates import ContainerFormat, Template, TemplateType, VideoCodec

SHORT_SIDES = ("360p", "480p", "540p", "720p", "1080p", "1440p", "2160p")
_BOX = re.compile(r"^(\d{2,4})x(\d{2,4})$")
_OFFSET = re.compile(r"^x=(\d{1,4}):y=(\d{1,4})$")
LOGO_SIDES = (2, 4096)
LOGO_MAX_OFFSET = 7680
LOGO_URL_MAX_LENGTH = 2048
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def check_resolution(value: str) -> str:
    spec = value.strip().lower()
    if spec in ("0", "original") or spec in SHORT_SIDES:
        return spec
    box = _BOX.match(spec)
    if box and all(16 <= int(side) <= 7680 for side in box.groups()):
        return spec
    raise ValueError(f"must be one of {', '.join(SHORT_SIDES)}, WxH (16 to 7680 each) or original")


class TemplateFields(BaseModel):
    """The settable fields; defaults as in api.md."""

    model_config = ConfigDict(extra="ignore")

    description: StrictStr = Field(default="", max_length=256)
    format: Literal["mp4", "hls", "flv"] = "mp4"
    quality: StrictInt = Field(default=5, ge=1, le=10)
    framerate: float = Field(default=0, ge=0, le=120)
    resolution: StrictStr = Field(max_length=16)
    vcodec: Literal["h264", "h265"] = "h264"
    acodec: Literal["aac"] = "aac"
    audio_bitrate: Literal[0, 32, 48, 64, 96, 128] = 0
    video_bitrate: StrictInt | None = Field(default=None, ge=64, le=100_000)
    gop_seconds: float | None = Field(default=None, gt=0, le=20)
    hls_seg_time: StrictInt | None = Field(default=None, ge=1, le=60)
    logo_path: StrictStr | None = Field(default=None, max_length=LOGO_URL_MAX_LENGTH)
    logo_size: StrictStr | None = Field(default=None, max_length=16)
    logo_offset: StrictStr | None = Field(default=None, max_length=16)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        return check_resolution(value)

    @field_validator("logo_size")
    @classmethod
    def _logo_size(cls, value: str | None) -> str | None:
        if not value:
            return None
        low, high = LOGO_SIDES
        box = re.match(r"^(\d{1,4})x(\d{1,4})$", value)
        if not box or not all(low <= int(side) <= high for side in box.groups()):
            raise ValueError(f"must be WxH, {low} to {high} pixels each")
        return f"{int(box.group(1))}x{int(box.group(2))}"

    @field_validator("logo_offset")
    @classmethod
    def _logo_offset(cls, value: str | None) -> str | None:
        if not value:
            return None
        offset = _OFFSET.match(value)
        if not offset or not all(int(n) <= LOGO_MAX_OFFSET for n in offset.groups()):
            raise ValueError(f"must be x=N:y=N, 0 to {LOGO_MAX_OFFSET} each")
        return f"x={int(offset.group(1))}:y={int(offset.group(2))}"

    @field_validator("logo_path")
    @classmethod
    def _logo_path(cls, value: str | None) -> str | None:
        if not value:
            return None
        # urlsplit drops tabs, newlines and leading spaces: the URL fetched would differ from the one given.
        if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
            raise ValueError("must not contain spaces or control characters")
        if value.startswith("s3://"):
            bucket = parse_s3_url(value).bucket  # its ValueError says what is wrong
            readable = settings().readable_buckets
            if bucket not in readable:
                allowed = ", ".join(sorted(readable))
                raise ValueError(f"bucket {bucket!r} is not readable by this service (use: {allowed})")
            return value
        try:
            fetch.check_url(value, subject="logo")
        except fetch.RefusedInput as exc:
            raise ValueError(str(exc).removeprefix("logo URL ").replace("https://", "https:// or s3://")) from exc
        return value

    @model_validator(mode="after")
    def _combinations(self) -> "TemplateFields":
        if self.format == "flv" and self.vcodec != "h264":
            raise ValueError("vcodec: flv carries h264 only")
        if self.hls_seg_time is not None and self.format != "hls":
            raise ValueError("hls_seg_time: only for format hls")
        for field in ("logo_size", "logo_offset"):
            if getattr(self, field) is not None and self.logo_path is None:
                raise ValueError(f"{field}: only with logo_path")
        return self

    def to_template(self, *, template_id: str, name: str) -> Template:
        return Template(
            template_id=template_id,
            name=name,
            resolution=self.resolution,
            vcodec=VideoCodec(self.vcodec),
            format=ContainerFormat(self.format),
            quality=self.quality,
            framerate=self.framerate,
            acodec=self.acodec,
            audio_bitrate=self.audio_bitrate,
            video_bitrate=self.video_bitrate,
            description=self.description,
            gop_seconds=self.gop_seconds,
            hls_seg_time=self.hls_seg_time,
            logo_path=self.logo_path,
            logo_size=self.logo_size,
            logo_offset=self.logo_offset,
            template_type=TemplateType.CUSTOM,
        )


class AddTemplateRequest(TemplateFields):
    name: StrictStr = Field(pattern=NAME_PATTERN)


class UpdateTemplateRequest(BaseModel):
    """`name` plus the fields to change; the merged template is validated as a whole (TemplateFields)."""

    model_config = ConfigDict(extra="allow")

    name: StrictStr = Field(pattern=NAME_PATTERN)

    def changes(self) -> dict[str, Any]:
        """The given fields that a template has; others are ignored, as in every request."""
        return {k: v for k, v in (self.model_extra or {}).items() if k in TemplateFields.model_fields}


class TemplateRef(BaseModel):
    """del_template: `name` or `template_id`."""

    model_config = ConfigDict(extra="ignore")

    name: StrictStr | None = Field(default=None, max_length=64)
    template_id: StrictStr | None = Field(default=None, max_length=64)
