"""Split → encode chunks → join with the real static ffmpeg, checked as a user checks an output (ffprobe).

Generated sources (testsrc2 + a sine tone), 20 s at 320x180: exact frame counts, duration within one
frame, audio and video ending together, no audio gaps, and for H.264 and H.265 the same quality and
size as a single pass of the same plan.
"""

import json
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import pytest

from localmode.stack import static_ffmpeg
from tests.frames import ffmpeg, frame_at, is_red
from tests.https_site import serve_https
from transcoder.media.chunk_plan import Chunk, expected_frames
from transcoder.media.chunk_run import plan_for, run_chunked
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.probe import probe
from transcoder.templates import ContainerFormat, Template, VideoCodec

FFMPEG, FFPROBE = static_ffmpeg()
SECONDS = 20
SIZE = "320x180"
OUTPUT = "256x144"


def make_source(
    path: Path, *, codec: str = "libx264", gop: int = 60, audio: bool = True, vfr: bool = False, open_gop: bool = False
) -> str:
    video = f"testsrc2=size={SIZE}:rate=30:duration={SECONDS}"
    if vfr:
        # 30 fps for 10 s, 10 fps for 5 s, 30 fps again: 500 frames.
        video += ",select='lt(n\\,300)+gte(n\\,450)+not(mod(n\\,3))'"
    command = [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", video]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SECONDS}"]
    command += ["-c:v", codec, "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    if codec == "libx265":
        # x265 is open-GOP by default (CRA keyframes with leading pictures); keep it so, or close it.
        command += ["-x265-params", f"log-level=error:keyint={gop}:min-keyint={gop}:open-gop={int(open_gop)}"]
    else:
        command += ["-g", str(gop), "-x264-params", f"open-gop={int(open_gop)}"]
    if vfr:
        command += ["-fps_mode", "vfr"]
    if audio:
        command += ["-c:a", "aac", "-b:a", "96k"]
    if str(path).endswith(".mp4"):
        command += ["-movflags", "+faststart"]  # as uploads usually are; the test server has no Range
    subprocess.run([*command, str(path)], check=True)
    return str(path)


def template(
    vcodec: VideoCodec = VideoCodec.H264, fmt: ContainerFormat = ContainerFormat.MP4, framerate: float = 0
) -> Template:
    segment = 4 if fmt is ContainerFormat.HLS else None
    return Template("t", "t", OUTPUT, vcodec=vcodec, format=fmt, framerate=framerate, hls_seg_time=segment)


@dataclass(frozen=True)
class Packets:
    times: list[Fraction]
    durations: list[Fraction]
    sizes: list[int]

    @property
    def end(self) -> Fraction:
        return max(t + d for t, d in zip(self.times, self.durations, strict=True))

    @property
    def start(self) -> Fraction:
        return min(self.times)


def packets(path: str, stream: str) -> Packets:
    output = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-select_streams",
            stream,
            "-show_entries",
            "packet=pts_time,duration_time,size",
            "-of",
            "json",
            path,
        ],
        check=True,
        capture_output=True,
    ).stdout
    rows = sorted(json.loads(output)["packets"], key=lambda p: Fraction(p["pts_time"]))
    return Packets(
        [Fraction(p["pts_time"]) for p in rows],
        [Fraction(p["duration_time"]) for p in rows],
        [int(p["size"]) for p in rows],
    )


def psnr(output: str, source: str, plan: EncodePlan) -> float:
    """Average PSNR of the output against the source brought to the output's size."""
    graph = f"[1:v]scale={plan.width}:{plan.height},setsar=1[ref];[0:v][ref]psnr"
    result = subprocess.run(
        [FFMPEG, "-i", output, "-i", source, "-lavfi", graph, "-f", "null", "-"], capture_output=True
    )
    match = re.search(r"PSNR .*average:([0-9.]+)", result.stderr.decode())
    assert match, result.stderr.decode()[-500:]
    return float(match.group(1))


def single_pass(plan: EncodePlan, source: str, destination: str) -> str:
    command = plan.command(FFMPEG, source, destination)
    subprocess.run([command[0], "-loglevel", "error", *command[1:]], check=True)
    return destination


