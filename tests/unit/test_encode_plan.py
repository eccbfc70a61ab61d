"""Output size and the ffmpeg argument list built from a template and a probed source."""

import itertools
import re

import pytest

from transcoder.media.encode_plan import EncodePlan, crf_for, output_size, plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.template_rules import OutputLimits, OutputOverLimits, TemplateRuleError
from transcoder.templates import Template, VideoCodec, find_builtin


def video(
    width: int, height: int, *, display: tuple[int, int] | None = None, fps: float = 30.0, codec: str = "h264"
) -> VideoStream:
    display_width, display_height = display or (width, height)
    return VideoStream(
        codec=codec,
        width=width,
        height=height,
        display_width=display_width,
        display_height=display_height,
        fps=fps,
        frame_count=None,
    )


def media(v: VideoStream | None = None, *, channels: int | None = 2) -> MediaInfo:
    audio = AudioStream(codec="aac", channels=channels, sample_rate=48000) if channels is not None else None
    return MediaInfo(
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration=10.0,
        size_bytes=1_000_000,
        bitrate_kbps=800.0,
        video=v if v is not None else video(1920, 1080),
        audio=audio,
    )


def template(**kwargs: object) -> Template:
    values: dict[str, object] = {"template_id": "t", "name": "n", "resolution": "720p"}
    values.update(kwargs)
    return Template(**values)  # type: ignore[arg-type]


def value_after(args: list[str], flag: str) -> str:
    assert args.count(flag) == 1, f"{flag} should appear exactly once in {args}"
    return args[args.index(flag) + 1]


def pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


# ---------------------------------------------------------------- output_size


@pytest.mark.parametrize(
    ("source", "resolution", "expected"),
    [
        ((1920, 1080), "360p", (640, 360)),
        ((1920, 1080), "480p", (854, 480)),  # 853.33 -> nearest even
        ((1920, 1080), "720p", (1280, 720)),
        ((1920, 1080), "1080p", (1920, 1080)),
        ((1920, 1080), "2160p", (1920, 1080)),  # never upscaled
        ((640, 360), "720p", (640, 360)),  # never upscaled
        ((640, 360), "1080p", (640, 360)),
        ((640, 360), "360p", (640, 360)),
        ((1080, 1920), "360p", (360, 640)),  # portrait: the short side is the width
        ((1080, 1920), "720p", (720, 1280)),
        ((3840, 2160), "1080p", (1920, 1080)),
        ((1000, 1000), "360p", (360, 360)),
    ],
)
def test_short_side_resolutions(source: tuple[int, int], resolution: str, expected: tuple[int, int]) -> None:
    assert output_size(video(*source), resolution) == expected


@pytest.mark.parametrize(
    ("source", "resolution"),
    [
        ((1921, 1081), "original"),
        ((641, 361), "original"),
        ((641, 361), "360p"),
        ((1279, 719), "480p"),
        ((853, 479), "1080p"),
        ((101, 57), "0"),
        ((1919, 817), "720p"),
        ((999, 1777), "360p"),
    ],
)
def test_sizes_are_even_and_keep_aspect_ratio(source: tuple[int, int], resolution: str) -> None:
    width, height = output_size(video(*source), resolution)
    assert width % 2 == 0
    assert height % 2 == 0
    assert width >= 2
    assert height >= 2
    # Rounding each side to an even number moves it by at most 1 pixel (plus scaling float error).
    src_w, src_h = source
    scale = min(1.0, int(resolution[:-1]) / min(src_w, src_h)) if resolution.endswith("p") else 1.0
    assert abs(width - src_w * scale) <= 1.01
    assert abs(height - src_h * scale) <= 1.01
    assert width <= src_w + 1
    assert height <= src_h + 1


@pytest.mark.parametrize(
    ("source", "resolution", "expected"),
    [((3, 3), "original", (16, 16)), ((1920, 40), "360p", (1920, 40)), ((1920, 40), "64x64", (64, 16))],
)
def test_no_side_below_what_every_encoder_takes(
    source: tuple[int, int], resolution: str, expected: tuple[int, int]
) -> None:
    # x265 refuses a frame narrower or lower than 16 pixels: a sliver is widened to 16, not failed.
    assert output_size(video(*source), resolution) == expected


