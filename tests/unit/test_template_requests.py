"""Template requests: each field of api.md validated, combinations checked (logo fields: test_logo_template.py)."""

from typing import Any

import pytest
from pydantic import ValidationError

from transcoder.api.requests import validation_error
from transcoder.api.template_requests import LIMITS_CONTEXT, AddTemplateRequest, TemplateFields
from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.template_rules import OutputLimits
from transcoder.templates import ContainerFormat, VideoCodec

VALID = {"name": "my_720p-v2", "resolution": "720p"}


def _error(fields: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ValidationError) as raised:
        AddTemplateRequest(**fields)
    error = validation_error(raised.value.errors())
    return int(error.code), error.detail


def test_defaults_of_the_contract() -> None:
    request = AddTemplateRequest(**VALID)
    template = request.to_template(template_id="tpl-x", name=request.name)
    assert (template.format, template.vcodec, template.quality, template.framerate) == (
        ContainerFormat.MP4,
        VideoCodec.H264,
        5,
        0,
    )
    assert (template.acodec, template.audio_bitrate, template.template_type.value) == ("aac", 0, "custom")


@pytest.mark.parametrize(
    "resolution", ["360p", "480p", "540p", "720p", "1080p", "1440p", "2160p", "1280x720", "16x16", "0", "original"]
)
def test_resolutions_accepted(resolution: str) -> None:
    assert AddTemplateRequest(**{**VALID, "resolution": resolution}).resolution == resolution.lower()


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"resolution": None}, 1002, "resolution"),
        ({"name": "n"} | {"resolution": "720p", "name": ""}, 1002, "name"),
        ({"resolution": "999p"}, 1002, "resolution"),
        ({"resolution": "8x8"}, 1002, "resolution"),
        ({"resolution": "10000x720"}, 1002, "resolution"),
        ({"quality": 0}, 1002, "quality"),
        ({"quality": 11}, 1002, "quality"),
        ({"quality": "5"}, 1002, "quality"),
        ({"framerate": 121}, 1002, "framerate"),
        ({"framerate": -1}, 1002, "framerate"),
        ({"format": "avi"}, 1002, "format"),
        ({"vcodec": "vp9"}, 1002, "vcodec"),
        ({"acodec": "mp3"}, 1002, "acodec"),
        ({"audio_bitrate": 100}, 1002, "audio_bitrate"),
        ({"video_bitrate": 10}, 1002, "video_bitrate"),
        ({"gop_seconds": 0}, 1002, "gop_seconds"),
        ({"hls_seg_time": 5}, 1002, "hls_seg_time"),
        ({"format": "hls", "hls_seg_time": 0}, 1002, "hls_seg_time"),
        ({"format": "flv", "vcodec": "h265"}, 1002, "flv"),
        ({"logo_size": "big"}, 1002, "logo_size"),
        ({"logo_offset": "10,10"}, 1002, "logo_offset"),
        ({"name": "bad name with spaces"}, 1002, "name"),
        ({"name": "x" * 65}, 1002, "name"),
        # Accepted once, and then every task using them ended audio-only (framerate) or with 9000 (resolution).
        ({"framerate": 0.0001}, 1002, "framerate"),
        ({"framerate": 0.5}, 1002, "framerate"),
        ({"resolution": "0640x0360"}, 1002, "resolution"),
        ({"resolution": "640x0360"}, 1002, "resolution"),
        ({"resolution": "0720p"}, 1002, "resolution"),
        ({"resolution": "641x360"}, 1002, "resolution"),
        # Beyond the operator's default limits (4096 a side, 4096x2160 pixels): a 7680x7680 upscale took 4.3 GB.
        ({"resolution": "7680x7680"}, 1002, "resolution"),
        ({"resolution": "4096x4096"}, 1002, "resolution"),
        ({"resolution": "4098x16"}, 1002, "resolution"),
        ({"framerate": float("nan")}, 1002, "framerate"),
        ({"framerate": float("inf")}, 1002, "framerate"),
        ({"gop_seconds": float("nan")}, 1002, "gop_seconds"),
        ({"audio_bitrate": True}, 1002, "audio_bitrate"),
        ({"resolution": "48x48", "vcodec": "h265"}, 1002, "resolution"),  # x265 crashed on 1 run in 3
        ({"resolution": "\u0666\u0664\u0660x\u0663\u0666\u0660"}, 1002, "resolution"),  # Arabic-Indic 640x360
        ({"resolution": "\uff16\uff14\uff10x360"}, 1002, "resolution"),  # full-width digits
        ({"resolution": "6\u0664\u0660x360"}, 1002, "resolution"),  # int() reads it as 640
        ({"logo_path": "https://cdn.example.com/l.png", "logo_size": "6\u0664x32"}, 1002, "logo_size"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, Any], code: int, field: str) -> None:
    got_code, detail = _error({**VALID, **fields})
    assert got_code == code
    assert field in detail


