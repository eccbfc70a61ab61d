"""Local mode's `ecs:runTask.sync`: a state machine synthesized with the worker's state, run in moto's
interpreter, starts the worker entry point as a local process and maps its exit as Step Functions does."""

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)

from localmode.emulator import local_task_definition
from localmode.media import probe_file
from localmode.template import LocalTemplate
from localmode.worker import LocalWorkers, read_sdk_bodies_as_text, route_ecs_to_local_workers
from tests.integration.conftest import Aws
from tests.integration.worker_steps import downloaded, wait_for_progress
from tests.worker_machine import FAILED_ERROR, synthesize
from transcoder import pipeline, repository
from transcoder.pipeline import handoff
from transcoder.status import Status

# The template's storage, named as the integration fixtures created it (tests/conftest.py).
_FIXTURE_NAMES = {
    "StorageInput": "INPUT_BUCKET",
    "StorageOutput": "OUTPUT_BUCKET",
    "StorageWork": "WORK_BUCKET",
    "StorageTasks": "TASK_TABLE",
    "StorageTemplates": "TEMPLATE_TABLE",
    "StorageStorages": "STORAGE_TABLE",
}


@pytest.fixture(scope="module")
def worker_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(tmp_path_factory.mktemp("worker-machine"))


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> Iterator[LocalWorkers]:
    """Requested before `aws`: moto serves executing state machines from another backend, chosen per request,
    so the setting must be on before the fixtures create theirs. Undone after the test."""
    for name in ("_eval_service_task", "_build_sync_resolver"):
        monkeypatch.setattr(StateTaskServiceEcs, name, getattr(StateTaskServiceEcs, name))
    monkeypatch.setattr(StateTaskServiceAwsSdk, "_eval_service_task", StateTaskServiceAwsSdk._eval_service_task)
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setenv("MOTO_PORT", str(urlsplit(moto_server).port))
    local_workers = LocalWorkers()
    route_ecs_to_local_workers(local_workers)
    read_sdk_bodies_as_text()
    yield local_workers
    local_workers.stop_all()


def _machine(aws: Aws, template: dict[str, Any], workers: LocalWorkers) -> str:
    local = LocalTemplate(template)
    for logical_id in local.resources:
        prefix = next((p for p in _FIXTURE_NAMES if logical_id.startswith(p)), None)
        if prefix:
            local.assigned_ids[logical_id] = os.environ[_FIXTURE_NAMES[prefix]]
    for logical_id, resource in local.of_type("AWS::ECS::TaskDefinition").items():
        workers.add(local_task_definition(local, logical_id, resource))
    (machine,) = local.of_type("AWS::StepFunctions::StateMachine").values()
    return aws.sfn.create_state_machine(
        name="worker-probe",
        definition=local.resolve(machine["Properties"]["DefinitionString"]),
        roleArn="arn:aws:iam::123456789012:role/test",
    )["stateMachineArn"]


def _finish(aws: Aws, execution_arn: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = aws.sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.5)
    pytest.fail("the execution never ended")


def test_the_worker_state_runs_the_step_and_the_next_states_read_its_result(
    workers: LocalWorkers, aws: Aws, worker_template: dict[str, Any], clip_720p: Path, tmp_path: Path
) -> None:
    machine = _machine(aws, worker_template, workers)
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    execution = aws.sfn.start_execution(stateMachineArn=machine, input=json.dumps(event))["executionArn"]
    ended = _finish(aws, execution)
    assert ended["status"] == "SUCCEEDED", _caught_error(aws, execution)

    output = json.loads(ended["output"])
    assert output["transcoded"] == handoff.read_result(event["task_id"], "transcode")
    encoded = output["transcoded"]["encoded"]
    local_copy = tmp_path / "encoded.mp4"
    aws.s3.download_file(encoded["bucket"], encoded["prefix"] + encoded["files"][0], str(local_copy))
    facts = probe_file(str(local_copy))
    assert (facts.video_codec, facts.width, facts.height, facts.frame_count) == ("h264", 640, 360, 50)

    pipeline.upload(output)  # Upload reads `$.transcoded` as after the Lambda
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code) == ("success", 0)


def _caught_error(aws: Aws, execution_arn: str) -> dict[str, str]:
    events = aws.sfn.get_execution_history(executionArn=execution_arn)["events"]
    (failed,) = [e for e in events if e["type"] == "TaskFailed"]
    details = failed["taskFailedEventDetails"]
    return {"Error": details["error"], "Cause": details["cause"]}