def test_h265_outputs_are_at_least_64_pixels_a_side() -> None:
    plan = plan_encode(template(resolution="original", vcodec=VideoCodec.H265), media(video(64, 48)))
    assert (plan.width, plan.height) == (64, 64)
    assert (plan_encode(template(resolution="original"), media(video(64, 48)))).height == 48


def test_odd_original_rounds_to_even() -> None:
    assert output_size(video(641, 361), "original") in {(640, 360), (642, 362), (640, 362), (642, 360)}
    assert output_size(video(1921, 1081), "0") in {(1920, 1080), (1922, 1082), (1920, 1082), (1922, 1080)}


@pytest.mark.parametrize("resolution", ["original", "Original", "ORIGINAL", "0", " original "])
def test_original_keeps_display_size(resolution: str) -> None:
    assert output_size(video(1280, 720), resolution) == (1280, 720)


def test_rotated_source_uses_display_dimensions() -> None:
    # A phone video stored 1920x1080 with rotation 90 is shown 1080x1920.
    rotated = video(1920, 1080, display=(1080, 1920))
    assert output_size(rotated, "360p") == (360, 640)
    assert output_size(rotated, "original") == (1080, 1920)
    assert output_size(rotated, "720x720") in {(404, 720), (406, 720)}  # 405 rounds to an even width


def test_anamorphic_source_uses_display_width() -> None:
    # DVD PAL 16:9: 720x576 with SAR 64:45 is shown 1024x576.
    anamorphic = video(720, 576, display=(1024, 576))
    assert output_size(anamorphic, "original") == (1024, 576)
    assert output_size(anamorphic, "360p") == (640, 360)
    assert output_size(anamorphic, "480p") == (854, 480)


@pytest.mark.parametrize(
    ("source", "box", "expected"),
    [
        ((1920, 1080), "1280x720", (1280, 720)),
        ((1920, 1080), "640x640", (640, 360)),  # width limits
        ((1080, 1920), "640x640", (360, 640)),  # height limits
        ((1920, 800), "1280x720", (1280, 534)),  # 533.33 -> even
        ((1000, 1000), "300x200", (200, 200)),
    ],
)
def test_box_fit(source: tuple[int, int], box: str, expected: tuple[int, int]) -> None:
    width, height = output_size(video(*source), box)
    assert (width, height) == expected
    box_w, box_h = map(int, box.split("x"))
    assert width <= box_w
    assert height <= box_h


@pytest.mark.parametrize(
    "resolution",
    ["", "abc", "720", "p720", "720px", "1x1", "12345p", "-720p", "720p; rm -rf /", "1280*720", "1280x", "x720"],
)
def test_invalid_resolution_raises(resolution: str) -> None:
    with pytest.raises(ValueError):
        output_size(video(1920, 1080), resolution)


# ---------------------------------------------------------------- plan_encode


def test_plan_basic_h264_with_audio() -> None:
    plan = plan_encode(template(resolution="360p"), media(video(1920, 1080)))
    args = plan.output_args
    assert (plan.width, plan.height) == (640, 360)
    assert plan.has_audio is True
    assert plan.fps == 30.0
    assert pairs(args, "-map") == ["0:V:0", "0:a:0"]
    assert value_after(args, "-c:v") == "libx264"
    assert value_after(args, "-crf") == "23"
    assert value_after(args, "-c:a") == "aac"
    assert value_after(args, "-b:a") == "128k"
    assert value_after(args, "-movflags") == "+faststart"
    assert value_after(args, "-f") == "mp4"
    assert value_after(args, "-pix_fmt") == "yuv420p"
    vf = value_after(args, "-vf")
    assert "scale=640:360" in vf.split(",")
    assert "fps" not in vf
    assert "-tag:v" not in args
    assert "-ac" not in args
    assert "-b:v" not in args


def test_plan_without_audio_maps_no_audio() -> None:
    plan = plan_encode(template(), media(channels=None))
    args = plan.output_args
    assert plan.has_audio is False
    assert pairs(args, "-map") == ["0:V:0"]
    assert "0:a:0" not in args
    assert not any(a.startswith("-c:a") or a.startswith("-b:a") for a in args)
    assert "-ac" not in args


