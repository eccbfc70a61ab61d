"""Property: a template the API accepts is one the encoder plans and encodes, with the streams it promises.

Requests are generated over the whole accepted space (strategies built from template_rules' own
constants), and near it (leading zeros, odd sizes, rates below one frame a second, values out of range).
The request validator and the plan must agree on every one; a bounded number of accepted ones are then
encoded with the real plan and the static ffmpeg, and the output is checked as a user would, with ffprobe.
"""

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from localmode.media import generate_clip, probe_file
from transcoder.api.template_requests import LIMITS_CONTEXT, TemplateFields
from transcoder.media.encode import run_encode
from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.media.probe import probe
from transcoder.pipeline import check_complete
from transcoder.template_rules import (
    AUDIO_BITRATES,
    GOP_SECONDS_MAX,
    HLS_SEG_TIME_RANGE,
    LOGO_MAX_OFFSET,
    LOGO_SIDES,
    MIN_FRAMERATE,
    ORIGINAL,
    QUALITY_RANGE,
    SHORT_SIDES,
    VIDEO_BITRATE_RANGE,
    OutputLimits,
    TemplateRuleError,
    min_output_side,
)
from transcoder.templates import Template

# Small limits keep every encode of the property small (360x360 pixels at most, 360p the largest Np);
# the rules are the deployment's.
LIMITS = OutputLimits(max_output_pixels=360 * 360, max_output_dimension=640, max_output_framerate=60)
LOGO_PATH = "s3://test-input/brand/logo.png"
LOGO_INPUT = (16, 16)
SOURCE_SECONDS, SOURCE_SIZE, SOURCE_FPS = 1, (64, 48), 30
_MEDIA = MediaInfo(
    format_name="mov,mp4,m4a,3gp,3g2,mj2",
    duration=SOURCE_SECONDS,
    size_bytes=1,
    bitrate_kbps=1,
    video=VideoStream("h264", *SOURCE_SIZE, *SOURCE_SIZE, SOURCE_FPS, SOURCE_SECONDS * SOURCE_FPS),
    audio=AudioStream("aac", 1, 48000),
)


# ---------------------------------------------------------------- strategies of accepted requests