def test_a_worker_killed_mid_encode_fails_the_state_and_the_task_ends_fail(
    workers: LocalWorkers, aws: Aws, worker_template: dict[str, Any], clip_long: Path
) -> None:
    machine = _machine(aws, worker_template, workers)
    event = downloaded(aws, clip_long, "MP4_264_720p")
    execution = aws.sfn.start_execution(stateMachineArn=machine, input=json.dumps(event))["executionArn"]
    (task,) = _wait_for_worker(workers)
    wait_for_progress(event["task_id"], task.process, at_least=12)
    task.process.send_signal(signal.SIGKILL)  # out of memory: nothing in the worker runs any more

    ended = _finish(aws, execution)
    assert (ended["status"], ended["error"]) == ("FAILED", FAILED_ERROR)  # through the definition's Catch
    error = _caught_error(aws, execution)
    assert error["Error"] == "States.TaskFailed"
    stopped = json.loads(error["Cause"])
    assert (stopped["LastStatus"], stopped["StopCode"], stopped["Containers"][0]["ExitCode"]) == (
        "STOPPED",
        "EssentialContainerExited",
        137,
    )
    running = repository.get(event["task_id"])
    assert running is not None and running.status == "running"  # the worker could record nothing

    # What the pipeline's Catch → RecordFailure does with that error: a specific err_code, never stuck.
    failure = pipeline.record_failure({**event, "error": error})
    assert failure["recorded"] is True
    ended_task = repository.get(event["task_id"])
    assert ended_task is not None
    assert (ended_task.status, ended_task.err_code) == ("fail", 3001)
    assert ended_task.err_message == (
        "the Fargate worker stopped before the step finished (Essential container in task exited, exit code 137)"
    )


def test_a_failure_the_worker_records_keeps_its_err_code_through_the_catch(
    workers: LocalWorkers, aws: Aws, worker_template: dict[str, Any], clip_720p: Path
) -> None:
    machine = _machine(aws, worker_template, workers)
    event = downloaded(aws, clip_720p, "MP4_264_360p")
    staged = event["source"]["staged"]
    # The input's probed version is gone by the time the worker reads it: the encode fails.
    aws.s3.delete_object(Bucket=staged["bucket"], Key=staged["key"], VersionId=staged["version_id"])
    execution = aws.sfn.start_execution(stateMachineArn=machine, input=json.dumps(event))["executionArn"]
    ended = _finish(aws, execution)
    assert ended["status"] == "FAILED"
    error = _caught_error(aws, execution)
    assert (error["Error"], json.loads(error["Cause"])["Containers"][0]["ExitCode"]) == ("States.TaskFailed", 1)
    task = repository.get(event["task_id"])
    assert task is not None
    recorded = (task.status, task.err_code, task.err_message)
    assert recorded[:2] in (("fail", 2001), ("fail", 2002), ("fail", 3001)), recorded
    assert pipeline.record_failure({**event, "error": error})["recorded"] is False
    again = repository.get(event["task_id"])
    assert again is not None and (again.status, again.err_code, again.err_message) == recorded


def test_stopping_the_execution_stops_the_worker(
    workers: LocalWorkers, aws: Aws, worker_template: dict[str, Any], clip_long: Path
) -> None:
    machine = _machine(aws, worker_template, workers)
    event = downloaded(aws, clip_long, "MP4_264_720p")
    execution = aws.sfn.start_execution(stateMachineArn=machine, input=json.dumps(event))["executionArn"]
    (task,) = _wait_for_worker(workers)
    wait_for_progress(event["task_id"], task.process, at_least=12)
    # cancel_task: the task is cancelled, then its execution stopped.
    assert repository.move(event["task_id"], Status.CANCELLED, err_code=5001, err_message="cancelled")
    aws.sfn.stop_execution(executionArn=execution)
    task.process.wait(timeout=60)
    assert task.process.returncode != 0
    cancelled = repository.get(event["task_id"])
    assert cancelled is not None and (cancelled.status, cancelled.err_code) == ("cancelled", 5001)


def _wait_for_worker(workers: LocalWorkers) -> list[Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if workers.tasks():
            return workers.tasks()
        time.sleep(0.2)
    pytest.fail("no worker was started")
