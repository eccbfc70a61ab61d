"""The chunked path's steps (Plan, EncodeChunk, EncodeAudio, Join, RecordFailure of a chunk) called directly with
their typed payloads, against moto's S3 and DynamoDB, with the real static ffmpeg on small generated clips.

The state machine's part is played here as its definition does it: each result stored under its key
(ResultPath), each chunk's event built as the map's ItemSelector builds it from the items file.
"""

import itertools
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

from localmode.media import generate_clip, probe_file
from localmode.stack import static_ffmpeg
from tests.frames import frame_at, is_red
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call
from tests.pngs import solid_png
from transcoder import errors, pipeline, repository, tasks
from transcoder.locations import S3Location
from transcoder.media.encode import run_ffmpeg
from transcoder.media.keyframes import probe_keyframes
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.pipeline import handoff
from transcoder.pipeline.chunking import chunk_of, describe
from transcoder.pipeline.payloads import ChunkItem
from transcoder.settings import settings
from transcoder.status import RUNNING_PROGRESS_SPAN

# The steps' modules, where each looks up run_ffmpeg (`transcoder.pipeline.join` is also the name of the step).
audio_step, chunk_step, join_step = (
    import_module(f"transcoder.pipeline.{name}") for name in ("audio", "chunk", "join")
)
RATE = 25
SECONDS = 6
"""With a keyframe every 2 s (generate_clip) and 2 s chunks: three chunks of 50 frames."""
LADDER_SECONDS = 14


@pytest.fixture
def chunked(aws: Aws) -> Iterator[Aws]:
    """Chunk settings small enough for clips of seconds (settings() is cached: cleared on the way in and out)."""
    chosen = {"CHUNK_MIN_INPUT_SECONDS": "4", "CHUNK_SECONDS": "2"}
    previous = {name: os.environ.get(name) for name in chosen}
    os.environ.update(chosen)
    settings.cache_clear()
    yield aws
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    settings.cache_clear()


def _ffmpeg(*arguments: str) -> None:
    ffmpeg, _ = static_ffmpeg()
    subprocess.run([ffmpeg, "-hide_banner", "-v", "error", "-y", *arguments], check=True)


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chunk-clips") / "film.mp4"
    generate_clip(str(path), seconds=SECONDS, size="320x240", rate=RATE)
    return path


@pytest.fixture(scope="module")
def silent_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chunk-clips") / "silent.mp4"
    generate_clip(str(path), seconds=SECONDS, size="320x240", rate=RATE, audio=False)
    return path


@pytest.fixture(scope="module")
def ladder_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """For HLS_264_ladder: two renditions (480p, 360p); its 6 s segments make 6 s chunks, two of them here."""
    path = tmp_path_factory.mktemp("chunk-clips") / "ladder.mp4"
    generate_clip(str(path), seconds=LADDER_SECONDS, size="640x480", rate=RATE)
    return path


@pytest.fixture(scope="module")
def one_keyframe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough for chunks, but with its only keyframe at the start: no cut is cheap enough."""
    path = tmp_path_factory.mktemp("chunk-clips") / "one-keyframe.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={RATE}:duration={SECONDS}"),
        *("-c:v", "libx264", "-preset", "veryfast", "-x264-params", "keyint=1000:min-keyint=1000:scenecut=0"),
        str(path),
    )
    return path


def _downloaded(aws: Aws, source: Path, *, template: str = "MP4_264_360p") -> dict[str, Any]:
    """A task created for `source` and its execution's payload after Download."""
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=source.read_bytes())
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="out/clip",
        template_name=template,
    )
    event: dict[str, Any] = json.loads(
        aws.sfn.describe_execution(executionArn=tasks.execution_arn(task.task_id))["input"]
    )
    event["source"] = pipeline.download(event)
    return event


def _planned(aws: Aws, source: Path, *, template: str = "MP4_264_360p") -> tuple[dict[str, Any], list[ChunkItem]]:
    event = _downloaded(aws, source, template=template)
    event["plan"] = pipeline.plan(event, remaining_seconds=300)
    assert event["plan"]["runner"] == "chunks", event["plan"]
    items = event["plan"]["items"]
    chunks: list[ChunkItem] = json.loads(aws.s3.get_object(Bucket=items["bucket"], Key=items["key"])["Body"].read())
    return event, chunks


