"""Cancelling or deleting a task stops the step working on it: its ffmpeg, its work files, its outputs."""

import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localmode.media import generate_clip
from tests.https_site import serve_https
from tests.integration.conftest import Aws
from tests.processes import ffmpeg_children
from transcoder import fetch, pipeline, repository, storage, tasks
from transcoder.errors import StatusConflict
from transcoder.locations import S3Location
from transcoder.models import DEFAULT_ACCOUNT, TaskModel

CANCEL_AFTER_SECONDS = 1.0
STOPPED_WITHIN_SECONDS = 8.0
"""The watcher asks every 2 s; then SIGTERM (SIGKILL after 3 s at worst) and the work files' deletion."""


@pytest.fixture(scope="module")
def minute_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A minute of 720p over HTTPS: Download stages it under the task's work prefix, so there is work to clear."""
    folder = tmp_path_factory.mktemp("minute")
    generate_clip(str(folder / "minute.mp4"), seconds=60, size="1280x720", rate=30)
    with serve_https(folder) as (base, cert), pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
        patch.setenv("CA_BUNDLE", str(cert))
        yield f"{base}/minute.mp4"


def _event_of(aws: Aws, task: TaskModel) -> dict[str, Any]:
    arn = tasks.execution_arn(task.task_id)
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=arn)["input"])
    return event


def _work_files(aws: Aws, task_id: str) -> list[str]:
    listed = aws.s3.list_objects_v2(Bucket=aws.work_bucket, Prefix=pipeline.work_prefix(task_id))
    return [o["Key"] for o in listed.get("Contents", [])]


class Step(threading.Thread):
    """A pipeline step running as its Lambda would, beside the test that cancels its task."""

    def __init__(self, run: Callable[[], dict[str, Any]]) -> None:
        super().__init__(daemon=True)
        self._run = run
        self.error: BaseException | None = None
        self.result: dict[str, Any] | None = None

    def run(self) -> None:
        try:
            self.result = self._run()
        except BaseException as exc:
            self.error = exc


def _transcoding(aws: Aws, minute_site: str) -> tuple[TaskModel, Step]:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url=minute_site, output="out/minute", template_name="MP4_265_720p"
    )
    event = _event_of(aws, task)
    event["source"] = pipeline.download(event)
    assert _work_files(aws, task.task_id), "Download staged nothing under the work prefix"
    step = Step(lambda: pipeline.transcode(event, remaining_seconds=900))
    step.start()
    time.sleep(CANCEL_AFTER_SECONDS)
    running = repository.get(task.task_id)
    assert running is not None
    assert running.status == "running"
    assert ffmpeg_children(), "no ffmpeg is encoding"
    return running, step


def _assert_stopped(aws: Aws, task_id: str, step: Step, since: float) -> None:
    step.join(timeout=120)
    took = time.monotonic() - since
    assert not step.is_alive()
    assert took < STOPPED_WITHIN_SECONDS, f"the step went on for {took:.1f} s after the task ended"
    assert isinstance(step.error, StatusConflict), step.error or step.result
    assert ffmpeg_children() == []
    assert _work_files(aws, task_id) == []
    assert list(Path(tempfile.gettempdir()).glob(f"{task_id}-*")) == [], "the scratch directory is left"


def test_cancel_stops_a_running_transcode(aws: Aws, minute_site: str) -> None:
    task, step = _transcoding(aws, minute_site)
    cancelled_at = time.monotonic()
    assert tasks.cancel_task(task).status == "cancelled"
    _assert_stopped(aws, task.task_id, step, cancelled_at)
    # RecordFailure, the state machine's Catch, leaves a cancelled task cancelled.
    failure = pipeline.record_failure({"task_id": task.task_id, "error": {"Error": "StatusConflict", "Cause": "{}"}})
    assert failure["recorded"] is False
    ended = repository.get(task.task_id)
    assert ended is not None
    assert (ended.status, ended.err_code) == ("cancelled", 5001)


def test_delete_stops_a_running_transcode(aws: Aws, minute_site: str) -> None:
    task, step = _transcoding(aws, minute_site)
    deleted_at = time.monotonic()
    tasks.delete_task(task)
    _assert_stopped(aws, task.task_id, step, deleted_at)
    pipeline.record_failure({"task_id": task.task_id, "error": {"Error": "StatusConflict", "Cause": "{}"}})
    assert repository.get(task.task_id) is None, "a deleted task came back"


@pytest.mark.parametrize("end", [tasks.cancel_task, tasks.delete_task])
def test_a_task_ended_during_the_download_keeps_no_staged_input(
    aws: Aws, minute_site: str, monkeypatch: pytest.MonkeyPatch, end: Callable[[TaskModel], object]
) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url=minute_site, output="out/minute", template_name="MP4_264_360p"
    )
    event = _event_of(aws, task)
    stage = fetch.stage

    def stage_then_end(url: str, destination: S3Location, max_bytes: int) -> int:
        # On AWS the stopped execution runs nothing after Download: it must clear what it staged itself.
        staged = stage(url, destination, max_bytes)
        assert _work_files(aws, task.task_id), "nothing was staged"
        end(task)
        return staged

    monkeypatch.setattr(fetch, "stage", stage_then_end)
    with pytest.raises(StatusConflict):
        pipeline.download(event)
    assert _work_files(aws, task.task_id) == []


def _transcoded(aws: Aws, clip: Path) -> tuple[TaskModel, dict[str, Any]]:
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=clip.read_bytes())
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="out/clip",
        template_name="MP4_264_360p",
    )
    event = _event_of(aws, task)
    event["source"] = pipeline.download(event)
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    assert _work_files(aws, task.task_id), "no encoded file in the work bucket"
    return task, event


def _outputs(aws: Aws) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.output_bucket).get("Contents", [])]


def test_upload_refuses_to_start_for_a_cancelled_task(aws: Aws, clip_720p: Path) -> None:
    task, event = _transcoded(aws, clip_720p)
    tasks.cancel_task(task)
    with pytest.raises(StatusConflict):
        pipeline.upload(event)
    assert _outputs(aws) == []
    ended = repository.get(task.task_id)
    assert ended is not None
    assert ended.status == "cancelled"


@pytest.mark.parametrize("end", [tasks.cancel_task, tasks.delete_task])
def test_a_task_ended_during_the_upload_copy_keeps_no_output(
    aws: Aws, clip_720p: Path, monkeypatch: pytest.MonkeyPatch, end: Callable[[TaskModel], object]
) -> None:
    task, event = _transcoded(aws, clip_720p)
    copy = storage.copy

    def copy_then_end(source: S3Location, destination: S3Location) -> str | None:
        # The user's cancel or delete lands while Upload is copying: after `uploading`, before `success`.
        version = copy(source, destination)
        assert _outputs(aws), "the copy wrote nothing"
        end(task)
        return version

    monkeypatch.setattr(storage, "copy", copy_then_end)
    with pytest.raises(StatusConflict):
        pipeline.upload(event)
    assert _outputs(aws) == []
    # The versioned output bucket keeps neither the version written nor a delete marker in its place.
    versions = aws.s3.list_object_versions(Bucket=aws.output_bucket)
    assert (versions.get("Versions", []), versions.get("DeleteMarkers", [])) == ([], [])
    assert _work_files(aws, task.task_id) == []
    ended = repository.get(task.task_id)
    assert ended is None if end is tasks.delete_task else (ended is not None and ended.status == "cancelled")
