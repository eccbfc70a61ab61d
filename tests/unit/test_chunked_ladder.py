"""The HLS ladder chunked with the real static ffmpeg, against a single pass of the same plan.

Each chunk decodes its range once and encodes every variant; the join copies each variant's chunks with
the audio encoded once into the single pass's files, and ffmpeg writes the master playlist. Checked as a
player sees it (ffprobe on each variant playlist): the single pass's frames at its timestamps, the same
segments, audio to the end, and a master playlist listing the same variants.
"""

import itertools
import re
import subprocess
from fractions import Fraction
from pathlib import Path

from tests.unit.test_chunked_media import FFMPEG, packets
from transcoder.media.chunk_plan import expected_frames
from transcoder.media.chunk_run import plan_for, run_chunked
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.probe import probe
from transcoder.templates import HLS_LADDER, Template

SEGMENT_SECONDS = 2


def make_source(path: Path, *, size: str, rate: int, seconds: int, audio: bool) -> str:
    command = [FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]
    # Keyframes every 1.5 s: off the 2 s segment grid, so chunks must force the grid's keyframes.
    command += ["-c:v", "libx264", "-preset", "veryfast", "-g", str(rate * 3 // 2), "-pix_fmt", "yuv420p"]
    if audio:
        command += ["-c:a", "aac", "-b:a", "96k"]
    subprocess.run([*command, str(path)], check=True)
    return str(path)


def ladder(**fields: object) -> Template:
    return Template.from_dict({**HLS_LADDER.to_dict(), "hls_seg_time": SEGMENT_SECONDS, **fields})


def encode_both(tmp_path: Path, source: str, template: Template) -> tuple[Path, Path, EncodePlan, KeyframeIndex]:
    """The chunked ladder (2 s chunks) in `chunked/`, the single pass in `single/`, both as `clip.m3u8`."""
    plan = plan_encode(template, probe(source))
    index = probe_keyframes(source)
    chunks = plan_for(plan, index, SEGMENT_SECONDS)
    assert len(chunks) >= 3
    chunked, single, work = tmp_path / "chunked", tmp_path / "single", tmp_path / "work"
    for folder in (chunked, single, work):
        folder.mkdir()
    steps = run_chunked(plan, index, source, str(chunked / "clip.m3u8"), str(work), chunks, ffmpeg=FFMPEG)
    assert len(steps.chunk_commands) == len(chunks), "one ffmpeg run per chunk, every variant in it"
    command = plan.command(FFMPEG, source, str(single / "clip.m3u8"))
    subprocess.run([command[0], "-loglevel", "error", *command[1:]], check=True)
    return chunked, single, plan, index


def stream_infs(master: Path) -> list[tuple[dict[str, str], str]]:
    """Each variant of a master playlist: its attributes and its playlist's name."""
    lines = master.read_text().splitlines()
    variants = []
    for line, uri in itertools.pairwise(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.partition(":")[2]))
            variants.append((attributes, uri))
    return variants


def assert_same_variants(chunked: Path, single: Path, names: list[str], *, codecs: str) -> None:
    ours, theirs = stream_infs(chunked / "clip.m3u8"), stream_infs(single / "clip.m3u8")
    assert [uri for _, uri in ours] == [uri for _, uri in theirs] == [f"clip_{name}.m3u8" for name in names]
    for (mine, uri), (reference, _) in zip(ours, theirs, strict=True):
        assert mine.keys() == reference.keys() >= {"BANDWIDTH", "AVERAGE-BANDWIDTH", "RESOLUTION", "CODECS"}, uri
        assert (mine["RESOLUTION"], mine["CODECS"]) == (reference["RESOLUTION"], reference["CODECS"]), uri
        assert re.fullmatch(codecs, mine["CODECS"].strip('"')), mine["CODECS"]
        # Measured from the segments by ffmpeg in both; chunks keep the rate control's targets, roughly.
        for key in ("BANDWIDTH", "AVERAGE-BANDWIDTH"):
            assert abs(int(mine[key]) / int(reference[key]) - 1) <= 0.2, (uri, key, mine[key], reference[key])


def assert_variant_like_the_single_pass(chunked: Path, single: Path, name: str, frames: int, *, audio: bool) -> None:
    playlist, reference = str(chunked / f"clip_{name}.m3u8"), str(single / f"clip_{name}.m3u8")
    video = packets(playlist, "v:0")
    assert len(video.times) == frames, name
    assert video.times == packets(reference, "v:0").times, f"{name}: not the single pass's frames"
    assert segments(chunked / f"clip_{name}.m3u8") == segments(single / f"clip_{name}.m3u8"), name
    if audio:
        sound = packets(playlist, "a:0")
        assert sound.times, f"{name}: no audio"
        assert abs(sound.end - video.end) <= Fraction(40, 1000), name
        assert abs(sound.start - packets(reference, "a:0").start) <= Fraction(1, 1000), name
    else:
        assert not packets(playlist, "a").times


def segments(playlist: Path) -> list[str]:
    return re.findall(r"#EXTINF:([0-9.]+),\n(\S+)", playlist.read_text())


def test_a_chunked_ladder_plays_like_the_single_pass(tmp_path: Path) -> None:
    source = make_source(tmp_path / "source.mp4", size="640x480", rate=30, seconds=8, audio=True)
    chunked, single, plan, index = encode_both(tmp_path, source, ladder())
    assert plan.variant_names == ("480p", "360p")  # 1080p and 720p are the source's 640x480, once
    assert_same_variants(chunked, single, ["480p", "360p"], codecs=r"avc1\.[0-9a-f]{6},mp4a\.40\.2")
    frames = expected_frames(index.frames)
    assert frames == 240
    for name in plan.variant_names:
        assert_variant_like_the_single_pass(chunked, single, name, frames, audio=True)
        duration = packets(str(chunked / f"clip_{name}.m3u8"), "v:0")
        assert abs((duration.end - duration.start) - index.frames.duration) <= Fraction(1, 30)


def test_a_silent_mpeg_ts_source_with_a_frame_rate_change_gives_three_video_only_variants(tmp_path: Path) -> None:
    # MPEG-TS: timestamps start at 1.4 s; chunks seek on that timeline and the join keeps the single pass's.
    source = make_source(tmp_path / "source.ts", size="960x540", rate=20, seconds=6, audio=False)
    chunked, single, plan, index = encode_both(tmp_path, source, ladder(renditions=[540, 480, 360], framerate=15))
    assert index.frames.origin > 1 and not plan.has_audio
    assert plan.variant_names == ("540p", "480p", "360p")
    assert_same_variants(chunked, single, ["540p", "480p", "360p"], codecs=r"avc1\.[0-9a-f]{6}")
    frames = expected_frames(index.frames, Fraction(15))
    assert frames == 90
    for name in plan.variant_names:
        assert_variant_like_the_single_pass(chunked, single, name, frames, audio=False)