def _chunk_event(event: dict[str, Any], item: ChunkItem, total: int) -> dict[str, Any]:
    """What the map's ItemSelector gives one iteration."""
    return {
        "task_id": event["task_id"],
        "account_id": event.get("account_id", DEFAULT_ACCOUNT),
        "template": event["template"],
        "source": event["source"],
        "chunk": item,
        "total": total,
    }


def _work_files(aws: Aws, task_id: str) -> list[str]:
    listed = aws.s3.list_objects_v2(Bucket=aws.work_bucket, Prefix=pipeline.work_prefix(task_id))
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _task(task_id: str) -> dict[str, Any]:
    """What query_task shows of the task, and the chunk count behind its progress."""
    stored = repository.get(task_id)
    assert stored is not None
    return {**tasks.task_fields(stored), "chunks_done": int(stored.chunks_done), "dst_size": int(stored.dst_size)}


def _stream_start(path: Path, kind: str) -> Fraction:
    """Where ffprobe says a stream starts, from the container's start (microseconds)."""
    _, ffprobe = static_ffmpeg()
    output = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-of",
            "json",
            "-show_entries",
            "format=start_time:stream=codec_type,start_time",
            str(path),
        ],
        check=True,
        capture_output=True,
    ).stdout
    data = json.loads(output)
    stream = next(s for s in data["streams"] if s["codec_type"] == kind)
    return Fraction(stream["start_time"]) - Fraction(data["format"]["start_time"])


# Plan


def test_a_short_input_runs_in_one_lambda(aws: Aws, clip_720p: Path) -> None:
    event = _downloaded(aws, clip_720p)
    assert settings().chunk_min_input_seconds >= 2, "the clip must be short for this deployment"
    assert pipeline.plan(event, remaining_seconds=300) == {"runner": "lambda"}
    task = _task(event["task_id"])
    assert task["plan"] == {"runner": "lambda"}
    assert task["status"] == "downloading"
    assert not any("/plan/" in key for key in _work_files(aws, event["task_id"]))


def test_a_long_input_is_planned_in_chunks_covering_every_frame(chunked: Aws, film: Path) -> None:
    event, items = _planned(chunked, film)
    planned = event["plan"]
    assert planned["chunks"] == len(items) == 3
    assert planned["chunk_seconds"] == 2.0
    assert planned["items"]["bucket"] == chunked.work_bucket
    assert planned["items"]["key"].startswith(pipeline.work_prefix(event["task_id"]))
    assert _task(event["task_id"])["plan"] == {"runner": "chunks", "chunks": 3, "chunk_seconds": 2.0}

    chunks = [chunk_of(item) for item in items]
    assert [chunk.index for chunk in chunks] == [0, 1, 2]
    assert sum(chunk.frames for chunk in chunks) == probe_file(str(film)).frame_count == SECONDS * RATE
    # Back to back, each where the previous one ends, on the source's timeline and in the output's.
    for before, after in itertools.pairwise(chunks):
        assert after.start == before.end
        assert after.output_start == before.output_start + before.output_duration
    assert chunks[0].seek is None
    assert chunks[0].output_start == 0
    assert sum(chunk.output_duration for chunk in chunks) == Fraction(SECONDS)

    assert planned["audio"] is True
    assert Fraction(planned["video_start"]) == chunks[0].start
    assert abs(Fraction(planned["video_start"]) - _stream_start(film, "video")) <= Fraction(1, 1_000_000)
    assert abs(Fraction(planned["audio_start"]) - _stream_start(film, "audio")) <= Fraction(1, 1_000_000)
    index = probe_keyframes(str(film))
    assert (planned["video_start"], planned["audio_start"]) == (str(index.frames.start), str(index.audio_start))


def test_a_silent_long_input_is_planned_without_audio(chunked: Aws, silent_film: Path) -> None:
    event, _ = _planned(chunked, silent_film)
    assert (event["plan"]["audio"], event["plan"]["audio_start"]) == (False, "0")