def test_plan_h265_uses_libx265_and_hvc1_tag() -> None:
    plan = plan_encode(template(vcodec=VideoCodec.H265), media())
    args = plan.output_args
    assert value_after(args, "-c:v") == "libx265"
    assert value_after(args, "-tag:v") == "hvc1"
    assert value_after(args, "-crf") == "28"


@pytest.mark.parametrize(
    ("quality", "h264", "h265"),
    [(1, 31, 36), (2, 29, 34), (4, 25, 30), (5, 23, 28), (6, 21, 26), (9, 15, 20), (10, 13, 18)],
)
def test_crf_mapping(quality: int, h264: int, h265: int) -> None:
    assert crf_for(template(quality=quality)) == h264
    assert crf_for(template(quality=quality, vcodec=VideoCodec.H265)) == h265
    args = plan_encode(template(quality=quality), media()).output_args
    assert value_after(args, "-crf") == str(h264)
    args = plan_encode(template(quality=quality, vcodec=VideoCodec.H265), media()).output_args
    assert value_after(args, "-crf") == str(h265)


def test_higher_quality_means_lower_crf() -> None:
    crfs = [crf_for(template(quality=q)) for q in range(1, 11)]
    assert crfs == sorted(crfs, reverse=True)
    assert all(a - b == 2 for a, b in itertools.pairwise(crfs))


def test_video_bitrate_switches_to_rate_control() -> None:
    args = plan_encode(template(video_bitrate=2000), media()).output_args
    assert "-crf" not in args
    assert value_after(args, "-b:v") == "2000k"
    assert value_after(args, "-maxrate") == "2400k"
    assert value_after(args, "-bufsize") == "4000k"


def test_audio_bitrate_from_template() -> None:
    args = plan_encode(template(audio_bitrate=64), media()).output_args
    assert value_after(args, "-b:a") == "64k"


@pytest.mark.parametrize(("channels", "downmix"), [(1, False), (2, False), (6, True), (8, True)])
def test_downmix_only_above_two_channels(channels: int, downmix: bool) -> None:
    args = plan_encode(template(), media(channels=channels)).output_args
    if downmix:
        assert value_after(args, "-ac") == "2"
    else:
        assert "-ac" not in args


@pytest.mark.parametrize(
    ("template_fps", "source_fps", "expected_filter"),
    [
        (0, 30.0, None),
        (30, 30.0, None),
        (29.97, 29.97, None),
        (30, 29.999, None),  # within tolerance
        (25, 30.0, "fps=25"),
        (24, 23.976, "fps=24"),
        (29.97, 30.0, "fps=29.97"),
    ],
)
def test_fps_filter_only_when_rate_differs(template_fps: float, source_fps: float, expected_filter: str | None) -> None:
    plan = plan_encode(template(framerate=template_fps), media(video(1920, 1080, fps=source_fps)))
    filters = value_after(plan.output_args, "-vf").split(",")
    fps_filters = [f for f in filters if f.startswith("fps=")]
    assert fps_filters == ([expected_filter] if expected_filter else [])
    assert plan.fps == (template_fps or source_fps)


def test_plan_uses_display_size_for_rotated_source() -> None:
    plan = plan_encode(template(resolution="360p"), media(video(1920, 1080, display=(1080, 1920))))
    assert (plan.width, plan.height) == (360, 640)
    assert "scale=360:640" in value_after(plan.output_args, "-vf")


def test_plan_without_video_raises() -> None:
    info = MediaInfo(format_name="mp3", duration=1, size_bytes=1, bitrate_kbps=1, video=None, audio=None)
    with pytest.raises(ValueError):
        plan_encode(template(), info)


def test_plan_invalid_resolution_raises() -> None:
    with pytest.raises(ValueError):
        plan_encode(template(resolution="big"), media())


_SHELL_META = re.compile(r"[;&|`$<>\n\r\\\"'*?(){}\[\]!#~]")
_HOSTILE = "x; rm -rf / && `reboot` $(id) | cat > /etc/passwd"


