"""The rules of a template's fields (api.md, "Templates"), written once.

add_template/update_template validate requests with them, and the encode plan checks every stored
template with them again before encoding: what the API accepts is exactly what the plan encodes, and a
template stored before a rule changed fails with a message naming the field, not with an internal error.
Each `check_*` returns the field's canonical value or raises ValueError saying what is allowed.
"""

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from transcoder.templates import ContainerFormat, Template, TemplateType, VideoCodec

SHORT_SIDES = {"360p": 360, "480p": 480, "540p": 540, "720p": 720, "1080p": 1080, "1440p": 1440, "2160p": 2160}
ORIGINAL = ("original", "0")
MIN_OUTPUT_SIDE = 16
"""Smallest side of any output: x265 refuses frames narrower or lower than 16 pixels."""
MIN_H265_OUTPUT_SIDE = 64
"""x265 (static ffmpeg n8.1) crashes now and then on frames under 64 pixels wide: SIGSEGV in 6 of 20
runs at 16x16, 10 of 30 at 48x48, none in 30 at 64x64 or more."""
MIN_FRAMERATE = 1.0
"""A lower rate is a slide show, and below 1/duration no frame at all (0.0001 gave an audio-only output)."""
CONTRACT_MAX_FRAMERATE = 120.0
FRAMERATE_DECIMALS = 3
"""Enough for NTSC rates (23.976, 29.97, 59.94); more is noise the fps filter would not honour."""
QUALITY_RANGE = (1, 10)
AUDIO_BITRATES = (0, 32, 48, 64, 96, 128)
VIDEO_BITRATE_RANGE = (64, 100_000)
GOP_SECONDS_MAX = 20.0
HLS_SEG_TIME_RANGE = (1, 60)
LOGO_SIDES = (2, 4096)
LOGO_MAX_OFFSET = 7680
ACODECS = ("aac",)

# ASCII digits only: Python's \d also matches other scripts' digits, which int() reads as numbers.
_BOX = re.compile(r"([1-9][0-9]{0,5})x([1-9][0-9]{0,5})")
_LOGO_SIZE = re.compile(r"([0-9]{1,4})x([0-9]{1,4})")
_LOGO_OFFSET = re.compile(r"x=([0-9]{1,4}):y=([0-9]{1,4})")


@dataclass(frozen=True)
class OutputLimits:
    """The operator's bounds on what one task may produce (deployment settings `max_output_*`).

    They bound the work and memory a small input can ask for: a 2 s clip upscaled to 7680x7680
    took 92 s and 4.3 GB, more than the Transcode function has.
    """

    max_output_pixels: int = 4096 * 2160
    """DCI 4K: every 2160p frame of a UHD (3840x2160) or DCI (4096x2160) master, in either orientation."""
    max_output_dimension: int = 4096
    max_output_framerate: float = CONTRACT_MAX_FRAMERATE
    """The contract's own maximum: every rate it promises is encodable unless the operator lowers it."""

    def __post_init__(self) -> None:
        if not MIN_OUTPUT_SIDE <= self.max_output_dimension <= 16384:
            raise ValueError(f"max_output_dimension must be between {MIN_OUTPUT_SIDE} and 16384")
        if self.max_output_pixels < MIN_OUTPUT_SIDE * MIN_OUTPUT_SIDE:
            raise ValueError(f"max_output_pixels must be at least {MIN_OUTPUT_SIDE * MIN_OUTPUT_SIDE}")
        if not MIN_FRAMERATE <= self.max_output_framerate <= CONTRACT_MAX_FRAMERATE:
            raise ValueError(f"max_output_framerate must be between {MIN_FRAMERATE:g} and {CONTRACT_MAX_FRAMERATE:g}")


DEFAULT_LIMITS = OutputLimits()


class TemplateRuleError(ValueError):
    """A stored template's field breaks a rule (it was stored before the rule, or the limits, changed)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class OutputOverLimits(ValueError):
    """The output a template makes of this source is beyond the operator's limits."""


@dataclass(frozen=True)
class Resolution:
    """A parsed `resolution`: exactly one of keep the source's size, a short side, or a box to fit in."""

    short_side: int | None = None
    box: tuple[int, int] | None = None


