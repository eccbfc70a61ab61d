"""The HLS adaptive ladder built-in: renditions without upscaling, and the exact ffmpeg arguments."""

import pytest

from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.media.ladder import Rendition, plan_renditions
from transcoder.templates import HLS_LADDER, Template


def _media(width: int, height: int, *, audio: bool = True) -> MediaInfo:
    return MediaInfo(
        format_name="mov",
        duration=10,
        size_bytes=1,
        bitrate_kbps=1,
        video=VideoStream("h264", width, height, width, height, 25.0, 250),
        audio=AudioStream("aac", 6, 48000) if audio else None,
    )


def test_renditions_are_distinct_largest_first() -> None:
    assert plan_renditions([(640, 360), (1280, 720), (1280, 720)]) == [
        Rendition(1280, 720, 2800),
        Rendition(640, 360, 800),
    ]
    assert plan_renditions([(426, 240)]) == [Rendition(426, 240, 400)]
    assert Rendition(720, 1280, 2800).name == "720p"


def test_full_ladder_from_1080p_exact_arguments() -> None:
    plan = plan_encode(HLS_LADDER, _media(1920, 1080))
    command = plan.command("ffmpeg", "in.mp4", "/tmp/w/clip.m3u8")
    assert command == [
        *("ffmpeg", "-hide_banner", "-nostdin", "-y", "-i", "in.mp4"),
        "-filter_complex",
        "[0:V:0]split=3[s0][s1][s2]"
        ";[s0]scale=1920:1080,setsar=1[v0];[s1]scale=1280:720,setsar=1[v1];[s2]scale=640:360,setsar=1[v2]",
        *("-map", "[v0]", "-map", "0:a:0", "-map", "[v1]", "-map", "0:a:0", "-map", "[v2]", "-map", "0:a:0"),
        *("-c:v", "libx264", "-preset", "veryfast"),
        *("-b:v:0", "5000k", "-maxrate:v:0", "6000k", "-bufsize:v:0", "10000k"),
        *("-b:v:1", "2800k", "-maxrate:v:1", "3360k", "-bufsize:v:1", "5600k"),
        *("-b:v:2", "800k", "-maxrate:v:2", "960k", "-bufsize:v:2", "1600k"),
        *("-pix_fmt", "yuv420p", "-force_key_frames", "expr:gte(t,n_forced*6)"),
        *("-c:a", "aac", "-b:a", "128k", "-ac", "2"),
        *("-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"),
        *("-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_list_size", "0"),
        *("-var_stream_map", "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:360p"),
        *("-master_pl_name", "clip.m3u8", "-hls_segment_filename", "/tmp/w/clip_%v_%05d.ts"),
        "/tmp/w/clip_%v.m3u8",
    ]
    assert (plan.width, plan.height, plan.variant_names) == (1920, 1080, ("1080p", "720p", "360p"))


def test_a_small_source_is_never_upscaled_and_silent_sources_have_video_only_variants() -> None:
    plan = plan_encode(HLS_LADDER, _media(640, 480, audio=False))
    graph = plan.output_args[plan.output_args.index("-filter_complex") + 1]
    assert graph == "[0:V:0]split=2[s0][s1];[s0]scale=640:480,setsar=1[v0];[s1]scale=480:360,setsar=1[v1]"
    assert plan.output_args[plan.output_args.index("-var_stream_map") + 1] == "v:0,name:480p v:1,name:360p"
    assert "0:a:0" not in plan.output_args


def test_frame_rate_change_happens_once_before_the_split() -> None:
    template = Template.from_dict({**HLS_LADDER.to_dict(), "framerate": 10})
    plan = plan_encode(template, _media(1280, 720))
    graph = plan.output_args[plan.output_args.index("-filter_complex") + 1]
    assert graph.startswith("[0:V:0]fps=10,split=2[s0][s1];")


def test_a_ladder_is_hls_without_a_logo() -> None:
    with pytest.raises(ValueError, match="ladder"):
        plan_encode(Template.from_dict({**HLS_LADDER.to_dict(), "format": "mp4"}), _media(1280, 720))
    with_logo = Template.from_dict({**HLS_LADDER.to_dict(), "logo_path": "https://x/l.png"})
    with pytest.raises(ValueError, match="ladder"):
        plan_encode(with_logo, _media(1280, 720), (10, 10))
