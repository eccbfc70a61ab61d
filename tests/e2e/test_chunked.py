"""Chunked transcoding through local mode: the very definition deployed on AWS, its Distributed Map included.

Local mode is started with small chunk settings (`--context`), so that clips of seconds are cut into several
chunks. Every output is checked as a user would check it, with ffprobe: codec, size, exact frame count (the
source's, or the exact count after a frame-rate change), duration within one frame, audio present and
ending within 40 ms of the video. Each task must have run in chunks (`plan` in query_task), and no work
file may remain once it ended.
"""

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import boto3
import pytest

from localmode.media import generate_clip, probe_file
from localmode.stack import static_ffmpeg
from tests.e2e.conftest import OWN_PART, Local, start_local
from transcoder_client.download import fetch

CHUNK_SETTINGS = {"chunk_min_input_seconds": "4", "chunk_seconds": "2"}
TERMINAL = ("success", "fail", "cancelled")


@pytest.fixture(scope="module")
def chunking_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with start_local(tmp_path_factory.mktemp("chunking-local"), context=CHUNK_SETTINGS) as started:
        yield started


def _ffmpeg(*arguments: str) -> None:
    ffmpeg, _ = static_ffmpeg()
    subprocess.run([ffmpeg, "-hide_banner", "-v", "error", "-y", *arguments], check=True)


