"""Argument lists of the chunked path: built from the single pass's plan, video only, nothing raw."""

from dataclasses import replace
from fractions import Fraction

import pytest

from transcoder.media.chunk_encode import (
    NotChunkable,
    audio_command,
    chunk_command,
    chunk_command_in,
    chunk_file_names,
    ladder_chunk_command,
)
from transcoder.media.chunk_join import concat_list, join_command, join_step, ladder_join_command
from transcoder.media.chunk_plan import Chunk
from transcoder.media.chunk_run import chunk_length
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.templates import ContainerFormat, Template, VideoCodec, find_builtin

SOURCE = MediaInfo(
    format_name="mov,mp4",
    duration=120.0,
    size_bytes=10_000_000,
    bitrate_kbps=600.0,
    video=VideoStream("h264", 1920, 1080, 1920, 1080, 30.0, 3600),
    audio=AudioStream("aac", 6, 48000),
)


def chunk(index: int = 1, *, start: Fraction = Fraction(10), accurate: bool = False) -> Chunk:
    seek = None if index == 0 else (start - Fraction(1, 60) if accurate else start + Fraction(1, 120))
    return Chunk(index, start, start + 10, seek, accurate, 300, start, start, Fraction(10))


def plan(**fields: object) -> EncodePlan:
    return plan_encode(Template("t", "t", "720p", **fields), SOURCE)  # type: ignore[arg-type]


def test_a_chunk_repeats_the_single_pass_video_arguments_without_audio() -> None:
    single = plan(vcodec=VideoCodec.H265)
    command = chunk_command(single, chunk(), "ffmpeg", "/in.mp4", "/w/chunk.mp4")
    video = list(single.video_args)
    start = command.index(video[0])
    assert command[start : start + len(video)] == video
    assert set(video) <= set(single.output_args)
    assert "-an" in command and "-c:a" not in command and "0:a:0" not in command
    assert command[command.index("-frames:v") + 1] == "300"
    assert command[command.index("-ss") + 1 : command.index("-ss") + 3] == ["10.008333", "-noaccurate_seek"]
    assert command.index("-ss") < command.index("-i")
    assert command[1:6] == ["-hide_banner", "-nostdin", "-y", "-copyts", "-start_at_zero"]
    assert "-output_ts_offset" not in command  # the chunk keeps the source's timestamps
    assert command[-3:] == ["-f", "mp4", "/w/chunk.mp4"]


def test_an_accurate_cut_seeks_without_noaccurate_seek_and_the_first_chunk_does_not_seek() -> None:
    command = chunk_command(plan(), chunk(accurate=True), "ffmpeg", "/in.mp4", "/w/c.mp4")
    assert command[command.index("-ss") + 1] == "9.983333"
    assert "-noaccurate_seek" not in command
    assert "-ss" not in chunk_command(plan(), chunk(0, start=Fraction(0)), "ffmpeg", "/in.mp4", "/w/c.mp4")


def test_hls_chunks_force_keyframes_on_the_single_pass_segment_grid() -> None:
    hls = plan(format=ContainerFormat.HLS, hls_seg_time=4)
    assert "expr:gte(t,n_forced*4)" in hls.output_args
    assert "-force_key_frames" not in hls.video_args
    on_grid = chunk_command(hls, chunk(start=Fraction(12)), "ffmpeg", "/in.mp4", "/w/c.mp4")
    assert on_grid[on_grid.index("-force_key_frames") + 1] == "expr:gte(t,0.000000+n_forced*4)"
    # 10 s: the next multiple of 4 is 12, 2 s after the chunk's first frame (less a microsecond).
    off_grid = chunk_command(hls, chunk(start=Fraction(10)), "ffmpeg", "/in.mp4", "/w/c.mp4")
    assert off_grid[off_grid.index("-force_key_frames") + 1] == "expr:gte(t,1.999999+n_forced*4)"


def test_hls_chunk_lengths_are_whole_segments() -> None:
    hls = plan(format=ContainerFormat.HLS, hls_seg_time=4)
    assert [chunk_length(hls, seconds) for seconds in (1, 5, 6, 10, 30)] == [4, 4, 8, 12, 32]
    assert chunk_length(plan(), 7.5) == 7.5


def ladder(media: MediaInfo = SOURCE) -> EncodePlan:
    template = find_builtin(name="HLS_264_ladder")
    assert template is not None
    return plan_encode(template, media)


