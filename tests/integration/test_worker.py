"""The Fargate worker's entry point, run as a real child process against moto with the static ffmpeg."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localmode.media import probe_file
from tests.integration.conftest import Aws
from tests.integration.worker_steps import downloaded, wait_for_progress
from transcoder import pipeline, repository
from transcoder.pipeline import handoff
from transcoder.pricing import Prices
from transcoder.status import Status
from worker.main import EXIT_STEP_FAILED, EXIT_SUCCESS, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(environment: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "worker", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}", **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_runs_the_transcode_step_and_hands_on_its_result(aws: Aws, clip_720p: Path, tmp_path: Path) -> None:
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    assert handoff.fits_inline("transcode", event), "a built-in template's payload passes inline"
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": json.dumps(event)})
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == EXIT_SUCCESS, stderr
    # The worker charged its run to the task: under a minute, so Fargate's minimum at the default size.
    charged = repository.get(event["task_id"])
    assert charged is not None
    minimum = Prices().fargate_task(0, cpu_units=4096, memory_mib=8192, storage_gib=100, architecture="x86_64")
    assert charged.cost == pytest.approx(minimum)

    result = handoff.read_result(event["task_id"], "transcode")
    assert result["encoded"]["files"] == ["clip.mp4"]
    encoded = tmp_path / "encoded.mp4"
    aws.s3.download_file(result["encoded"]["bucket"], result["encoded"]["prefix"] + "clip.mp4", str(encoded))
    facts = probe_file(str(encoded))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 640, 360, "aac")
    assert facts.frame_count == 50

    # The result is the step's own: the next step (Upload, a Lambda) delivers it unchanged.
    event["transcoded"] = result
    pipeline.upload(event)
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code, task.dst_width, task.dst_height) == ("success", 0, 640, 360)


def test_worker_reads_a_staged_payload(aws: Aws, clip_720p: Path) -> None:
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    staged = handoff.stage_payload(event["task_id"], "transcode", event)
    worker = _start_worker({}, "--step", "transcode", "--payload-s3", staged.url)
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == EXIT_SUCCESS, stderr
    assert handoff.read_result(event["task_id"], "transcode")["media"]["video"]["width"] == 640


def test_a_failing_step_records_its_specific_err_code_and_exits_non_zero(aws: Aws, clip_720p: Path) -> None:
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    # The staged input vanishes between Download and the worker: the encode reads nothing decodable.
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=b"not a video any more")
    event["source"]["staged"].pop("version_id", None)
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": json.dumps(event)})
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == EXIT_STEP_FAILED
    error = json.loads(stderr.strip().splitlines()[-1])
    task = repository.get(event["task_id"])
    assert task is not None
    assert task.status == "fail"
    assert task.err_code in (2002, 3001), (task.err_code, task.err_message)
    assert error["errorType"] in ("InputNotDecodable", "TranscodeFailed")
    assert aws.s3.list_objects_v2(Bucket=aws.work_bucket).get("KeyCount") == 0, "work files left behind"

    # Then the Catch → RecordFailure of the ECS state (States.TaskFailed) keeps the specific code.
    again = pipeline.record_failure({**event, "error": {"Error": "States.TaskFailed", "Cause": "{}"}})
    assert again["recorded"] is False
    assert repository.get(event["task_id"]).err_code == task.err_code  # type: ignore[union-attr]


def test_worker_stopped_mid_encode_ends_the_task_as_fail(aws: Aws, clip_long: Path) -> None:
    event = downloaded(aws, clip_long, "MP4_264_720p")
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": json.dumps(event)})
    wait_for_progress(event["task_id"], worker, at_least=12)
    worker.send_signal(signal.SIGTERM)  # what ECS StopTask sends first
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == EXIT_STEP_FAILED, stderr
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code) == ("fail", 3001)
    assert "stopped" in task.err_message
    assert aws.s3.list_objects_v2(Bucket=aws.work_bucket).get("KeyCount") == 0, "work files left behind"


def test_a_payload_beyond_ecs_overrides_does_not_fit_inline() -> None:
    payload = {"task_id": "01abc", "template": {"description": "x" * 8000}}
    assert not handoff.fits_inline("transcode", payload)
    assert handoff.fits_inline("transcode", {"task_id": "01abc", "template": {"description": "x" * 7000}})


def test_worker_without_a_payload_exits_with_usage() -> None:
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": "", "WORKER_PAYLOAD_S3": ""})
    _, stderr = worker.communicate(timeout=60)
    assert worker.returncode == EXIT_USAGE
    assert "no payload" in stderr


def test_cancelling_the_task_stops_the_worker(aws: Aws, clip_long: Path) -> None:
    """The cancel watcher of the Lambda step works in the worker too: no signal needed, the encode stops."""
    event = downloaded(aws, clip_long, "MP4_264_720p")
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": json.dumps(event)})
    wait_for_progress(event["task_id"], worker, at_least=12)
    assert repository.move(event["task_id"], Status.CANCELLED, err_code=5001, err_message="cancelled")
    cancelled_at = time.monotonic()
    _, stderr = worker.communicate(timeout=60)
    # Stopped by the watcher (every 2 s), not at the end of an encode that had most of its way to go.
    assert time.monotonic() - cancelled_at < 10
    assert worker.returncode == EXIT_STEP_FAILED
    assert json.loads(stderr.strip().splitlines()[-1])["errorType"] == "StatusConflict"
    task = repository.get(event["task_id"])
    assert task is not None and (task.status, task.err_code) == ("cancelled", 5001)
    assert aws.s3.list_objects_v2(Bucket=aws.work_bucket).get("KeyCount") == 0, "work files left behind"
