"""Logo watermark fields: validated at add/update_template, and the exact ffmpeg arguments they become."""

from typing import Any

import pytest
from pydantic import ValidationError

from transcoder.api.requests import validation_error
from transcoder.api.template_requests import AddTemplateRequest, TemplateFields
from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.templates import Template

VALID = {"name": "logo_720p", "resolution": "360p", "logo_path": "https://cdn.example.com/brand/logo.png"}


def _error(fields: dict[str, Any]) -> tuple[int, str]:
    with pytest.raises(ValidationError) as raised:
        AddTemplateRequest(**fields)
    error = validation_error(raised.value.errors())
    return int(error.code), error.detail


def test_logo_fields_are_kept_in_canonical_form() -> None:
    request = AddTemplateRequest(**VALID, logo_size="064x0032", logo_offset="x=007:y=0")
    template = request.to_template(template_id="tpl-x", name=request.name)
    assert (template.logo_path, template.logo_size, template.logo_offset) == (VALID["logo_path"], "64x32", "x=7:y=0")
    assert Template.from_dict(template.to_dict()) == template


def test_s3_logo_in_a_readable_bucket_is_accepted() -> None:
    assert AddTemplateRequest(name="n", resolution="360p", logo_path="s3://test-input/brand/logo.png").logo_path


def test_empty_logo_fields_mean_no_logo() -> None:
    template = AddTemplateRequest(name="n", resolution="360p", logo_path="").to_template(template_id="t", name="n")
    assert (template.logo_path, template.logo_size, template.logo_offset) == (None, None, None)


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        ({"logo_path": "http://cdn.example.com/logo.png"}, "logo_path: must be https:// or s3:// (got http scheme)"),
        ({"logo_path": "s3://elsewhere/logo.png"}, "logo_path: bucket 'elsewhere' is not readable by this service"),
        ({"logo_path": "s3://test-input/"}, "logo_path: object key is empty"),
        ({"logo_path": "s3://test-input/logo.png?versionId=1"}, "logo_path: must not carry a query"),
        ({"logo_path": "file:///etc/passwd"}, "logo_path: must be https://"),
        ({"logo_path": "s3x://bucket/logo.png"}, "logo_path: must be https://"),
        ({"logo_path": "https://user:pw@cdn.example.com/logo.png"}, "logo_path: must not carry credentials"),
        ({"logo_path": "https://:443/logo.png"}, "logo_path: has no host"),
        ({"logo_path": "https://cdn.example.com:70000/l.png"}, "logo_path: has an invalid port"),
        ({"logo_path": "https://[::1/l.png"}, "logo_path: is malformed"),
        ({"logo_path": "https://cdn.example.com/a\tb.png"}, "logo_path: must not contain spaces or control"),
        ({"logo_path": " https://cdn.example.com/l.png"}, "logo_path: must not contain spaces or control"),
        ({"logo_path": "https://cdn.example.com/" + "a" * 2048}, "logo_path: String should have at most 2048"),
        ({"logo_path": 5}, "logo_path: Input should be a valid string"),
        ({"logo_size": "1x32"}, "logo_size: must be WxH, 2 to 4096 pixels each"),
        ({"logo_size": "64x5000"}, "logo_size: must be WxH"),
        ({"logo_size": "64X32"}, "logo_size: must be WxH"),
        ({"logo_size": "-64x32"}, "logo_size: must be WxH"),
        ({"logo_offset": "x=10,y=10"}, "logo_offset: must be x=N:y=N, 0 to 7680 each"),
        ({"logo_offset": "x=7681:y=0"}, "logo_offset: must be x=N:y=N"),
        ({"logo_offset": "x=-1:y=0"}, "logo_offset: must be x=N:y=N"),
        ({"logo_offset": "x=1:y=2:z=3"}, "logo_offset: must be x=N:y=N"),
    ],
)
def test_bad_logo_fields_are_1002_naming_the_field(fields: dict[str, Any], detail: str) -> None:
    code, got = _error({**VALID, **fields})
    assert code == 1002
    assert got.startswith(detail), got