SILENT = MediaInfo("mp4", 120.0, 1, 1, SOURCE.video, None)


def outputs(command: list[str], first: str) -> list[list[str]]:
    """The output files' arguments: from `first` (where the first output's options start), each up to its file."""
    parts, current = [], []
    for position, arg in enumerate(command[command.index(first) :], start=command.index(first)):
        current.append(arg)
        if command[position - 1] == "mp4" and command[position - 2] == "-f":
            parts.append(current)
            current = []
    assert not current, "arguments after the last output file"
    return parts


def test_a_ladder_chunk_decodes_once_and_writes_each_variant_video_only_with_its_own_rate() -> None:
    plan = ladder()
    assert chunk_file_names(plan, chunk(3)) == ["chunk_00003_v0.mp4", "chunk_00003_v1.mp4", "chunk_00003_v2.mp4"]
    command = chunk_command_in(plan, chunk(3), "ffmpeg", "/in.mp4", "/w")
    assert command.count("-i") == 1 and command.index("-ss") < command.index("-i")
    assert command[1:6] == ["-hide_banner", "-nostdin", "-y", "-copyts", "-start_at_zero"]
    single_graph = plan.output_args[plan.output_args.index("-filter_complex") + 1]
    assert command[command.index("-filter_complex") + 1] == plan.ladder_graph == single_graph
    files = outputs(command, "-map")
    assert [part[-1] for part in files] == ["/w/chunk_00003_v0.mp4", "/w/chunk_00003_v1.mp4", "/w/chunk_00003_v2.mp4"]
    for variant, (part, kbps) in enumerate(zip(files, (5000, 2800, 800), strict=True)):
        assert part == [
            *("-map", f"[v{variant}]", "-c:v", "libx264", "-preset", "veryfast"),
            *("-b:v", f"{kbps}k", "-maxrate", f"{int(kbps * 1.2)}k", "-bufsize", f"{kbps * 2}k", "-pix_fmt", "yuv420p"),
            *("-force_key_frames", "expr:gte(t,1.999999+n_forced*6)", "-frames:v", "300", "-an"),
            *("-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1", "-f", "mp4", part[-1]),
        ]
        # The single pass gives output video stream `variant` the same rate.
        single_rate = plan.output_args[plan.output_args.index(f"-b:v:{variant}") + 1]
        assert single_rate == f"{kbps}k"


def test_ladder_chunk_outputs_follow_the_plan_frame_rate_gop_and_codec() -> None:
    template = find_builtin(name="HLS_264_ladder")
    assert template is not None
    slower = plan_encode(replace(template, framerate=24, gop_seconds=2, vcodec=VideoCodec.H265), SOURCE)
    assert slower.ladder_graph is not None and slower.ladder_graph.startswith("[0:V:0]fps=24,split=3")
    command = ladder_chunk_command(slower, chunk(0, start=Fraction(0)), "ffmpeg", "/in.mp4", ["/a", "/b", "/c"])
    assert "-ss" not in command
    for part in outputs(command, "-map"):
        assert part[part.index("-c:v") + 1] == "libx265" and part[part.index("-g") + 1] == "48"
        assert part[part.index("-tag:v") + 1] == "hvc1"
        assert part[part.index("-force_key_frames") + 1] == "expr:gte(t,0.000000+n_forced*6)"


def test_each_chunk_function_refuses_the_other_kind_of_plan() -> None:
    with pytest.raises(NotChunkable, match="ladder_chunk_command"):
        chunk_command(ladder(), chunk(), "ffmpeg", "/in.mp4", "/w/c.mp4")
    with pytest.raises(ValueError, match="not an HLS ladder"):
        ladder_chunk_command(plan(), chunk(), "ffmpeg", "/in.mp4", ["/w/c.mp4"])
    with pytest.raises(ValueError, match="one destination per variant"):
        ladder_chunk_command(ladder(), chunk(), "ffmpeg", "/in.mp4", ["/w/a.mp4", "/w/b.mp4"])
    with pytest.raises(ValueError, match="logo"):
        chunk_command_in(ladder(), chunk(), "ffmpeg", "/in.mp4", "/w", logo="/w/logo.rgba")
    assert chunk_file_names(plan(), chunk(12)) == ["chunk_00012.mp4"]
    assert chunk_command_in(plan(), chunk(12), "ffmpeg", "/in.mp4", "/w")[-1] == "/w/chunk_00012.mp4"


