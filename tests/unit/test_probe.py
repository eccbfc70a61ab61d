"""Parsing ffprobe's JSON, validating sources, and probing real files."""

from pathlib import Path
from typing import Any

import pytest

from transcoder.errors import InputNotDecodable, InputOverLimits, NoVideoStream
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.media.probe import parse_probe_output, probe, validate_source

GIB = 1024**3


def video_stream(**overrides: Any) -> dict[str, Any]:
    stream: dict[str, Any] = {
        "index": 0,
        "codec_name": "h264",
        "codec_type": "video",
        "width": 1920,
        "height": 1080,
        "sample_aspect_ratio": "1:1",
        "r_frame_rate": "30/1",
        "avg_frame_rate": "30/1",
        "nb_frames": "300",
        "disposition": {"default": 1, "attached_pic": 0},
    }
    stream.update(overrides)
    return stream


def audio_stream(**overrides: Any) -> dict[str, Any]:
    stream: dict[str, Any] = {
        "index": 1,
        "codec_name": "aac",
        "codec_type": "audio",
        "channels": 2,
        "sample_rate": "48000",
        "disposition": {"default": 1, "attached_pic": 0},
    }
    stream.update(overrides)
    return stream


def probe_json(*streams: dict[str, Any], **fmt: Any) -> dict[str, Any]:
    format_section: dict[str, Any] = {
        "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration": "10.000000",
        "size": "1250000",
        "bit_rate": "1000000",
    }
    format_section.update(fmt)
    return {"streams": list(streams), "format": {k: v for k, v in format_section.items() if v is not None}}


# ---------------------------------------------------------------- parse_probe_output


def test_parse_plain_video_with_audio() -> None:
    info = parse_probe_output(probe_json(video_stream(), audio_stream()))
    assert info.format_name == "mov,mp4,m4a,3gp,3g2,mj2"
    assert info.duration == 10.0
    assert info.size_bytes == 1_250_000
    assert info.bitrate_kbps == 1000.0
    assert info.video == VideoStream(
        codec="h264",
        width=1920,
        height=1080,
        display_width=1920,
        display_height=1080,
        fps=30.0,
        frame_count=300,
    )
    assert info.audio == AudioStream(codec="aac", channels=2, sample_rate=48000)


def test_attached_pic_is_not_a_video() -> None:
    cover = video_stream(codec_name="mjpeg", width=600, height=600, disposition={"attached_pic": 1})
    info = parse_probe_output(probe_json(audio_stream(index=0), cover))
    assert info.video is None
    assert info.audio is not None


def test_attached_pic_skipped_for_the_real_video() -> None:
    cover = video_stream(codec_name="mjpeg", width=600, height=600, disposition={"attached_pic": 1})
    info = parse_probe_output(probe_json(cover, video_stream(width=1280, height=720)))
    assert info.video is not None
    assert info.video.codec == "h264"
    assert (info.video.width, info.video.height) == (1280, 720)


@pytest.mark.parametrize("rotation", [90, -90, 270, -270, "-90.00"])
def test_rotation_from_side_data_swaps_display(rotation: Any) -> None:
    stream = video_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": rotation}])
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert (v.width, v.height) == (1920, 1080)
    assert (v.display_width, v.display_height) == (1080, 1920)


@pytest.mark.parametrize("rotation", ["90", "270", "-90"])
def test_rotation_from_tags_swaps_display(rotation: str) -> None:
    v = parse_probe_output(probe_json(video_stream(tags={"rotate": rotation}))).video
    assert v is not None
    assert (v.display_width, v.display_height) == (1080, 1920)


@pytest.mark.parametrize("rotation", [0, 180, -180, "0"])
def test_half_turn_keeps_display(rotation: Any) -> None:
    side = video_stream(side_data_list=[{"side_data_type": "Display Matrix", "rotation": rotation}])
    tag = video_stream(tags={"rotate": str(rotation)})
    for stream in (side, tag):
        v = parse_probe_output(probe_json(stream)).video
        assert v is not None
        assert (v.display_width, v.display_height) == (1920, 1080)


