"""Template requests (api.md, "Templates"): every field validated, errors naming the field."""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from transcoder import template_rules
from transcoder.lazy import lazy_import
from transcoder.locations import parse_s3_url
from transcoder.settings import settings
from transcoder.template_rules import OutputLimits
from transcoder.templates import ContainerFormat, Template, TemplateType, VideoCodec

if TYPE_CHECKING:
    from transcoder import fetch
else:
    fetch = lazy_import("transcoder.fetch")  # urllib3 and botocore: when a logo URL is checked

LOGO_URL_MAX_LENGTH = 2048
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LIMITS_CONTEXT = "output_limits"
"""Validation context key of the OutputLimits to check against; the deployment's settings when absent."""


def _limits(info: ValidationInfo) -> OutputLimits:
    context = info.context or {}
    limits = context.get(LIMITS_CONTEXT)
    return limits if isinstance(limits, OutputLimits) else settings().output_limits


class TemplateFields(BaseModel):
    """The settable fields; defaults as in api.md, each field's rule in template_rules."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    description: StrictStr = Field(default="", max_length=256)
    format: Literal["mp4", "hls", "flv"] = "mp4"
    quality: StrictInt = 5
    framerate: StrictFloat = 0
    resolution: StrictStr = Field(max_length=16)
    vcodec: Literal["h264", "h265"] = "h264"
    acodec: Literal["aac"] = "aac"
    audio_bitrate: StrictInt = 0
    video_bitrate: StrictInt | None = None
    gop_seconds: StrictFloat | None = None
    hls_seg_time: StrictInt | None = None
    logo_path: StrictStr | None = Field(default=None, max_length=LOGO_URL_MAX_LENGTH)
    logo_size: StrictStr | None = Field(default=None, max_length=16)
    logo_offset: StrictStr | None = Field(default=None, max_length=16)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, value: str, info: ValidationInfo) -> str:
        return template_rules.check_resolution(value, _limits(info))

    @field_validator("framerate")
    @classmethod
    def _framerate(cls, value: float, info: ValidationInfo) -> float:
        return template_rules.check_framerate(value, _limits(info))

    @field_validator("quality")
    @classmethod
    def _quality(cls, value: int) -> int:
        return template_rules.check_quality(value)

    @field_validator("audio_bitrate")
    @classmethod
    def _audio_bitrate(cls, value: int) -> int:
        return template_rules.check_audio_bitrate(value)

    @field_validator("video_bitrate")
    @classmethod
    def _video_bitrate(cls, value: int | None) -> int | None:
        return template_rules.check_video_bitrate(value)

    @field_validator("gop_seconds")
    @classmethod
    def _gop_seconds(cls, value: float | None) -> float | None:
        return template_rules.check_gop_seconds(value)

    @field_validator("hls_seg_time")
    @classmethod
    def _hls_seg_time(cls, value: int | None) -> int | None:
        return template_rules.check_hls_seg_time(value)

    @field_validator("logo_size")
    @classmethod
    def _logo_size(cls, value: str | None) -> str | None:
        return template_rules.check_logo_size(value)

    @field_validator("logo_offset")
    @classmethod
    def _logo_offset(cls, value: str | None) -> str | None:
        return template_rules.check_logo_offset(value)

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
        try:
            template_rules.check_combination(
                resolution=self.resolution,
                format=self.format,
                vcodec=self.vcodec,
                hls_seg_time=self.hls_seg_time,
                logo_path=self.logo_path,
                logo_size=self.logo_size,
                logo_offset=self.logo_offset,
            )
        except template_rules.TemplateRuleError as exc:
            # A plain ValueError: pydantic reports it without a field, its message names the field.
            raise ValueError(str(exc)) from exc
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