def test_a_logo_is_drawn_on_every_chunk_as_in_the_single_pass() -> None:
    single = plan_encode(Template("t", "t", "720p", logo_path="https://example.com/l.png"), SOURCE, (64, 32))
    command = chunk_command(single, chunk(), "ffmpeg", "/in.mp4", "/w/c.mp4", logo="/w/logo.rgba")
    assert command[command.index("/w/logo.rgba") - 1] == "-i"
    assert "-filter_complex" in command
    with pytest.raises(ValueError, match="logo"):
        chunk_command(single, chunk(), "ffmpeg", "/in.mp4", "/w/c.mp4")


def test_audio_is_encoded_once_with_the_template_audio_settings() -> None:
    command = audio_command(plan(audio_bitrate=96), "ffmpeg", "https://in.example/x.mp4", "/w/audio.m4a")
    assert command[command.index("-b:a") + 1] == "96k"
    assert command[command.index("-ac") + 1] == "2"  # a 5.1 source is mixed down, as in the single pass
    assert "-vn" in command and "-tls_verify" in command
    silent = plan_encode(Template("t", "t", "720p"), MediaInfo("mp4", 1, 1, 1, SOURCE.video, None))
    with pytest.raises(ValueError, match="no audio"):
        audio_command(silent, "ffmpeg", "/in.mp4", "/w/audio.m4a")


def test_the_concat_list_names_each_chunk_with_its_exact_duration() -> None:
    chunks = [chunk(0, start=Fraction(0)), chunk(1, start=Fraction(10))]
    text = concat_list(chunks, ["chunk_00000.mp4", "chunk_00001.mp4"])
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file chunk_00000.mp4",
        "duration 10.000000",
        "file chunk_00001.mp4",
        "duration 10.000000",
    ]