def test_a_long_source_that_cannot_be_cut_runs_on_the_worker(chunked: Aws, one_keyframe: Path) -> None:
    """Longer than chunk_min_input_seconds but one keyframe: one whole-file encode, the Fargate worker's, which
    reads Transcode's payload from the work bucket (ECS overrides hold 8 KiB)."""
    assert len(probe_keyframes(str(one_keyframe)).keyframe_times) == 1
    event = _downloaded(chunked, one_keyframe)
    assert pipeline.plan(event, remaining_seconds=300) == {"runner": "fargate"}
    assert _task(event["task_id"])["plan"] == {"runner": "fargate"}
    staged = handoff.read_payload(S3Location(chunked.work_bucket, handoff.payload_key(event["task_id"], "transcode")))
    assert staged == event


def test_an_output_over_the_limits_fails_in_plan_before_any_encode(chunked: Aws, film: Path) -> None:
    event = _downloaded(chunked, film, template="MP4_264_Original")
    os.environ["MAX_OUTPUT_DIMENSION"] = "300"  # the source is 320x240: its original size is now too large
    settings.cache_clear()
    try:
        with pytest.raises(errors.InputOverLimits, match="max_output_dimension") as raised:
            pipeline.plan(event, remaining_seconds=300)
    finally:
        del os.environ["MAX_OUTPUT_DIMENSION"]
        settings.cache_clear()
    assert raised.value.err_code == 2003
    task = _task(event["task_id"])
    assert (task["status"], task["plan"]) == ("downloading", {})
    assert _work_files(chunked, event["task_id"]) == [], "something was planned or encoded"


def test_a_task_cancelled_while_planned_keeps_no_chunk_items(chunked: Aws, film: Path) -> None:
    event = _downloaded(chunked, film)
    stored = repository.get(event["task_id"])
    assert stored is not None
    tasks.cancel_task(stored)
    with pytest.raises(errors.StatusConflict, match="planning"):
        pipeline.plan(event, remaining_seconds=300)
    assert _work_files(chunked, event["task_id"]) == []
    assert _task(event["task_id"])["plan"] == {}


# EncodeChunk


def test_each_chunk_is_encoded_exactly_and_counted(chunked: Aws, film: Path, tmp_path: Path) -> None:
    event, items = _planned(chunked, film)
    task_id, total = event["task_id"], len(items)
    low, high = RUNNING_PROGRESS_SPAN

    first = pipeline.encode_chunk(_chunk_event(event, items[0], total), remaining_seconds=300)
    assert first == {"index": 0, "files": ["chunk_00000.mp4"]}
    after_first = _task(task_id)
    assert (after_first["status"], after_first["chunks_done"]) == ("running", 1)
    assert after_first["progress"] == low + (high - low) // total

    # A chunk entering the running task (here one that then fails) leaves the progress the others reported.
    damaged: ChunkItem = {**items[-1], "frames": items[-1]["frames"] + 1}
    with pytest.raises(errors.InputNotDecodable, match=f"{items[-1]['frames']} of the chunk's"):
        pipeline.encode_chunk(_chunk_event(event, damaged, total), remaining_seconds=300)
    assert (_task(task_id)["progress"], _task(task_id)["chunks_done"]) == (after_first["progress"], 1)

    for item in items[1:]:
        pipeline.encode_chunk(_chunk_event(event, item, total), remaining_seconds=300)
    done = _task(task_id)
    assert (done["status"], done["chunks_done"], done["progress"]) == ("running", total, high)

    chunks_folder = pipeline.work_prefix(task_id) + "chunks/"
    assert [key for key in _work_files(chunked, task_id) if key.startswith(chunks_folder)] == [
        f"{chunks_folder}chunk_{i:05d}.mp4" for i in range(total)
    ]
    for item in items:
        local = tmp_path / f"{item['index']}.mp4"
        chunked.s3.download_file(chunked.work_bucket, f"{chunks_folder}chunk_{item['index']:05d}.mp4", str(local))
        facts = probe_file(str(local))
        assert (facts.frame_count, facts.audio_codec) == (item["frames"], None)

    # A retried chunk counts again, but the progress stays inside the running span.
    pipeline.encode_chunk(_chunk_event(event, items[0], total), remaining_seconds=300)
    retried = _task(task_id)
    assert (retried["chunks_done"], retried["progress"]) == (total + 1, high)


