"""Each task event is counted once, where it happens, whichever entry point or step caused it (moto, real ffmpeg)."""

import json
from pathlib import Path

import pytest

from tests.emf import metric_lines, named
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call
from tests.integration.test_pipeline_steps import _run_pipeline, _start
from tests.integration.test_worker import _start_worker
from tests.integration.worker_steps import downloaded
from transcoder import metric_names as names
from transcoder import pipeline, repository
from transcoder.status import Status
from worker.main import EXIT_SUCCESS


def test_create_task_counts_one_task_under_its_template(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    status, body = _call("POST", "/api/create_task", VALID)
    assert (status, body["code"]) == (200, 0), body
    [created] = named(capsys.readouterr().out, names.TASKS_CREATED)
    assert {"service": "transcoder", "template": "MP4_264_360p"} in created.dimension_sets
    assert created.fields["task_id"] == body["data"]["task_id"]


def test_a_refused_request_counts_nothing(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    _, body = _call("POST", "/api/create_task", {**VALID, "template_name": "NO_SUCH_TEMPLATE"})
    assert body["code"] != 0, body
    assert metric_lines(capsys.readouterr().out) == []


def test_a_task_through_the_steps_reports_start_speed_success_and_duration(
    aws: Aws, clip_720p: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = _start(aws, clip_720p)
    _run_pipeline(event)
    out = capsys.readouterr().out
    # Download and Plan both write `downloading`: the start is counted once, when the task leaves `pending`.
    assert len(named(out, names.TASK_START_DELAY)) == 1
    [speed] = named(out, names.ENCODE_SPEED)
    assert speed.value > 0
    assert speed.dimension_sets[1] == {"service": "transcoder", "step": "Transcode"}
    assert 1.9 <= float(speed.fields["media_seconds"]) <= 2.1  # the 2 s clip's output
    [succeeded] = named(out, names.TASKS_SUCCEEDED)
    assert succeeded.fields["task_id"] == event["task_id"]
    [duration] = named(out, names.TASK_DURATION)
    assert duration.dimension_sets[1] == {"service": "transcoder", "status": "success"}
    assert named(out, names.TASKS_FAILED) == []


def test_a_failed_task_counts_its_err_code_once(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    event = _start(aws, b"not a video at all")
    capsys.readouterr()
    with pytest.raises(Exception) as raised:
        pipeline.download(event)
    error = {"Error": type(raised.value).__name__, "Cause": "{}"}
    pipeline.record_failure({"task_id": event["task_id"], "error": error})
    # A second Catch of the same task (a chunk and the map both failing) finds it ended: not counted again.
    pipeline.record_failure({"task_id": event["task_id"], "error": error})
    [failed] = named(capsys.readouterr().out, names.TASKS_FAILED)
    assert {"service": "transcoder", "err_code": "2002", "template": "MP4_264_360p"} in failed.dimension_sets


def test_cancel_counts_one_cancelled_task(aws: Aws, capsys: pytest.CaptureFixture[str]) -> None:
    _, body = _call("POST", "/api/create_task", VALID)
    task_id = body["data"]["task_id"]
    capsys.readouterr()
    for _ in range(2):
        _, answer = _call("POST", "/api/cancel_task", {"task_id": task_id})
        assert answer["data"]["status"] == "cancelled", answer
    out = capsys.readouterr().out
    assert len(named(out, names.TASKS_CANCELLED)) == 1
    assert named(out, names.TASK_DURATION)[0].dimension_sets[1]["status"] == "cancelled"
    assert not repository.move(task_id, Status.FAIL, err_code=9000)
    assert metric_lines(capsys.readouterr().out) == []


def test_the_fargate_worker_writes_its_metrics_to_stdout(aws: Aws, clip_720p: Path) -> None:
    """The worker's process has no handler to flush for it: each line is on stdout (awslogs) when it returns."""
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    worker = _start_worker({"WORKER_STEP": "transcode", "WORKER_PAYLOAD": json.dumps(event)})
    stdout, stderr = worker.communicate(timeout=300)
    assert worker.returncode == EXIT_SUCCESS, stderr
    [speed] = named(stdout, names.ENCODE_SPEED)
    assert speed.dimension_sets[1] == {"service": "transcoder", "step": "TranscodeOnFargate"}