def _even_sides(limits: OutputLimits, min_side: int) -> st.SearchStrategy[int]:
    return st.integers(min_side // 2, limits.max_output_dimension // 2).map(lambda half: half * 2)


def accepted_resolutions(limits: OutputLimits, min_side: int) -> st.SearchStrategy[str]:
    short_sides = [name for name, side in SHORT_SIDES.items() if side <= limits.max_output_dimension]
    short_sides = [name for name in short_sides if SHORT_SIDES[name] ** 2 <= limits.max_output_pixels]
    boxes = st.tuples(_even_sides(limits, min_side), _even_sides(limits, min_side)).filter(
        lambda b: b[0] * b[1] <= limits.max_output_pixels
    )
    named = st.sampled_from([*ORIGINAL, *short_sides])
    return st.one_of(named, named.map(str.upper), boxes.map(lambda b: f"{b[0]}x{b[1]}"))


def accepted_framerates(limits: OutputLimits) -> st.SearchStrategy[float]:
    high = limits.max_output_framerate
    ntsc = [rate for rate in (23.976, 29.97, 59.94) if rate <= high]
    return st.one_of(st.just(0), st.sampled_from([MIN_FRAMERATE, high, *ntsc]), st.floats(MIN_FRAMERATE, high))


@st.composite
def accepted_requests(draw: st.DrawFn, limits: OutputLimits) -> dict[str, Any]:
    vcodec = draw(st.sampled_from(["h264", "h265"]))
    request: dict[str, Any] = {
        "resolution": draw(accepted_resolutions(limits, min_output_side(vcodec))),
        "framerate": draw(accepted_framerates(limits)),
        "quality": draw(st.integers(*QUALITY_RANGE)),
        "format": draw(st.sampled_from(["mp4", "hls", "flv"])),
        "audio_bitrate": draw(st.sampled_from(AUDIO_BITRATES)),
        "video_bitrate": draw(st.none() | st.integers(*VIDEO_BITRATE_RANGE)),
        "gop_seconds": draw(st.none() | st.floats(0, GOP_SECONDS_MAX, exclude_min=True)),
    }
    request["vcodec"] = "h264" if request["format"] == "flv" else vcodec
    if request["format"] == "hls":
        request["hls_seg_time"] = draw(st.none() | st.integers(*HLS_SEG_TIME_RANGE))
    if draw(st.booleans()):
        request["logo_path"] = LOGO_PATH
        sides = st.integers(*LOGO_SIDES)
        request["logo_size"] = draw(st.none() | st.tuples(sides, sides).map(lambda s: f"{s[0]}x{s[1]}"))
        offsets = st.integers(0, LOGO_MAX_OFFSET)
        request["logo_offset"] = draw(st.none() | st.tuples(offsets, offsets).map(lambda o: f"x={o[0]}:y={o[1]}"))
    return request


# ---------------------------------------------------------------- requests near the accepted space

_near_resolutions = st.one_of(
    st.from_regex(r"\A0?[0-9]{1,5}[xX]0?[0-9]{1,5}\Z"),
    st.from_regex(r"\A0?[0-9]{1,4}[pP]\Z"),
    st.sampled_from(["0640x0360", "641x361", "7680x7680", "4096x4096", "1x1", "0x0", " 720p", "-720p", "ORIGINAL"]),
)
_near_numbers = st.one_of(
    st.integers(-2, 200_000),
    st.floats(-1, 200),
    st.sampled_from([0.0001, 0.5, 0.9999, 120.0001, math.nan, math.inf, -math.inf]),
    st.booleans(),
    st.just("30"),
)


@st.composite
def near_requests(draw: st.DrawFn, limits: OutputLimits) -> dict[str, Any]:
    """An accepted request with one or two fields moved to values the rules may or may not accept."""
    request = draw(accepted_requests(limits))
    moves = {
        "resolution": _near_resolutions,
        "framerate": _near_numbers,
        "quality": _near_numbers,
        "audio_bitrate": _near_numbers,
        "video_bitrate": _near_numbers,
        "gop_seconds": _near_numbers,
        "hls_seg_time": _near_numbers,
        "vcodec": st.sampled_from(["h264", "h265"]),
        "logo_size": st.from_regex(r"\A0?[0-9]{1,5}x[0-9]{1,5}\n?\Z"),
        "logo_offset": st.from_regex(r"\Ax=0?[0-9]{1,5}:y=[0-9]{1,5}\Z"),
    }
    for field in draw(st.lists(st.sampled_from(sorted(moves)), min_size=1, max_size=2, unique=True)):
        request[field] = draw(moves[field])
    return request


def _validated(request: dict[str, Any], limits: OutputLimits) -> Template | None:
    try:
        fields = TemplateFields.model_validate(request, context={LIMITS_CONTEXT: limits})
    except ValidationError:
        return None
    return fields.to_template(template_id="tpl-p", name="property")


def _stored_as_is(request: dict[str, Any]) -> Template:
    """The request written straight into a template, as one stored before today's rules would be."""
    return Template.from_dict({"template_id": "tpl-p", "name": "property", **request})


def _logo_input(template: Template) -> tuple[int, int] | None:
    return LOGO_INPUT if template.logo_path else None


@pytest.mark.parametrize("limits", [LIMITS, OutputLimits()], ids=["small-limits", "default-limits"])
@settings(max_examples=400, derandomize=True, deadline=None, database=None)
@given(data=st.data())
def test_the_validator_accepts_exactly_what_the_plan_plans(limits: OutputLimits, data: st.DataObject) -> None:
    request = data.draw(st.one_of(accepted_requests(limits), near_requests(limits)))
    accepted = _validated(request, limits)
    if accepted is not None:
        plan = plan_encode(accepted, _MEDIA, _logo_input(accepted), limits=limits)
        assert plan.width * plan.height <= limits.max_output_pixels
        return
    try:
        stored = _stored_as_is(request)
    except (ValueError, TypeError):
        return  # not even a template (an unknown vcodec): nothing could store it
    with pytest.raises(TemplateRuleError):
        plan_encode(stored, _MEDIA, _logo_input(stored), limits=limits)


# ---------------------------------------------------------------- encoding what is accepted


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("property") / "source.mp4"
    width, height = SOURCE_SIZE
    return generate_clip(str(path), seconds=SOURCE_SECONDS, size=f"{width}x{height}", rate=SOURCE_FPS)


@pytest.fixture(scope="module")
def logo(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("logo") / "logo.rgba"
    width, height = LOGO_INPUT
    path.write_bytes(bytes([255, 0, 0, 128]) * width * height)
    return str(path)


_ENCODED_CODECS = {"h264": "h264", "h265": "hevc"}
_FORMATS = {"mp4": "mov,mp4,m4a,3gp,3g2,mj2", "flv": "flv", "hls": "hls"}


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(request={"resolution": "64x404", "framerate": 1, "format": "hls", "vcodec": "h265", "hls_seg_time": 1})
@example(request={"resolution": "16x16", "framerate": 59.94, "format": "flv", "vcodec": "h264", "gop_seconds": 0.01})
@example(request={"resolution": "original", "logo_path": LOGO_PATH, "logo_size": "4096x2", "logo_offset": "x=7680:y=0"})
@example(request={"resolution": "360P", "vcodec": "h265", "quality": 10, "video_bitrate": 64, "audio_bitrate": 32})
@given(request=accepted_requests(LIMITS))
def test_every_accepted_template_encodes_the_promised_streams(
    request: dict[str, Any], source: str, logo: str, tmp_path: Path
) -> None:
    template = _validated(request, LIMITS)
    assert template is not None, f"the strategy made a request the API refuses: {request}"
    plan = plan_encode(template, probe(source), _logo_input(template), limits=LIMITS)
    destination = tmp_path / f"out-{abs(hash(str(request)))}{template.extension}"
    run_encode(
        plan,
        source,
        str(destination),
        duration=SOURCE_SECONDS,
        timeout_seconds=60,
        logo=logo if template.logo_path else None,
    )

    facts = probe_file(str(destination))
    assert facts.format_name == _FORMATS[template.format.value]
    assert (facts.video_codec, facts.width, facts.height) == (
        _ENCODED_CODECS[template.vcodec.value],
        plan.width,
        plan.height,
    )
    assert facts.audio_codec == "aac", "the source has audio"
    rate = template.framerate or SOURCE_FPS
    expected_frames = rate * SOURCE_SECONDS
    assert math.floor(expected_frames) - 2 <= facts.frame_count <= math.ceil(expected_frames) + 2, facts.summary()
    check_complete(source=probe(source), encoded=probe(str(destination)))
