"""Templates: the built-in set of api.md, serialisation, extension."""

import pytest

from transcoder.templates import (
    BUILTIN_TEMPLATES,
    ContainerFormat,
    Template,
    TemplateType,
    VideoCodec,
    find_builtin,
)

# Copied from api.md, not derived from the code.
EXPECTED_BUILTINS = [
    ("builtin-MP4-264-360p", "MP4_264_360p", "h264", "360p"),
    ("builtin-MP4-264-480p", "MP4_264_480p", "h264", "480p"),
    ("builtin-MP4-264-720p", "MP4_264_720p", "h264", "720p"),
    ("builtin-MP4-264-1080p", "MP4_264_1080p", "h264", "1080p"),
    ("builtin-MP4-264-Original", "MP4_264_Original", "h264", "original"),
    ("builtin-MP4-265-360p", "MP4_265_360p", "h265", "360p"),
    ("builtin-MP4-265-480p", "MP4_265_480p", "h265", "480p"),
    ("builtin-MP4-265-720p", "MP4_265_720p", "h265", "720p"),
    ("builtin-MP4-265-1080p", "MP4_265_1080p", "h265", "1080p"),
    ("builtin-MP4-265-Original", "MP4_265_Original", "h265", "original"),
]


@pytest.mark.parametrize(("template_id", "name", "vcodec", "resolution"), EXPECTED_BUILTINS)
def test_builtin_exists_with_contract_id_and_name(template_id: str, name: str, vcodec: str, resolution: str) -> None:
    by_name = find_builtin(name=name)
    by_id = find_builtin(template_id=template_id)
    assert by_name is not None
    assert by_name is by_id
    assert by_name.template_id == template_id
    assert by_name.name == name
    assert by_name.vcodec == vcodec
    assert by_name.resolution.lower() == resolution
    assert by_name.format is ContainerFormat.MP4
    assert by_name.template_type is TemplateType.BUILT_IN
    assert by_name.extension == ".mp4"
    assert 1 <= by_name.quality <= 10


# api.md's "plus an HLS adaptive ladder (ext)".
LADDER = ("builtin-HLS-264-ladder", "HLS_264_ladder")


def test_builtin_set_is_exactly_the_contract_set() -> None:
    assert sorted((t.template_id, t.name) for t in BUILTIN_TEMPLATES) == sorted(
        [*((template_id, name) for template_id, name, _, _ in EXPECTED_BUILTINS), LADDER]
    )
    assert len({t.template_id for t in BUILTIN_TEMPLATES}) == len(BUILTIN_TEMPLATES)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "MP4_264_999p"},
        {"name": "mp4_264_360p"},  # names are case-sensitive
        {"template_id": "builtin-MP4-264-999p"},
        {"template_id": "MP4_264_360p"},  # a name is not an id
        {"name": ""},
        {},
    ],
)
def test_find_builtin_unknown(kwargs: dict[str, str]) -> None:
    assert find_builtin(**kwargs) is None


def test_find_builtin_name_is_not_an_id() -> None:
    assert find_builtin(name="builtin-MP4-264-360p") is None


def _custom() -> Template:
    return Template(
        template_id="tpl-1",
        name="my template",
        resolution="1280x720",
        vcodec=VideoCodec.H265,
        quality=8,
        framerate=25.0,
        audio_bitrate=96,
        video_bitrate=2500,
        description="desc",
    )


@pytest.mark.parametrize("template", [*BUILTIN_TEMPLATES, _custom()], ids=lambda t: t.template_id)
def test_to_dict_from_dict_round_trip(template: Template) -> None:
    data = template.to_dict()
    assert Template.from_dict(data) == template
    # JSON-ready: enums become their plain string values, `extra` is not serialised.
    assert type(data["vcodec"]) is str
    assert type(data["format"]) is str
    assert type(data["template_type"]) is str
    assert "extra" not in data


def test_to_dict_fields() -> None:
    data = _custom().to_dict()
    assert data == {
        "template_id": "tpl-1",
        "name": "my template",
        "resolution": "1280x720",
        "vcodec": "h265",
        "format": "mp4",
        "quality": 8,
        "framerate": 25.0,
        "acodec": "aac",
        "audio_bitrate": 96,
        "video_bitrate": 2500,
        "description": "desc",
        "template_type": "custom",
        "gop_seconds": None,
        "hls_seg_time": None,
        "logo_path": None,
        "logo_size": None,
        "logo_offset": None,
        "renditions": [],
    }


def test_from_dict_defaults_and_ignores_unknown_fields() -> None:
    template = Template.from_dict({"template_id": "t", "name": "n", "resolution": "720p", "unknown": 1})
    assert template.vcodec is VideoCodec.H264
    assert template.format is ContainerFormat.MP4
    assert template.template_type is TemplateType.CUSTOM
    assert template.quality == 5
    assert template.framerate == 0


def test_from_dict_rejects_unknown_codec() -> None:
    with pytest.raises(ValueError):
        Template.from_dict({"template_id": "t", "name": "n", "resolution": "720p", "vcodec": "vp9"})


def test_extension() -> None:
    assert _custom().extension == ".mp4"


def test_hls_ladder_builtin() -> None:
    ladder = find_builtin(name=LADDER[1])
    assert ladder is not None
    assert ladder is find_builtin(template_id=LADDER[0])
    assert (ladder.format, ladder.vcodec, ladder.renditions, ladder.extension) == (
        ContainerFormat.HLS,
        VideoCodec.H264,
        (1080, 720, 360),
        ".m3u8",
    )
    assert ladder.template_type is TemplateType.BUILT_IN
    assert ladder.to_dict()["renditions"] == [1080, 720, 360]