def chunked(
    tmp_path: Path, source: str, tpl: Template, chunk_seconds: float, **options: float
) -> tuple[str, EncodePlan, KeyframeIndex, list[Chunk]]:
    plan = plan_encode(tpl, probe(source))
    index = probe_keyframes(source)
    chunks = plan_for(plan, index, chunk_seconds, **options)
    work = tmp_path / "work"
    work.mkdir()
    destination = str(tmp_path / f"chunked{tpl.extension}")
    run_chunked(plan, index, source, destination, str(work), chunks, ffmpeg=FFMPEG)
    return destination, plan, index, chunks


def assert_joined_like_the_source(output: str, index: KeyframeIndex, *, frames: int, has_audio: bool) -> None:
    video = packets(output, "v:0")
    assert len(video.times) == frames
    assert len(set(video.times)) == frames, "two frames share a timestamp: a duplicated frame at a join"
    frame = max(video.durations)
    assert abs((video.end - video.start) - index.frames.duration) <= frame
    if has_audio:
        audio = packets(output, "a:0")
        assert abs(audio.end - video.end) <= Fraction(40, 1000)
        for time, duration, following in zip(audio.times, audio.durations, audio.times[1:], strict=False):
            # FLV keeps milliseconds: an AAC frame (21.333 ms) may round by one; a gap is a frame or more.
            assert abs(time + duration - following) <= Fraction(1, 1000), f"audio gap at {float(time):.3f} s"
    else:
        assert not packets(output, "a").times


@pytest.mark.parametrize(
    ("vcodec", "codec", "open_gop"),
    [
        (VideoCodec.H264, "libx264", False),
        (VideoCodec.H264, "libx264", True),
        (VideoCodec.H265, "libx265", True),
        (VideoCodec.H265, "libx265", False),
    ],
    ids=["h264-closed-gop", "h264-open-gop", "h265-open-gop", "h265-closed-gop"],
)
def test_chunks_join_frame_exact_with_the_quality_and_size_of_a_single_pass(
    tmp_path: Path, vcodec: VideoCodec, codec: str, open_gop: bool
) -> None:
    source = make_source(tmp_path / "source.mp4", codec=codec, gop=45, open_gop=open_gop)
    output, plan, index, chunks = chunked(tmp_path, source, template(vcodec), 5)
    assert len(chunks) == 4
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)
    head = Path(output).read_bytes()[:65536]
    assert head.find(b"moov") < head.find(b"mdat"), "not faststart: moov after mdat"
    if vcodec is VideoCodec.H265:
        assert b"hvc1" in head, "HEVC without the hvc1 tag Apple players require"
    reference = single_pass(plan, source, str(tmp_path / "single.mp4"))
    assert packets(output, "v:0").times == packets(reference, "v:0").times
    assert psnr(output, source, plan) == pytest.approx(psnr(reference, source, plan), abs=0.1)
    chunked_bytes, single_bytes = sum(packets(output, "v:0").sizes), sum(packets(reference, "v:0").sizes)
    assert abs(chunked_bytes / single_bytes - 1) <= 0.05


def test_a_gop_longer_than_the_chunk_is_one_chunk_by_default_and_exact_when_cut_accurately(tmp_path: Path) -> None:
    source = make_source(tmp_path / "sparse.mp4", gop=600)  # one keyframe in 20 s
    output, _, index, chunks = chunked(tmp_path, source, template(), 5)
    assert len(chunks) == 1
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)

    accurate = tmp_path / "accurate"
    accurate.mkdir()
    output, _, index, chunks = chunked(accurate, source, template(), 5, max_lead_seconds=SECONDS)
    assert [c.accurate for c in chunks] == [False, True, True, True]
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)


def test_a_variable_frame_rate_source_keeps_every_frame_at_its_time(tmp_path: Path) -> None:
    source = make_source(tmp_path / "vfr.mp4", vfr=True)
    output, plan, index, chunks = chunked(tmp_path, source, template(), 4)
    assert len(chunks) > 2
    assert_joined_like_the_source(output, index, frames=500, has_audio=True)
    # The same frames at the same times as the single pass.
    reference = single_pass(plan, source, str(tmp_path / "single.mp4"))
    assert packets(output, "v:0").times == packets(reference, "v:0").times