def parse_resolution(value: str) -> Resolution:
    """The canonical forms only: a leading zero or a sign is refused, never read as another number."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    spec = value.strip().lower()
    if spec in ORIGINAL:
        return Resolution()
    if spec in SHORT_SIDES:
        return Resolution(short_side=SHORT_SIDES[spec])
    box = _BOX.fullmatch(spec)
    if box and all(int(side) >= MIN_OUTPUT_SIDE for side in box.groups()):
        return Resolution(box=(int(box.group(1)), int(box.group(2))))
    raise ValueError(
        f"must be one of {', '.join(SHORT_SIDES)}, WxH ({MIN_OUTPUT_SIDE} pixels a side or more) or original"
    )


def check_resolution(value: str, limits: OutputLimits) -> str:
    resolution = parse_resolution(value)
    if resolution.short_side is not None and resolution.short_side > limits.max_output_dimension:
        raise ValueError(f"{value} is over the operator's limit of {limits.max_output_dimension} pixels a side")
    if resolution.short_side is not None and resolution.short_side**2 > limits.max_output_pixels:
        raise ValueError(f"{value} is over the operator's limit of {limits.max_output_pixels} pixels a frame")
    if resolution.box is not None:
        width, height = resolution.box
        high = limits.max_output_dimension
        if not (MIN_OUTPUT_SIDE <= width <= high and MIN_OUTPUT_SIDE <= height <= high):
            raise ValueError(f"WxH must be {MIN_OUTPUT_SIDE} to {high} pixels each (the operator's limit)")
        if width % 2 or height % 2:
            raise ValueError("WxH must be even numbers: H.264 and H.265 frames have even sides")
        if width * height > limits.max_output_pixels:
            raise ValueError(f"{width}x{height} is over the operator's limit of {limits.max_output_pixels} pixels")
    return value.strip().lower()


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    return value


def check_framerate(value: Any, limits: OutputLimits) -> float:
    """0 keeps the source's rate; otherwise frames per second, rounded to 3 decimals."""
    number = _number(value)
    if number == 0:
        return 0.0
    rate = round(number, FRAMERATE_DECIMALS)
    if number < MIN_FRAMERATE:
        raise ValueError(f"must be 0 (keep the source's) or at least {MIN_FRAMERATE:g} frame per second")
    if rate > limits.max_output_framerate:
        raise ValueError(f"must be at most {limits.max_output_framerate:g} (the operator's max_output_framerate)")
    return rate


def check_quality(value: Any) -> int:
    low, high = QUALITY_RANGE
    if not low <= _integer(value) <= high:
        raise ValueError(f"must be {low} to {high}")
    return int(value)


def check_audio_bitrate(value: Any) -> int:
    if _integer(value) not in AUDIO_BITRATES:
        raise ValueError(f"must be one of {', '.join(map(str, AUDIO_BITRATES))} (kbps; 0 is the default)")
    return int(value)


def check_video_bitrate(value: Any) -> int | None:
    if value is None:
        return None
    low, high = VIDEO_BITRATE_RANGE
    if not low <= _integer(value) <= high:
        raise ValueError(f"must be {low} to {high} kbps")
    return int(value)


def check_gop_seconds(value: Any) -> float | None:
    if value is None:
        return None
    seconds = _number(value)
    if not 0 < seconds <= GOP_SECONDS_MAX:
        raise ValueError(f"must be more than 0 and at most {GOP_SECONDS_MAX:g} seconds")
    return seconds


def check_hls_seg_time(value: Any) -> int | None:
    if value is None:
        return None
    low, high = HLS_SEG_TIME_RANGE
    if not low <= _integer(value) <= high:
        raise ValueError(f"must be {low} to {high} seconds")
    return int(value)


def check_acodec(value: Any) -> str:
    if value not in ACODECS:
        raise ValueError(f"must be {' or '.join(ACODECS)}")
    return str(value)


def parse_logo_size(value: str | None) -> tuple[int, int] | None:
    """(width, height) of a `WxH` logo_size; None when unset (the logo keeps its own size)."""
    if not value:
        return None
    low, high = LOGO_SIDES
    box = _LOGO_SIZE.fullmatch(value)
    if not box or not all(low <= int(side) <= high for side in box.groups()):
        raise ValueError(f"must be WxH, {low} to {high} pixels each")
    return int(box.group(1)), int(box.group(2))


def parse_logo_offset(value: str | None) -> tuple[int, int] | None:
    """(x, y) of an `x=N:y=N` logo_offset; None when unset."""
    if not value:
        return None
    offset = _LOGO_OFFSET.fullmatch(value)
    if not offset or not all(int(n) <= LOGO_MAX_OFFSET for n in offset.groups()):
        raise ValueError(f"must be x=N:y=N, 0 to {LOGO_MAX_OFFSET} each")
    return int(offset.group(1)), int(offset.group(2))


