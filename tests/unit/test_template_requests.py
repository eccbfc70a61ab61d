"""Template requests: each field of api.md validated, combinations checked (logo fields: test_logo_template.py)."""

from typing import Any

import pytest
from pydantic import ValidationError

from transcoder.api.requests import validation_error
from transcoder.api.template_requests import AddTemplateRequest, TemplateFields
from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
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
    ],
)
def test_bad_fields_are_named(fields: dict[str, Any], code: int, field: str) -> None:
    got_code, detail = _error({**VALID, **fields})
    assert got_code == code
    assert field in detail


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