@pytest.mark.parametrize(
    "tpl",
    [
        *[t for t in (find_builtin(name=n) for n in ("MP4_264_360p", "MP4_265_Original")) if t is not None],
        template(
            template_id=_HOSTILE,
            name=_HOSTILE,
            description=_HOSTILE,
            vcodec=VideoCodec.H265,
            quality=9,
            framerate=25,
            video_bitrate=1500,
            audio_bitrate=96,
        ),
    ],
    ids=["builtin-264", "builtin-265", "hostile"],
)
@pytest.mark.parametrize("channels", [None, 2, 6])
def test_args_are_plain_strings_without_template_text(tpl: Template, channels: int | None) -> None:
    plan = plan_encode(tpl, media(channels=channels))
    assert isinstance(plan.output_args, list)
    assert all(type(a) is str for a in plan.output_args)
    for arg in plan.output_args:
        assert not _SHELL_META.search(arg), arg
        assert "rm -rf" not in arg
        assert _HOSTILE not in arg
        assert "reboot" not in arg


def test_a_stored_field_outside_its_rule_never_reaches_ffmpeg() -> None:
    with pytest.raises(TemplateRuleError, match="acodec"):
        plan_encode(template(acodec=_HOSTILE), media())


def test_command_places_input_and_destination() -> None:
    plan = EncodePlan(width=2, height=2, fps=1, has_audio=False, output_args=["-a", "b"])
    command = plan.command("/bin/ffmpeg", "/tmp/in put.mp4", "/tmp/out.mp4")
    assert command[0] == "/bin/ffmpeg"
    assert command[command.index("-i") + 1] == "/tmp/in put.mp4"
    assert command[-3:] == ["-a", "b", "/tmp/out.mp4"]
    assert "-nostdin" in command
    assert "-y" in command


@pytest.mark.parametrize("resolution", ["000p", "0p", "0000x0000", "0x480", "640x0"])
def test_zero_sizes_are_refused(resolution: str) -> None:
    video = VideoStream("h264", 1280, 720, 1280, 720, 30.0, None)
    with pytest.raises(ValueError, match="resolution"):
        output_size(video, resolution)


# ---------------------------------------------------------------- the operator's output limits


@pytest.mark.parametrize(
    ("source", "tpl", "limit"),
    [
        (video(7680, 4320), template(resolution="original"), "max_output_dimension"),
        (video(4096, 4096), template(resolution="0"), "max_output_pixels"),
        (video(5120, 2160), template(resolution="2160p"), "max_output_dimension"),
        (video(2160, 5120), template(resolution="2160p"), "max_output_dimension"),
        (video(1280, 720, fps=240), template(resolution="original"), "max_output_framerate"),
    ],
)
def test_outputs_beyond_the_limits_are_refused_before_encoding(source: VideoStream, tpl: Template, limit: str) -> None:
    with pytest.raises(OutputOverLimits, match=limit):
        plan_encode(tpl, media(source))


def test_outputs_within_the_limits_are_planned() -> None:
    assert plan_encode(template(resolution="original"), media(video(4096, 2160))).width == 4096
    assert plan_encode(template(resolution="2160p"), media(video(7680, 4320))).width == 3840
    assert plan_encode(template(resolution="720p", framerate=30), media(video(1280, 720, fps=240))).fps == 30
    small = OutputLimits(max_output_pixels=640 * 360, max_output_dimension=640, max_output_framerate=30)
    with pytest.raises(OutputOverLimits, match="640"):
        plan_encode(template(resolution="360p"), media(video(1280, 720)), limits=OutputLimits(max_output_dimension=600))
    assert (plan_encode(template(resolution="360p"), media(video(1280, 720)), limits=small)).width == 640


def test_a_stored_template_beyond_lowered_limits_names_the_field() -> None:
    lowered = OutputLimits(max_output_pixels=1280 * 720, max_output_dimension=1280, max_output_framerate=30)
    for tpl, field in ((template(resolution="1920x1080"), "resolution"), (template(framerate=60), "framerate")):
        with pytest.raises(TemplateRuleError, match=f"^{field}: .*operator"):
            plan_encode(tpl, media(), limits=lowered)