def check_logo_size(value: str | None) -> str | None:
    """`WxH` without leading zeros; empty means the logo's own size."""
    size = parse_logo_size(value)
    return None if size is None else f"{size[0]}x{size[1]}"


def check_logo_offset(value: str | None) -> str | None:
    offset = parse_logo_offset(value)
    return None if offset is None else f"x={offset[0]}:y={offset[1]}"


def min_output_side(vcodec: str) -> int:
    return MIN_H265_OUTPUT_SIDE if vcodec == VideoCodec.H265 else MIN_OUTPUT_SIDE


def check_combination(
    *,
    resolution: str,
    format: str,
    vcodec: str,
    hls_seg_time: int | None,
    logo_path: str | None,
    logo_size: str | None,
    logo_offset: str | None,
) -> None:
    """Rules across fields; each message starts with the field to change."""
    if format == ContainerFormat.FLV and vcodec != VideoCodec.H264:
        raise TemplateRuleError("vcodec", "flv carries h264 only")
    box = parse_resolution(resolution).box
    low = min_output_side(vcodec)
    if box is not None and min(box) < low:
        raise TemplateRuleError("resolution", f"WxH must be at least {low} pixels a side with {vcodec}")
    if hls_seg_time is not None and format != ContainerFormat.HLS:
        raise TemplateRuleError("hls_seg_time", "only for format hls")
    for field, value in (("logo_size", logo_size), ("logo_offset", logo_offset)):
        if value is not None and logo_path is None:
            raise TemplateRuleError(field, "only with logo_path")


def check_template(template: Template, limits: OutputLimits) -> Template:
    """Every field rule, on a template as stored; returns it with each field in its canonical form.

    The logo URL's own checks run again when the logo is fetched.
    """
    field_checks: dict[str, Any] = {
        "resolution": lambda v: check_resolution(v, limits),
        "framerate": lambda v: check_framerate(v, limits),
        "quality": check_quality,
        "acodec": check_acodec,
        "audio_bitrate": check_audio_bitrate,
        "video_bitrate": check_video_bitrate,
        "gop_seconds": check_gop_seconds,
        "hls_seg_time": check_hls_seg_time,
        "logo_size": check_logo_size,
        "logo_offset": check_logo_offset,
    }
    canonical: dict[str, Any] = {}
    for field, check in field_checks.items():
        try:
            canonical[field] = check(getattr(template, field))
        except (ValueError, TypeError) as exc:
            raise TemplateRuleError(field, str(exc)) from exc
    check_combination(
        resolution=canonical["resolution"],
        format=template.format,
        vcodec=template.vcodec,
        hls_seg_time=template.hls_seg_time,
        logo_path=template.logo_path,
        logo_size=canonical["logo_size"],
        logo_offset=canonical["logo_offset"],
    )
    if template.renditions:
        _check_ladder(template)
    return replace(template, **canonical)


def _check_ladder(template: Template) -> None:
    if template.template_type is not TemplateType.BUILT_IN:
        raise TemplateRuleError("renditions", "only built-in templates are ladders")
    if template.format is not ContainerFormat.HLS or template.logo_path is not None:
        raise TemplateRuleError("renditions", "a ladder is an HLS template without a logo")
    if not set(template.renditions) <= set(SHORT_SIDES.values()):
        raise TemplateRuleError("renditions", f"each must be one of {', '.join(map(str, SHORT_SIDES.values()))}")


def check_output(width: int, height: int, fps: float, limits: OutputLimits) -> None:
    """The output a plan will make, against the operator's limits (source-sized outputs are checked only here)."""
    if max(width, height) > limits.max_output_dimension:
        raise OutputOverLimits(
            f"the output would be {width}x{height}, over the operator's limit of {limits.max_output_dimension} "
            "pixels a side (max_output_dimension); use a template with a smaller resolution"
        )
    if width * height > limits.max_output_pixels:
        raise OutputOverLimits(
            f"the output would be {width}x{height} ({width * height} pixels), over the operator's limit of "
            f"{limits.max_output_pixels} pixels (max_output_pixels); use a template with a smaller resolution"
        )
    if fps > limits.max_output_framerate:
        raise OutputOverLimits(
            f"the output would have {fps:g} frames per second, over the operator's limit of "
            f"{limits.max_output_framerate:g} (max_output_framerate); use a template with a lower framerate"
        )