@pytest.mark.parametrize("name", ["../x.mp4", "/abs.mp4", "a b.mp4", "x'\nfile /etc/passwd", "", ".hidden"])
def test_the_concat_list_takes_only_plain_file_names(name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        concat_list([chunk()], [name])


@pytest.mark.parametrize(
    ("fmt", "container"),
    [
        (ContainerFormat.MP4, ["-movflags", "+faststart", "-f", "mp4"]),
        (ContainerFormat.FLV, ["-f", "flv"]),
        (ContainerFormat.HLS, ["-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_list_size", "0"]),
    ],
)
def test_the_join_copies_video_and_audio_into_the_template_container(
    fmt: ContainerFormat, container: list[str]
) -> None:
    joined = plan(format=fmt)
    command = join_command(
        joined, "ffmpeg", "/w/chunks.ffconcat", "/w/out" + joined_extension(fmt), audio_path="/w/a.m4a"
    )
    assert command[command.index("concat") + 1 : command.index("concat") + 3] == ["-i", "/w/chunks.ffconcat"]
    assert command[command.index("-map") : command.index("copy") + 1] == [
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c",
        "copy",
    ]
    position = command.index(container[0], command.index("copy"))
    assert command[position : position + len(container)] == container
    if fmt is ContainerFormat.HLS:
        assert command[command.index("-hls_segment_filename") + 1] == "/w/out_%05d.ts"


def joined_extension(fmt: ContainerFormat) -> str:
    return ".m3u8" if fmt is ContainerFormat.HLS else f".{fmt.value}"


def test_the_join_keeps_streams_that_start_apart_in_sync() -> None:
    command = join_command(
        plan(),
        "ffmpeg",
        "/w/l",
        "/w/o.mp4",
        audio_path="/w/a.m4a",
        video_start=Fraction(1, 10),
        audio_start=Fraction(0),
    )
    assert command[command.index("-itsoffset") + 1 : command.index("-itsoffset") + 4] == ["0.100000", "-f", "concat"]
    assert command.count("-itsoffset") == 1
    with pytest.raises(ValueError, match="audio"):
        join_command(plan(), "ffmpeg", "/w/l", "/w/o.mp4", audio_path=None)


def test_the_ladder_join_copies_each_variant_with_the_audio_into_the_single_pass_files() -> None:
    plan = ladder()
    lists = ["/w/v0.ffconcat", "/w/v1.ffconcat", "/w/v2.ffconcat"]
    command = ladder_join_command(
        plan, "ffmpeg", lists, "/out/clip.m3u8", audio_path="/w/a.m4a", video_start=Fraction(7, 5)
    )
    inputs = command[command.index("-itsoffset") : command.index("-map")]
    assert inputs == [
        *("-itsoffset", "1.400000", "-f", "concat", "-i", "/w/v0.ffconcat"),
        *("-itsoffset", "1.400000", "-f", "concat", "-i", "/w/v1.ffconcat"),
        *("-itsoffset", "1.400000", "-f", "concat", "-i", "/w/v2.ffconcat"),
        *("-i", "/w/a.m4a"),
    ]
    maps = command[command.index("-map") : command.index("-c")]
    assert maps == [
        *("-map", "0:v:0", "-map", "3:a:0", "-map", "1:v:0", "-map", "3:a:0"),
        *("-map", "2:v:0", "-map", "3:a:0"),
    ]
    assert command[command.index("-c") + 1] == "copy" and "-c:v" not in command and "-b:v" not in command
    container = list(plan.container_args)
    position = command.index(container[0], command.index("copy"))
    assert command[position : position + len(container)] == container
    # Variants, their names and files exactly as the single pass writes them.
    single = plan.command("ffmpeg", "/in.mp4", "/out/clip.m3u8")
    tail = single[single.index("-var_stream_map") :]
    assert command[command.index("-var_stream_map") :] == tail
    assert tail[1] == "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:360p"
    naming = ["-master_pl_name", "clip.m3u8", "-hls_segment_filename", "/out/clip_%v_%05d.ts", "/out/clip_%v.m3u8"]
    assert tail[-5:] == naming


def test_a_silent_ladder_joins_video_only_variants() -> None:
    plan = ladder(SILENT)
    command = ladder_join_command(plan, "ffmpeg", ["/w/0", "/w/1", "/w/2"], "/out/c.m3u8", audio_path=None)
    assert command[command.index("-map") : command.index("-c")] == ["-map", "0:v:0", "-map", "1:v:0", "-map", "2:v:0"]
    assert command[command.index("-var_stream_map") + 1] == "v:0,name:1080p v:1,name:720p v:2,name:360p"
    assert "-itsoffset" not in command
    with pytest.raises(ValueError, match="audio"):
        ladder_join_command(plan, "ffmpeg", ["/w/0", "/w/1", "/w/2"], "/out/c.m3u8", audio_path="/w/a.m4a")


def test_each_join_function_refuses_the_other_kind_of_plan() -> None:
    with pytest.raises(ValueError, match="ladder_join_command"):
        join_command(ladder(), "ffmpeg", "/w/l", "/out/c.m3u8", audio_path="/w/a.m4a")
    with pytest.raises(ValueError, match="not an HLS ladder"):
        ladder_join_command(plan(), "ffmpeg", ["/w/l"], "/out/c.mp4", audio_path="/w/a.m4a")
    with pytest.raises(ValueError, match="one concat list per variant"):
        ladder_join_command(ladder(), "ffmpeg", ["/w/l"], "/out/c.m3u8", audio_path="/w/a.m4a")


def test_the_join_step_lists_each_variant_chunk_files() -> None:
    chunks = [chunk(0, start=Fraction(0)), chunk(1, start=Fraction(10))]
    step = join_step(ladder(), chunks, "ffmpeg", "/w", "/out/c.m3u8", audio_path="/w/a.m4a")
    assert list(step.lists) == ["/w/chunks_v0.ffconcat", "/w/chunks_v1.ffconcat", "/w/chunks_v2.ffconcat"]
    assert step.lists["/w/chunks_v2.ffconcat"] == concat_list(chunks, ["chunk_00000_v2.mp4", "chunk_00001_v2.mp4"])
    assert step.command == ladder_join_command(
        ladder(), "ffmpeg", list(step.lists), "/out/c.m3u8", audio_path="/w/a.m4a"
    )
    single = join_step(plan(), chunks, "ffmpeg", "/w", "/out/c.mp4", audio_path="/w/a.m4a")
    assert single.lists == {"/w/chunks.ffconcat": concat_list(chunks, ["chunk_00000.mp4", "chunk_00001.mp4"])}
    assert single.command == join_command(plan(), "ffmpeg", "/w/chunks.ffconcat", "/out/c.mp4", audio_path="/w/a.m4a")