def test_a_chunk_of_a_cancelled_task_is_not_encoded(chunked: Aws, film: Path) -> None:
    event, items = _planned(chunked, film)
    stored = repository.get(event["task_id"])
    assert stored is not None
    assert tasks.cancel_task(stored).status == "cancelled"
    with pytest.raises(errors.StatusConflict):
        pipeline.encode_chunk(_chunk_event(event, items[0], len(items)), remaining_seconds=300)
    assert not any("/chunks/" in key for key in _work_files(chunked, event["task_id"]))
    assert _task(event["task_id"])["status"] == "cancelled"


def test_a_task_cancelled_during_a_chunk_encode_loses_its_work_files(
    chunked: Aws, film: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, items = _planned(chunked, film)
    task_id = event["task_id"]
    pipeline.encode_chunk(_chunk_event(event, items[0], len(items)), remaining_seconds=300)
    assert len(_work_files(chunked, task_id)) >= 2, "no plan items and encoded chunk to discard"
    encode = run_ffmpeg

    def cancel_then_encode(command: list[str], **options: Any) -> None:
        # The user cancels while the chunk's ffmpeg runs: the step finds it out before counting its chunk.
        stored = repository.get(task_id)
        assert stored is not None
        tasks.cancel_task(stored)
        encode(command, **options)

    monkeypatch.setattr(chunk_step, "run_ffmpeg", cancel_then_encode)
    with pytest.raises(errors.StatusConflict, match="chunk 2"):
        pipeline.encode_chunk(_chunk_event(event, items[1], len(items)), remaining_seconds=300)
    assert _work_files(chunked, task_id) == []
    assert list(Path(tempfile.gettempdir()).glob(f"{task_id}-*")) == [], "the scratch directory is left"
    ended = _task(task_id)
    assert (ended["status"], ended["chunks_done"]) == ("cancelled", 1)


# EncodeAudio and Join, then Upload


def test_a_task_cancelled_during_the_audio_encode_loses_its_work_files(
    chunked: Aws, film: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, items = _planned(chunked, film)
    task_id = event["task_id"]
    pipeline.encode_chunk(_chunk_event(event, items[0], len(items)), remaining_seconds=300)
    encode = run_ffmpeg

    def cancel_then_encode(command: list[str], **options: Any) -> None:
        stored = repository.get(task_id)
        assert stored is not None
        tasks.cancel_task(stored)
        encode(command, **options)

    monkeypatch.setattr(audio_step, "run_ffmpeg", cancel_then_encode)
    with pytest.raises(errors.StatusConflict, match="audio"):
        pipeline.encode_audio(event, remaining_seconds=300)
    assert _work_files(chunked, task_id) == [], "the audio (or the chunks) of a cancelled task stayed"
    assert _task(task_id)["status"] == "cancelled"


def test_a_task_cancelled_during_the_join_keeps_no_work_file(
    chunked: Aws, film: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, items = _planned(chunked, film)
    task_id = event["task_id"]
    for item in items:
        pipeline.encode_chunk(_chunk_event(event, item, len(items)), remaining_seconds=300)
    pipeline.encode_audio(event, remaining_seconds=300)
    encode = run_ffmpeg

    def cancel_then_join(command: list[str], **options: Any) -> None:
        stored = repository.get(task_id)
        assert stored is not None
        tasks.cancel_task(stored)
        encode(command, **options)

    monkeypatch.setattr(join_step, "run_ffmpeg", cancel_then_join)
    with pytest.raises(errors.StatusConflict, match="joining"):
        pipeline.join(event, remaining_seconds=300)
    assert _work_files(chunked, task_id) == []
    assert _task(task_id)["status"] == "cancelled"


@pytest.mark.parametrize("with_audio", [True, False], ids=["audio", "silent"])
def test_joined_chunks_are_the_source_frame_for_frame_and_upload_delivers_them(
    chunked: Aws, film: Path, silent_film: Path, tmp_path: Path, with_audio: bool
) -> None:
    source = film if with_audio else silent_film
    event, items = _planned(chunked, source)
    task_id = event["task_id"]
    for item in items:
        pipeline.encode_chunk(_chunk_event(event, item, len(items)), remaining_seconds=300)
    if event["plan"]["audio"]:
        audio = pipeline.encode_audio(event, remaining_seconds=300)
        assert audio["audio"]["key"] == pipeline.work_prefix(task_id) + "chunks/audio.m4a"
    event["transcoded"] = pipeline.join(event, remaining_seconds=300)
    encoded = event["transcoded"]["encoded"]
    assert (encoded["bucket"], encoded["prefix"], encoded["files"]) == (
        chunked.work_bucket,
        pipeline.work_prefix(task_id) + "output/",
        ["clip.mp4"],
    )
    joined = tmp_path / "joined.mp4"
    chunked.s3.download_file(encoded["bucket"], encoded["prefix"] + "clip.mp4", str(joined))
    facts = probe_file(str(joined))
    assert facts.frame_count == probe_file(str(source)).frame_count == SECONDS * RATE
    assert facts.video_codec == "h264"
    assert facts.audio_codec == ("aac" if with_audio else None)
    if with_audio:
        assert abs(facts.audio_duration - SECONDS) <= 0.05
    assert abs(facts.duration - SECONDS) <= 1 / RATE
    assert event["transcoded"]["media"]["size_bytes"] == joined.stat().st_size

    event["delivered"] = pipeline.upload(event)
    task = _task(task_id)
    assert (task["status"], task["err_code"], task["progress"]) == ("success", 0, 100)
    assert task["dst_size"] == joined.stat().st_size
    delivered = tmp_path / "delivered.mp4"
    chunked.s3.download_file(chunked.output_bucket, event["delivered"]["objkey"], str(delivered))
    assert delivered.read_bytes() == joined.read_bytes()
    assert _work_files(chunked, task_id) == [], "work files left behind"


def test_a_ladder_is_encoded_by_chunks_per_rendition_and_joined_into_its_playlists(
    chunked: Aws, ladder_film: Path, tmp_path: Path
) -> None:
    event, items = _planned(chunked, ladder_film, template="HLS_264_ladder")
    task_id = event["task_id"]
    assert (event["plan"]["chunks"], event["plan"]["chunk_seconds"]) == (2, 6.0)
    chunks_folder = pipeline.work_prefix(task_id) + "chunks/"
    for item in items:
        result = pipeline.encode_chunk(_chunk_event(event, item, len(items)), remaining_seconds=300)
        assert result["files"] == [f"chunk_{item['index']:05d}_v0.mp4", f"chunk_{item['index']:05d}_v1.mp4"]
        heights = []
        for name in result["files"]:
            local = tmp_path / name
            chunked.s3.download_file(chunked.work_bucket, chunks_folder + name, str(local))
            facts = probe_file(str(local))
            assert facts.frame_count == item["frames"], name
            heights.append(facts.height)
        assert heights == [480, 360]
    pipeline.encode_audio(event, remaining_seconds=300)
    event["transcoded"] = pipeline.join(event, remaining_seconds=300)

    encoded = event["transcoded"]["encoded"]
    assert "clip.m3u8" in encoded["files"]
    joined = tmp_path / "joined"
    joined.mkdir()
    for name in encoded["files"]:
        chunked.s3.download_file(encoded["bucket"], encoded["prefix"] + name, str(joined / name))
    renditions = [name for name in encoded["files"] if name.endswith(".m3u8") and name != "clip.m3u8"]
    assert len(renditions) == 2, encoded["files"]
    for name in renditions:
        facts = probe_file(str(joined / name))
        assert (facts.frame_count, facts.audio_codec) == (LADDER_SECONDS * RATE, "aac"), name

    event["delivered"] = pipeline.upload(event)
    assert _task(task_id)["status"] == "success"
    delivered = chunked.s3.list_objects_v2(Bucket=chunked.output_bucket).get("Contents", [])
    assert sorted(o["Key"].rpartition("/")[2] for o in delivered) == sorted(encoded["files"])
    assert _work_files(chunked, task_id) == []


@pytest.fixture(scope="module")
def dark_film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dark grey with a tone and a keyframe every 2 s: nothing red unless a logo is drawn."""
    path = tmp_path_factory.mktemp("chunk-clips") / "dark.mp4"
    _ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=0x202830:s=640x360:r={RATE}:d={SECONDS}"),
        *("-f", "lavfi", "-i", f"sine=duration={SECONDS}"),
        *("-c:v", "libx264", "-preset", "veryfast", "-g", str(2 * RATE), "-pix_fmt", "yuv420p", "-c:a", "aac"),
        str(path),
    )
    return path


def test_every_chunk_draws_the_logo(chunked: Aws, dark_film: Path, tmp_path: Path) -> None:
    logo = "brand/red.png"
    chunked.s3.put_object(Bucket=chunked.input_bucket, Key=logo, Body=solid_png(64, 32, (255, 0, 0)))
    status, body = _call(
        "POST",
        "/api/add_template",
        {"name": "with_logo", "resolution": "360p", "logo_path": f"s3://{chunked.input_bucket}/{logo}"}
        | {"logo_size": "40x20", "logo_offset": "x=100:y=50"},
    )
    assert (status, body["code"]) == (200, 0), body
    event, items = _planned(chunked, dark_film, template="with_logo")
    assert "logo" in event["source"]
    for item in items:
        pipeline.encode_chunk(_chunk_event(event, item, len(items)), remaining_seconds=300)
    pipeline.encode_audio(event, remaining_seconds=300)
    event["transcoded"] = pipeline.join(event, remaining_seconds=300)
    encoded = event["transcoded"]["encoded"]
    joined = tmp_path / "joined.mp4"
    chunked.s3.download_file(encoded["bucket"], encoded["prefix"] + encoded["files"][0], str(joined))
    assert probe_file(str(joined)).frame_count == SECONDS * RATE
    # The first and last frames of every chunk: each chunk's encode read the logo.
    for chunk in (chunk_of(item) for item in items):
        first = round(chunk.output_start * RATE)
        for index in (first, first + chunk.frames - 1):
            frame = frame_at(str(joined), index, 640, 360)
            assert is_red(frame.pixel(120, 60)), f"no logo on frame {index}"
            assert not is_red(frame.pixel(95, 60)), f"the logo is not where it belongs on frame {index}"


# RecordFailure of a chunk


_CHUNK_2 = ChunkItem(
    index=1,
    start="2",
    end="4",
    seek="8001/4000",
    accurate=False,
    frames=50,
    first_frame_time="2",
    output_start="2",
    output_duration="2",
)


@pytest.mark.parametrize(
    ("error", "cause", "code", "message"),
    [
        (
            "TranscodeTimedOut",
            "transcoding did not finish within 880 s",
            3002,
            "chunk 2 (source 2.000-4.000 s): transcoding did not finish within 880 s",
        ),
        (
            "InputNotDecodable",
            "input is truncated or damaged: 31 of the chunk's 50 frames could be decoded",
            2002,
            "chunk 2 (source 2.000-4.000 s): input is truncated or damaged: 31 of the chunk's 50 frames could be"
            " decoded",
        ),
        # Lambda's own timeout carries no message of ours.
        (
            "Sandbox.Timedout",
            None,
            3002,
            "chunk 2 (source 2.000-4.000 s): transcoding timed out: the step ran out of time",
        ),
    ],
)
def test_a_failed_chunk_is_named_in_the_task_message(
    aws: Aws, clip_720p: Path, error: str, cause: str | None, code: int, message: str
) -> None:
    event = _downloaded(aws, clip_720p)
    assert describe(_CHUNK_2) == "chunk 2 (source 2.000-4.000 s)"
    failed = _chunk_event(event, _CHUNK_2, 3)
    failed["error"] = {"Error": error, "Cause": cause and json.dumps({"errorType": error, "errorMessage": cause})}
    result = pipeline.record_failure(failed)
    assert result == {"task_id": event["task_id"], "recorded": True, "err_code": code, "err_message": message}
    task = _task(event["task_id"])
    assert (task["status"], task["err_code"], task["err_message"]) == ("fail", code, message)
    assert _work_files(aws, event["task_id"]) == []


def test_a_chunk_stopped_by_a_cancel_leaves_the_cancel_unprefixed(aws: Aws, clip_720p: Path) -> None:
    event = _downloaded(aws, clip_720p)
    stored = repository.get(event["task_id"])
    assert stored is not None
    tasks.cancel_task(stored)
    conflict = f"task {event['task_id']} was cancelled, ended or deleted during chunk 2; its work was discarded"
    failed = _chunk_event(event, _CHUNK_2, 3)
    failed["error"] = {
        "Error": "StatusConflict",
        "Cause": json.dumps({"errorType": "StatusConflict", "errorMessage": conflict}),
    }
    result = pipeline.record_failure(failed)
    assert (result["recorded"], result["err_message"]) == (False, conflict)
    task = _task(event["task_id"])
    assert (task["status"], task["err_code"]) == ("cancelled", 5001)