@pytest.mark.parametrize("field", ["logo_size", "logo_offset"])
def test_size_or_offset_without_a_logo_is_1002(field: str) -> None:
    value = {"logo_size": "64x32", "logo_offset": "x=1:y=2"}[field]
    code, detail = _error({"name": "n", "resolution": "360p", field: value})
    assert (code, detail) == (1002, f"{field}: only with logo_path")


_MEDIA = MediaInfo(
    format_name="mov",
    duration=10,
    size_bytes=1,
    bitrate_kbps=1,
    video=VideoStream("h264", 1280, 720, 1280, 720, 30.0, 300),
    audio=AudioStream("aac", 2, 48000),
)
_LOGO_URL = "http://127.0.0.1:5000/work/tasks/t/logo.rgba?X-Amz-Signature=abc"


def _template(**fields: Any) -> Template:
    return TemplateFields(resolution="360p", **fields).to_template(template_id="t", name="n")


def test_logo_becomes_a_raw_second_input_and_an_overlay_graph() -> None:
    template = _template(logo_path=VALID["logo_path"], logo_size="40x20", logo_offset="x=100:y=50")
    command = plan_encode(template, _MEDIA, (64, 32)).command("ffmpeg", "in.mp4", "/tmp/out.mp4", _LOGO_URL)
    second_input = command.index(_LOGO_URL)
    assert command[second_input - 7 : second_input + 1] == [
        *("-f", "rawvideo", "-pixel_format", "rgba", "-video_size", "64x32", "-i", _LOGO_URL),
    ]
    # The logo is read over HTTP like the source: bounded waits.
    assert command[second_input - 13 : second_input - 11] == ["-rw_timeout", "30000000"]
    assert command[command.index("-filter_complex") + 1] == (
        "[0:V:0]scale=640:360,setsar=1[base];"
        "[1:v:0]scale=40:20[logo];"
        "[base][logo]overlay=x=100:y=50:eof_action=repeat:repeatlast=1[video]"
    )
    maps = [command[i + 1] for i, arg in enumerate(command) if arg == "-map"]
    assert maps == ["[video]", "0:a:0"]
    assert "-vf" not in command
    assert command[command.index("-c:v") + 1] == "libx264"
    assert command[-1] == "/tmp/out.mp4"


def test_logo_defaults_its_own_size_at_10_10_and_keeps_the_frame_rate_filter() -> None:
    template = _template(logo_path=VALID["logo_path"], framerate=10)
    plan = plan_encode(template, _MEDIA, (64, 32))
    graph = plan.output_args[plan.output_args.index("-filter_complex") + 1]
    assert graph == (
        "[0:V:0]scale=640:360,setsar=1,fps=10[base];[base][1:v:0]overlay=x=10:y=10:eof_action=repeat:repeatlast=1[video]"
    )


def test_without_a_logo_the_arguments_are_a_single_input() -> None:
    command = plan_encode(_template(), _MEDIA).command("ffmpeg", "in.mp4", "/tmp/out.mp4")
    assert command.count("-i") == 1
    assert "-filter_complex" not in command
    assert command[command.index("-vf") + 1] == "scale=640:360,setsar=1"


def test_logo_input_and_template_must_agree() -> None:
    with pytest.raises(ValueError, match="logo"):
        plan_encode(_template(logo_path=VALID["logo_path"]), _MEDIA)
    with pytest.raises(ValueError, match="logo"):
        plan_encode(_template(), _MEDIA, (64, 32))
    plan = plan_encode(_template(logo_path=VALID["logo_path"]), _MEDIA, (64, 32))
    with pytest.raises(ValueError, match="logo"):
        plan.command("ffmpeg", "in.mp4", "out.mp4")


def test_stored_logo_fields_that_are_not_integers_never_reach_ffmpeg() -> None:
    # Stored templates are validated, but the plan parses again rather than trust text.
    template = Template(template_id="t", name="n", resolution="360p", logo_path="https://x/l.png", logo_size="1x1;rm")
    with pytest.raises(ValueError, match="logo_size"):
        plan_encode(template, _MEDIA, (64, 32))
    template = Template(
        template_id="t", name="n", resolution="360p", logo_path="https://x/l.png", logo_offset="x=1:y=1[a]"
    )
    with pytest.raises(ValueError, match="logo_offset"):
        plan_encode(template, _MEDIA, (64, 32))