def test_side_data_without_rotation_falls_back_to_tag() -> None:
    stream = video_stream(side_data_list=[{"side_data_type": "CPB properties"}], tags={"rotate": "90"})
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert (v.display_width, v.display_height) == (1080, 1920)


def test_anamorphic_sar() -> None:
    stream = video_stream(width=720, height=576, sample_aspect_ratio="64:45")
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert (v.width, v.height) == (720, 576)
    assert (v.display_width, v.display_height) == (1024, 576)


def test_anamorphic_and_rotated() -> None:
    stream = video_stream(width=720, height=576, sample_aspect_ratio="64:45", tags={"rotate": "90"})
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert (v.display_width, v.display_height) == (576, 1024)


@pytest.mark.parametrize("sar", ["0:1", "N/A", None, "1:0"])
def test_unknown_sar_means_square_pixels(sar: str | None) -> None:
    stream = video_stream()
    if sar is None:
        del stream["sample_aspect_ratio"]
    else:
        stream["sample_aspect_ratio"] = sar
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert (v.display_width, v.display_height) == (1920, 1080)


def test_fps_fraction_and_fallback() -> None:
    ntsc = parse_probe_output(probe_json(video_stream(avg_frame_rate="30000/1001"))).video
    assert ntsc is not None
    assert ntsc.fps == pytest.approx(29.97, abs=0.001)
    fallback = parse_probe_output(probe_json(video_stream(avg_frame_rate="0/0", r_frame_rate="25/1"))).video
    assert fallback is not None
    assert fallback.fps == 25.0


@pytest.mark.parametrize(("nb_frames", "expected"), [("300", 300), ("N/A", None), (None, None)])
def test_frame_count(nb_frames: str | None, expected: int | None) -> None:
    stream = video_stream()
    stream.pop("nb_frames")
    if nb_frames is not None:
        stream["nb_frames"] = nb_frames
    v = parse_probe_output(probe_json(stream)).video
    assert v is not None
    assert v.frame_count == expected


@pytest.mark.parametrize("bit_rate", [None, "N/A", "0"])
def test_missing_bitrate_computed_from_size_and_duration(bit_rate: str | None) -> None:
    # 1,250,000 bytes over 10 s = 1,000 kbps.
    info = parse_probe_output(probe_json(video_stream(), bit_rate=bit_rate))
    assert info.bitrate_kbps == pytest.approx(1000.0)


def test_missing_bitrate_and_duration_gives_zero() -> None:
    info = parse_probe_output(probe_json(video_stream(), bit_rate=None, duration=None))
    assert info.duration == 0.0
    assert info.bitrate_kbps == 0.0


def test_empty_output() -> None:
    info = parse_probe_output({})
    assert info.video is None
    assert info.audio is None
    assert info.duration == 0.0
    assert info.size_bytes == 0


def test_first_audio_stream_is_used() -> None:
    info = parse_probe_output(probe_json(video_stream(), audio_stream(channels=6), audio_stream(channels=2)))
    assert info.audio is not None
    assert info.audio.channels == 6


def test_media_info_dict_round_trip() -> None:
    info = parse_probe_output(probe_json(video_stream(), audio_stream()))
    assert MediaInfo.from_dict(info.to_dict()) == info
    audio_only = parse_probe_output(probe_json(audio_stream()))
    assert MediaInfo.from_dict(audio_only.to_dict()) == audio_only


# ---------------------------------------------------------------- validate_source

LIMITS: dict[str, Any] = {"max_bytes": 4 * GIB, "max_seconds": 900}


def test_validate_returns_the_video_stream() -> None:
    info = parse_probe_output(probe_json(video_stream(), audio_stream()))
    assert validate_source(info, **LIMITS) is info.video