def _test_pattern(seconds: float, rate: int, size: str = "640x360") -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def _tone(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory, real_video: Path) -> dict[str, Path]:
    """Sources of every shape the chunked path must take, each long enough for several chunks."""
    folder = tmp_path_factory.mktemp("chunk-sources")
    film = generate_clip(str(folder / "film.mp4"), seconds=9, size="640x360", rate=25)
    silent = generate_clip(str(folder / "silent.mp4"), seconds=7, size="480x270", rate=30, audio=False)
    sparse = folder / "sparse.mp4"  # a keyframe every 4 s: chunks grow to the keyframes
    _ffmpeg(*_test_pattern(9, 25), *_tone(9), *("-c:v", "libx264", "-preset", "veryfast", "-g", "100"), str(sparse))
    open_gop = folder / "open_gop.mp4"  # HEVC with open GOPs: leading frames precede their keyframe
    _ffmpeg(
        *_test_pattern(8, 25),
        *_tone(8),
        *("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "keyint=50:open-gop=1:log-level=error"),
        *("-tag:v", "hvc1", str(open_gop)),
    )
    variable = folder / "variable.mp4"  # 25 fps then 10 fps: a variable-frame-rate source
    _ffmpeg(
        *_test_pattern(4, 25),
        *_test_pattern(4, 10),
        *_tone(8),
        *("-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a"),
        *("-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast", "-g", "25", str(variable)),
    )
    return {
        "film": Path(film),
        "silent": Path(silent),
        "sparse": sparse,
        "open_gop": open_gop,
        "variable": variable,
        "real": real_video,
    }


@dataclass(frozen=True)
class Streams:
    """What ffprobe reads of every packet: frames and where each stream ends."""

    frames: int
    video_start: float
    video_end: float
    audio_end: float | None

    @property
    def video_duration(self) -> float:
        return self.video_end - self.video_start


def _streams(path: Path) -> Streams:
    _, ffprobe = static_ffmpeg()
    output = subprocess.run(
        [
            *(ffprobe, "-v", "error", "-of", "json"),
            *("-show_entries", "stream=index,codec_type:packet=stream_index,pts_time,duration_time", str(path)),
        ],
        check=True,
        capture_output=True,
    ).stdout
    data = json.loads(output)
    kinds = {stream["index"]: stream["codec_type"] for stream in data["streams"]}
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    frames = 0
    for packet in data["packets"]:
        kind = kinds[packet["stream_index"]]
        frames += kind == "video"
        start = float(packet["pts_time"])
        starts[kind] = min(starts.get(kind, start), start)
        ends[kind] = max(ends.get(kind, 0.0), start + float(packet.get("duration_time", 0)))
    return Streams(frames=frames, video_start=starts["video"], video_end=ends["video"], audio_end=ends.get("audio"))


def _wait(local: Local, task_id: str, timeout: float = 600) -> tuple[dict[str, Any], list[int]]:
    """The ended task, and every progress value seen while it ran."""
    deadline, progress = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        task = local.client.query_task(task_id)
        if task["status"] == "running":
            progress.append(task["progress"])
        if task["status"] in TERMINAL:
            return task, progress
        time.sleep(0.1)
    raise TimeoutError(f"task {task_id} did not end within {timeout} s")


def _download(local: Local, task: dict[str, Any], folder: Path) -> Path:
    """The output as a user gets it: an MP4/FLV from output_url; an HLS playlist with its segments beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    name = task["objkey"].rsplit("/", 1)[-1]
    if name.endswith(".m3u8"):
        prefix = OWN_PART + task["objkey"].rsplit("/", 1)[0] + "/"
        for listed in local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=prefix)["Contents"]:
            local.s3.download_file(local.output_bucket, listed["Key"], str(folder / listed["Key"][len(prefix) :]))
    else:
        fetch(task["output_url"], str(folder / name))
    return folder / name


def _work_files(local: Local, task_id: str) -> list[str]:
    listed = local.s3.list_objects_v2(Bucket=local.work_bucket, Prefix=f"tasks/{task_id}/")
    return [item["Key"] for item in listed.get("Contents", [])]


def _work_files_left(local: Local, task_id: str, within: float = 30) -> list[str]:
    """The task's work files still there `within` seconds after it ended (the last step deletes them right
    after writing the task's end)."""
    deadline = time.monotonic() + within
    while (left := _work_files(local, task_id)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


CASES = [
    # (source, template, extension, (width, height), codec, output frame rate or None)
    ("film", "MP4_264_360p", "mp4", (640, 360), "h264", None),
    ("film", "MP4_265_480p", "mp4", (640, 360), "hevc", None),  # never upscaled
    ("film", "chunk_flv", "flv", (640, 360), "h264", None),
    ("film", "chunk_hls", "m3u8", (640, 360), "h264", None),
    ("film", "chunk_15fps", "mp4", (640, 360), "h264", Fraction(15)),
    ("silent", "MP4_264_360p", "mp4", (480, 270), "h264", None),
    ("sparse", "MP4_264_360p", "mp4", (640, 360), "h264", None),
    ("open_gop", "MP4_264_360p", "mp4", (640, 360), "h264", None),
    ("variable", "MP4_264_360p", "mp4", (640, 360), "h264", None),
    # A real camera clip of 5.6 s with one keyframe: no cut within a quarter chunk of decode, and longer than
    # chunk_min_input_seconds here (4 s), so one whole-file encode on the Fargate worker (local: a child process).
    ("real", "MP4_264_480p", "mp4", None, "h264", None),
]
RUNS_ON_THE_WORKER = {"real"}


def test_every_kind_of_output_and_source_through_chunks(
    chunking_local: Local, sources: dict[str, Path], tmp_path: Path
) -> None:
    local = chunking_local
    local.client.add_template("chunk_flv", format="flv", resolution="360p")
    local.client.add_template("chunk_hls", format="hls", resolution="360p", hls_seg_time=2)
    local.client.add_template("chunk_15fps", resolution="360p", framerate=15)
    inputs = {name: local.upload(path, f"chunked/{name}{path.suffix}") for name, path in sources.items()}
    started = {
        position: local.client.create_task(inputs[source], f"chunked/{position}/{source}", template_name=template)[
            "task_id"
        ]
        for position, (source, template, *_) in enumerate(CASES)
    }
    for position, (source, template, extension, size, codec, rate) in enumerate(CASES):
        case = f"{source} → {template}"
        task, _ = _wait(local, started[position])
        assert (task["status"], task["err_message"]) == ("success", "success"), case
        if source in RUNS_ON_THE_WORKER:
            assert task["plan"] == {"runner": "fargate"}, case
        else:
            assert task["plan"]["runner"] == "chunks" and task["plan"]["chunks"] >= 2, (case, task["plan"])
        assert task["objkey"].endswith(f".{extension}"), case
        output = _download(local, task, tmp_path / str(position))
        facts, made, given = probe_file(str(output)), _streams(output), _streams(sources[source])
        if size is not None:
            assert (facts.width, facts.height) == size, case
        assert facts.video_codec == codec, case
        if rate is None:
            assert made.frames == given.frames, case
            one_frame = given.video_duration / given.frames
        else:
            first, end = (
                round(Fraction(t).limit_denominator(100000) * rate) for t in (given.video_start, given.video_end)
            )
            assert made.frames == end - first, case
            one_frame = float(1 / rate)
        assert abs(made.video_duration - given.video_duration) <= one_frame + 1e-3, case
        if given.audio_end is None:
            assert made.audio_end is None, case
        else:
            assert made.audio_end is not None and facts.audio_codec == "aac", case
            assert abs(made.audio_end - made.video_end) <= 0.040 + abs(given.audio_end - given.video_end), case
        assert _work_files_left(local, task["task_id"]) == [], case


def test_hls_ladder_through_chunks(chunking_local: Local, tmp_path: Path) -> None:
    local = chunking_local
    film = tmp_path / "source" / "film.mp4"
    film.parent.mkdir()
    generate_clip(str(film), seconds=13, size="1280x720", rate=25)  # the ladder cuts chunks of whole 6 s segments
    task_id = local.client.create_task(
        local.upload(film, "ladder/film.mp4"), "ladder/film", template_name="HLS_264_ladder"
    )["task_id"]
    task, _ = _wait(local, task_id)
    assert task["status"] == "success", task["err_message"]
    assert task["plan"]["runner"] == "chunks"
    master = _download(local, task, tmp_path)
    text = master.read_text()
    assert text.count("#EXT-X-STREAM-INF") == 2, text
    given = _streams(film)
    for variant, size in (("film_720p.m3u8", (1280, 720)), ("film_360p.m3u8", (640, 360))):
        facts, made = probe_file(str(tmp_path / variant)), _streams(tmp_path / variant)
        assert ((facts.width, facts.height), made.frames, facts.audio_codec) == (size, given.frames, "aac"), variant
        assert made.audio_end is not None and abs(made.audio_end - made.video_end) <= 0.040, variant


def test_progress_counts_chunks_and_work_files_go(chunking_local: Local, tmp_path: Path) -> None:
    local = chunking_local
    clip = generate_clip(str(tmp_path / "long.mp4"), seconds=24, size="960x540", rate=25)
    task_id = local.client.create_task(
        local.upload(clip, "progress/long.mp4"), "progress/long", template_name="MP4_264_720p"
    )["task_id"]
    task, progress = _wait(local, task_id)
    assert task["status"] == "success", task["err_message"]
    assert task["plan"] == {"runner": "chunks", "chunks": 12, "chunk_seconds": 2.0}
    inside = sorted({value for value in progress if 10 < value < 94})
    assert len(inside) >= 3, progress  # chunks done ÷ chunks, not a jump from start to end
    assert progress == sorted(progress)
    assert _work_files_left(local, task_id) == []


def test_cancel_stops_the_map(chunking_local: Local, tmp_path: Path) -> None:
    local = chunking_local
    clip = generate_clip(str(tmp_path / "cancel.mp4"), seconds=40, size="1280x720", rate=25)
    task_id = local.client.create_task(
        local.upload(clip, "cancel/in.mp4"), "cancel/out", template_name="MP4_265_1080p"
    )["task_id"]
    deadline = time.monotonic() + 120
    while local.client.query_task(task_id)["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    local.client.cancel_task(task_id)
    sfn = boto3.client("stepfunctions", endpoint_url=local.aws_url)
    (execution,) = [
        e for e in sfn.list_executions(stateMachineArn=_state_machine(local))["executions"] if e["name"] == task_id
    ]
    stopped_by = time.monotonic() + 30
    while sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING":
        assert time.monotonic() < stopped_by, "the execution still runs 30 s after the cancel"
        time.sleep(0.5)
    # Chunks that were encoding stop within the watcher's interval and clear the task's work files.
    assert _work_files_left(local, task_id) == []
    task = local.client.query_task(task_id)
    assert task["status"] == "cancelled"


def _state_machine(local: Local) -> str:
    sfn = boto3.client("stepfunctions", endpoint_url=local.aws_url)
    (machine,) = sfn.list_state_machines()["stateMachines"]
    return str(machine["stateMachineArn"])


def _damage(source: Path, damaged: Path, start: float, end: float) -> int:
    """A copy of `source` whose video packets (keyframes spared) between `start` and `end` s are overwritten:
    the file's index is intact, so every frame is planned, but those frames cannot be decoded."""
    _, ffprobe = static_ffmpeg()
    packets = subprocess.run(
        [
            *(ffprobe, "-v", "error", "-select_streams", "v:0"),
            *("-show_entries", "packet=pts_time,pos,size,flags", "-of", "csv=p=0", str(source)),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    data, overwritten = bytearray(source.read_bytes()), 0
    for packet in packets:
        pts, size, position, flags = packet.split(",")
        if start <= float(pts) < end and "K" not in flags:
            data[int(position) : int(position) + int(size)] = b"\xff" * int(size)
            overwritten += 1
    damaged.write_bytes(bytes(data))
    return overwritten


def test_a_damaged_stretch_fails_its_chunk_by_name(chunking_local: Local, tmp_path: Path) -> None:
    local = chunking_local
    clip = Path(generate_clip(str(tmp_path / "whole.mp4"), seconds=8, size="320x180", rate=25))
    assert _damage(clip, tmp_path / "damaged.mp4", 5.0, 5.4) == 10
    url = local.upload(tmp_path / "damaged.mp4", "damaged/in.mp4")
    before = local.s3.head_object(Bucket=local.input_bucket, Key="damaged/in.mp4")
    task, _ = _wait(local, local.client.create_task(url, "damaged/out", template_name="MP4_264_360p")["task_id"])
    assert (task["status"], task["err_code"]) == ("fail", 2002)
    # Keyframes every 2 s: the third chunk covers 4-6 s of the source.
    assert task["err_message"] == (
        "chunk 3 (source 4.000-6.000 s): input is truncated or damaged: 40 of the chunk's 50 frames could be decoded"
    )
    assert task["plan"] == {"runner": "chunks", "chunks": 4, "chunk_seconds": 2.0}
    after = local.s3.head_object(Bucket=local.input_bucket, Key="damaged/in.mp4")
    assert (after["ETag"], after["VersionId"]) == (before["ETag"], before["VersionId"])  # the input is untouched
    assert _work_files_left(local, task["task_id"]) == []


LONG_SETTINGS = {"chunk_seconds": "300"}
"""The default chunk length would cut 2 hours into 720 chunks: on a laptop's cores that takes minutes, on AWS
seconds. Five-minute chunks keep the test's count at 24 with the very same path."""


@pytest.fixture(scope="module")
def long_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with start_local(tmp_path_factory.mktemp("long-local"), context=LONG_SETTINGS) as started:
        yield started


def test_a_two_hour_input_succeeds(long_local: Local, tmp_path: Path) -> None:
    """Two hours of a small, sparse picture (the default limits take four): every frame arrives, audio to the end."""
    local, seconds = long_local, 2 * 3600
    source = tmp_path / "two-hours.mp4"
    _ffmpeg(
        *_test_pattern(seconds, 2, size="160x90"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=8000:duration={seconds}"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-g", "20", "-c:a", "aac", "-b:a", "16k", str(source)),
    )
    local.client.add_template("two_hours", resolution="original", audio_bitrate=32)
    url = local.upload(source, "long/two-hours.mp4")
    task, _ = _wait(local, local.client.create_task(url, "long/out", template_name="two_hours")["task_id"])
    assert task["status"] == "success", task["err_message"]
    assert task["plan"] == {"runner": "chunks", "chunks": 24, "chunk_seconds": 300.0}
    assert task["duration"] == pytest.approx(seconds, abs=0.1)
    output = _download(local, task, tmp_path / "out")
    made, given = _streams(output), _streams(source)
    assert made.frames == given.frames == seconds * 2
    assert abs(made.video_duration - given.video_duration) <= 0.5 + 1e-3  # one frame at 2 fps
    assert made.audio_end is not None and abs(made.audio_end - made.video_end) <= 0.040
    assert _work_files_left(local, task["task_id"]) == []