def test_a_frame_rate_change_gives_the_single_pass_frame_count(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source.mp4", gop=45)
    output, plan, index, _chunks = chunked(tmp_path, source, template(framerate=24), 4)
    assert plan.output_rate == "24"
    reference = single_pass(plan, source, str(tmp_path / "single.mp4"))
    frames = len(packets(reference, "v:0").times)
    assert frames == expected_frames(index.frames, Fraction(24)) == 480
    assert_joined_like_the_source(output, index, frames=frames, has_audio=True)


def test_an_mpeg_ts_source_starting_at_1_4_s_keeps_its_frames_and_sync(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source.ts")
    output, _, index, chunks = chunked(tmp_path, source, template(), 6)
    assert index.frames.origin > 1  # MPEG-TS timestamps start at 1.4 s
    assert len(chunks) == 3
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)


def test_a_source_without_audio_joins_video_only(tmp_path: Path) -> None:
    source = make_source(tmp_path / "silent.mp4", audio=False)
    output, plan, index, _ = chunked(tmp_path, source, template(), 6)
    assert not plan.has_audio
    assert_joined_like_the_source(output, index, frames=600, has_audio=False)


def test_flv_joins_like_mp4(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source.mp4")
    output, _, index, _ = chunked(tmp_path, source, template(fmt=ContainerFormat.FLV), 6)
    assert probe(output).format_name == "flv"
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)


def test_hls_segments_are_those_of_the_single_pass(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source.mp4", gop=45)  # keyframes every 1.5 s: off the 4 s grid
    output, plan, index, chunks = chunked(tmp_path, source, template(fmt=ContainerFormat.HLS), 6)
    assert len(chunks) > 1
    single = tmp_path / "single"
    single.mkdir()
    reference = single_pass(plan, source, str(single / "single.m3u8"))
    assert _segment_lengths(output) == _segment_lengths(reference) == ["4.000000"] * 5
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)


def _segment_lengths(playlist: str) -> list[str]:
    return re.findall(r"#EXTINF:([0-9.]+),", Path(playlist).read_text())


def test_the_logo_is_drawn_on_every_chunk(tmp_path: Path) -> None:
    source = str(tmp_path / "dark.mp4")
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=0x202830:s={SIZE}:r=25:d=12", "-f", "lavfi", "-i", "sine=duration=12"),
        *("-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-pix_fmt", "yuv420p", "-c:a", "aac", source),
    )
    logo = tmp_path / "logo.rgba"
    logo.write_bytes(bytes((255, 0, 0, 255)) * 16 * 16)  # a staged logo: raw RGBA, as logo.py writes it
    tpl = Template("t", "t", OUTPUT, logo_path="https://cdn.example.com/logo.png")
    plan = plan_encode(tpl, probe(source), (16, 16))
    index = probe_keyframes(source)
    chunks = plan_for(plan, index, 4)
    assert len(chunks) == 3
    output = str(tmp_path / "chunked.mp4")
    work = tmp_path / "work"
    work.mkdir()
    run_chunked(plan, index, source, output, str(work), chunks, ffmpeg=FFMPEG, logo=str(logo))
    assert_joined_like_the_source(output, index, frames=300, has_audio=True)
    for frame_index in (0, 100, 299):  # one frame in each chunk
        frame = frame_at(output, frame_index, plan.width, plan.height)
        assert is_red(frame.pixel(17, 17)), f"no logo on frame {frame_index}"
        assert not is_red(frame.pixel(100, 100))


def test_chunks_read_their_own_range_straight_from_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    make_source(site / "source.mp4")
    with serve_https(site) as (base_url, certificate):
        monkeypatch.setenv("CA_BUNDLE", str(certificate))
        output, _, index, chunks = chunked(tmp_path, f"{base_url}/source.mp4", template(), 6)
    assert len(chunks) == 3
    assert_joined_like_the_source(output, index, frames=600, has_audio=True)