def test_validate_audio_only() -> None:
    info = parse_probe_output(probe_json(audio_stream()))
    with pytest.raises(NoVideoStream) as caught:
        validate_source(info, **LIMITS)
    assert caught.value.err_code == 2004
    assert "audio" in str(caught.value)


def test_validate_audio_with_cover_art() -> None:
    cover = video_stream(codec_name="png", disposition={"attached_pic": 1})
    info = parse_probe_output(probe_json(audio_stream(), cover))
    with pytest.raises(NoVideoStream):
        validate_source(info, **LIMITS)


def test_validate_no_streams() -> None:
    with pytest.raises(NoVideoStream) as caught:
        validate_source(parse_probe_output(probe_json()), **LIMITS)
    assert caught.value.err_code == 2004


@pytest.mark.parametrize("duration", ["0", "0.000000", None, "N/A"])
def test_validate_zero_duration(duration: str | None) -> None:
    info = parse_probe_output(probe_json(video_stream(), duration=duration))
    with pytest.raises(InputNotDecodable) as caught:
        validate_source(info, **LIMITS)
    assert caught.value.err_code == 2002


def test_validate_no_picture_size() -> None:
    info = parse_probe_output(probe_json(video_stream(width=0, height=0)))
    with pytest.raises(InputNotDecodable):
        validate_source(info, **LIMITS)


def test_validate_too_large() -> None:
    info = parse_probe_output(probe_json(video_stream(), size=str(4 * GIB + 1)))
    with pytest.raises(InputOverLimits) as caught:
        validate_source(info, **LIMITS)
    assert caught.value.err_code == 2003
    assert validate_source(parse_probe_output(probe_json(video_stream(), size=str(4 * GIB))), **LIMITS)


def test_validate_too_long() -> None:
    info = parse_probe_output(probe_json(video_stream(), duration="900.5"))
    with pytest.raises(InputOverLimits) as caught:
        validate_source(info, **LIMITS)
    assert caught.value.err_code == 2003
    assert validate_source(parse_probe_output(probe_json(video_stream(), duration="900")), **LIMITS)


# ---------------------------------------------------------------- probe() on real files


def test_probe_real_clip_with_audio(clip_with_audio: str) -> None:
    info = probe(clip_with_audio)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (320, 240)
    assert (info.video.display_width, info.video.display_height) == (320, 240)
    assert info.video.codec == "h264"
    assert info.video.fps == pytest.approx(30.0, abs=0.01)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert info.size_bytes == Path(clip_with_audio).stat().st_size
    assert info.bitrate_kbps > 0
    assert info.audio is not None
    assert info.audio.codec == "aac"
    assert info.audio.sample_rate == 48000
    assert validate_source(info, **LIMITS) is info.video


def test_probe_real_clip_without_audio(clip_without_audio: str) -> None:
    info = probe(clip_without_audio)
    assert info.video is not None
    assert (info.video.width, info.video.height) == (320, 240)
    assert info.video.fps == pytest.approx(30.0, abs=0.01)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert info.audio is None


@pytest.mark.parametrize("content", [b"this is not a video\n" * 10, b""], ids=["text", "empty"])
def test_probe_undecodable_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "secret-name-1234.mp4"
    path.write_bytes(content)
    with pytest.raises(InputNotDecodable) as caught:
        probe(str(path))
    message = str(caught.value)
    assert caught.value.err_code == 2002
    assert str(path) not in message
    assert "secret-name-1234" not in message
    assert str(tmp_path) not in message


def test_probe_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputNotDecodable) as caught:
        probe(str(tmp_path / "nope.mp4"))
    assert "nope.mp4" not in str(caught.value)


def test_error_message_never_carries_a_path_with_colons(tmp_path: Path) -> None:
    folder = tmp_path / "sig: secret-token"
    folder.mkdir()
    bogus = folder / "input.mp4"
    bogus.write_bytes(b"definitely not media" * 10)
    with pytest.raises(InputNotDecodable) as raised:
        probe(str(bogus))
    assert "secret-token" not in str(raised.value)
    assert "input.mp4" not in str(raised.value)