@pytest.mark.parametrize(
    ("fields", "limit"),
    [
        ({"resolution": "7680x7680"}, "4096"),
        ({"resolution": "4096x4096"}, str(4096 * 2160)),
        ({"framerate": 121}, "max_output_framerate"),
    ],
)
def test_refusals_beyond_the_limits_name_the_limit(fields: dict[str, Any], limit: str) -> None:
    code, detail = _error({**VALID, **fields})
    assert code == 1002
    assert limit in detail and "operator" in detail


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"resolution": "3840x2160"}, {"resolution": "3840x2160"}),
        ({"resolution": "4096x2160"}, {"resolution": "4096x2160"}),
        ({"resolution": "2160x4096"}, {"resolution": "2160x4096"}),
        ({"resolution": "1920X1080"}, {"resolution": "1920x1080"}),
        ({"framerate": 23.976}, {"framerate": 23.976}),
        ({"framerate": 29.97002997}, {"framerate": 29.97}),
        ({"framerate": 1}, {"framerate": 1.0}),
        ({"framerate": 120}, {"framerate": 120.0}),
        ({"framerate": 0}, {"framerate": 0.0}),
    ],
)
def test_accepted_values_are_stored_canonical(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    request = AddTemplateRequest(**{**VALID, **fields})
    assert {name: getattr(request, name) for name in expected} == expected


def test_the_operators_limits_are_the_ones_checked() -> None:
    limits = OutputLimits(max_output_pixels=640 * 360, max_output_dimension=640, max_output_framerate=30)
    context = {LIMITS_CONTEXT: limits}
    assert AddTemplateRequest.model_validate({**VALID, "resolution": "640x360", "framerate": 30}, context=context)
    for fields in ({"resolution": "720p"}, {"resolution": "642x360"}, {"resolution": "640x362"}, {"framerate": 31}):
        with pytest.raises(ValidationError) as raised:
            AddTemplateRequest.model_validate({**VALID, "resolution": "360p", **fields}, context=context)
        assert next(iter(fields)) in validation_error(raised.value.errors()).detail


def test_update_validates_the_merged_template() -> None:
    """update_template merges the stored fields with the changes and validates the whole (template_routes)."""
    stored = AddTemplateRequest(**VALID).to_template(template_id="tpl-x", name=VALID["name"])
    for change in ({"framerate": 0.0001}, {"resolution": "0640x0360"}, {"resolution": "7680x7680"}):
        with pytest.raises(ValidationError) as raised:
            TemplateFields(**{**stored.to_dict(), **change})
        error = validation_error(raised.value.errors())
        assert (int(error.code), error.detail.split(":")[0]) == (1002, next(iter(change)))


def test_missing_name_and_resolution_are_lack_param() -> None:
    assert _error({"resolution": "720p"}) == (1001, "name")
    assert _error({"name": "x"}) == (1001, "resolution")


_MEDIA = MediaInfo(
    format_name="mov",
    duration=10,
    size_bytes=1,
    bitrate_kbps=1,
    video=VideoStream("h264", 1280, 720, 1280, 720, 30.0, 300),
    audio=AudioStream("aac", 2, 48000),
)


def _plan(**fields: Any) -> list[str]:
    template = TemplateFields(resolution="360p", **fields).to_template(template_id="t", name="n")
    return plan_encode(template, _MEDIA).command("ffmpeg", "in.mp4", "/tmp/out/clip" + template.extension)


def test_gop_seconds_sets_the_keyframe_interval() -> None:
    command = _plan(gop_seconds=2)
    assert command[command.index("-g") + 1] == "60"
    assert "-g" not in _plan()


def test_flv_and_hls_containers() -> None:
    flv = _plan(format="flv")
    assert flv[flv.index("-f") + 1] == "flv"
    assert "+faststart" not in flv
    assert flv[-1] == "/tmp/out/clip.flv"
    hls = _plan(format="hls", hls_seg_time=4)
    assert hls[hls.index("-f") + 1] == "hls"
    assert hls[hls.index("-hls_time") + 1] == "4"
    assert hls[hls.index("-hls_playlist_type") + 1] == "vod"
    assert hls[hls.index("-hls_segment_filename") + 1] == "/tmp/out/clip_%05d.ts"
    assert hls[-1] == "/tmp/out/clip.m3u8"
