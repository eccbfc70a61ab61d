"""No task stays non-terminal, against moto's executing Step Functions: an execution that ends TIMED_OUT, ABORTED
or FAILED without ending its task is reconciled by the rule's function (its event's detail is DescribeExecution's,
as AWS documents it), and the sweep ends what no event ended."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.core.config import default_user_config

from handlers import reconcile as handler
from localmode.functions import LocalContext
from tests.emf import named
from tests.integration.conftest import Aws
from transcoder import metric_names as names
from transcoder import reconcile, repository, tasks
from transcoder.ids import new_task_id
from transcoder.models import DEFAULT_ACCOUNT, TaskModel
from transcoder.status import Status

WAIT_MACHINE = {"StartAt": "Work", "States": {"Work": {"Type": "Wait", "Seconds": 60, "End": True}}}
TIMING_OUT_MACHINE = {"TimeoutSeconds": 1, **WAIT_MACHINE}
SECRET_CAUSE = (
    "An error occurred while executing the state 'Runner' (entered at the event id #9). Invalid path '$.plan' in "
    '{"input": {"url": "https://media.example/v.mp4?X-Amz-Signature=topsecret"}}'
)
FAILING_MACHINE = {
    "StartAt": "Boom",
    # An uncaught error (Lambda.Unknown: a function that crashed out of memory), its cause carrying a signed URL.
    "States": {"Boom": {"Type": "Fail", "Error": "Lambda.Unknown", "Cause": SECRET_CAUSE}},
}
LIMITS = reconcile.Limits(execution_timeout_seconds=43200, stuck_pending_seconds=900, stuck_grace_seconds=900)


@pytest.fixture
def executing(monkeypatch: pytest.MonkeyPatch, moto_server: str) -> Iterator[None]:
    """Requested before `aws`: moto picks the executing backend when the state machine is created."""
    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    monkeypatch.setenv("EXECUTION_TIMEOUT_SECONDS", "43200")
    reconcile._sfn.cache_clear()
    yield
    reconcile._sfn.cache_clear()


def _use_machine(aws: Aws, definition: dict[str, Any]) -> None:
    arn = tasks.execution_arn("x").replace(":execution:", ":stateMachine:").removesuffix(":x")
    aws.sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(definition))


def _start_task(status: Status = Status.RUNNING) -> str:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url="s3://test-input/a.mp4", output="a", template_name="MP4_264_360p"
    )
    if status is not Status.PENDING:
        assert repository.move(task.task_id, status)
    return task.task_id


def _ended(aws: Aws, task_id: str, timeout: float = 20) -> dict[str, Any]:
    """The execution once it has ended: DescribeExecution, which is what the status change event's detail holds."""
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = dict(aws.sfn.describe_execution(executionArn=tasks.execution_arn(task_id)))
        if described["status"] != "RUNNING":
            return described
        assert time.monotonic() < deadline, f"execution of {task_id} still running"
        time.sleep(0.1)


def _deliver(described: dict[str, Any]) -> dict[str, Any]:
    """The rule's target invoked as EventBridge invokes it."""
    detail = {
        key: (int(value.timestamp() * 1000) if key in ("startDate", "stopDate") else value)
        for key, value in described.items()
        if key != "ResponseMetadata"
    }
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-11-30T12:00:00Z",
        "region": "us-east-1",
        "resources": [described["executionArn"]],
        "detail": detail,
    }
    context = LocalContext("ended", 512, "arn:aws:lambda:us-east-1:123456789012:function:ended", 60)
    result: dict[str, Any] = handler.execution_ended(event, context)
    return result


def _task(task_id: str) -> TaskModel:
    task = repository.get(task_id)
    assert task is not None
    return task


def test_running_task_whose_execution_is_stopped_directly_ends_9001(executing: None, aws: Aws) -> None:
    _use_machine(aws, WAIT_MACHINE)
    task_id = _start_task(Status.RUNNING)
    aws.sfn.stop_execution(executionArn=tasks.execution_arn(task_id), error="Ops", cause="stopped in the console")
    described = _ended(aws, task_id)
    assert described["status"] == "ABORTED"
    assert _deliver(described)["ended"] is True
    task = _task(task_id)
    assert (task.status, task.err_code) == ("fail", 9001)
    assert task.err_message == "the task's execution was stopped outside the service"
    assert task.finish_time > 0
    assert task.open_shard is None
    assert task_id not in set(repository.open_task_ids(int(time.time()) + 60))
    # The same event again (EventBridge delivers at least once): nothing changes.
    finished = task.finish_time
    assert _deliver(described)["ended"] is False
    again = _task(task_id)
    assert (again.status, again.err_code, again.finish_time) == ("fail", 9001, finished)


def test_cancelled_task_stays_cancelled_under_duplicate_events(executing: None, aws: Aws) -> None:
    _use_machine(aws, WAIT_MACHINE)
    task_id = _start_task(Status.DOWNLOADING)
    tasks.cancel_task(_task(task_id))  # marks it cancelled, then stops its execution
    described = _ended(aws, task_id)
    assert described["status"] == "ABORTED"
    for _ in range(2):
        assert _deliver(described)["ended"] is False
        task = _task(task_id)
        assert (task.status, task.err_code, task.err_message) == ("cancelled", 5001, tasks.CANCELLED_MESSAGE)


def test_deleted_task_is_not_brought_back(executing: None, aws: Aws) -> None:
    _use_machine(aws, WAIT_MACHINE)
    task_id = _start_task(Status.RUNNING)
    tasks.delete_task(_task(task_id))
    assert _deliver(_ended(aws, task_id))["ended"] is False
    assert repository.get(task_id) is None


def test_timed_out_execution_ends_3002(executing: None, aws: Aws) -> None:
    _use_machine(aws, TIMING_OUT_MACHINE)
    task_id = _start_task(Status.RUNNING)
    described = _ended(aws, task_id)
    assert described["status"] == "TIMED_OUT"
    assert _deliver(described)["ended"] is True
    task = _task(task_id)
    assert (task.status, task.err_code) == ("fail", 3002)
    assert task.err_message == "the task's execution exceeded the state machine's timeout of 12 h"


def test_execution_failed_outside_a_catch_ends_9000_without_secrets(executing: None, aws: Aws) -> None:
    _use_machine(aws, FAILING_MACHINE)
    task_id = _start_task(Status.PENDING)
    described = _ended(aws, task_id)
    assert (described["status"], described["error"]) == ("FAILED", "Lambda.Unknown")
    assert _deliver(described)["ended"] is True
    task = _task(task_id)
    assert (task.status, task.err_code) == ("fail", 9000)
    assert task.err_message == (
        "internal error (Lambda.Unknown): the task's execution failed outside the pipeline's error handling: "
        "An error occurred while executing the state 'Runner' (entered at the event id #9); "
        "the service's logs have the details"
    )
    assert "topsecret" not in task.err_message


def test_failure_recorded_by_the_pipeline_is_kept(executing: None, aws: Aws) -> None:
    """RecordFailure ended the task (2002) before the machine's Fail state failed the execution."""
    _use_machine(aws, FAILING_MACHINE)
    task_id = _start_task(Status.DOWNLOADING)
    assert repository.move(task_id, Status.FAIL, err_code=2002, err_message="input is not a decodable media file")
    assert _deliver(_ended(aws, task_id))["ended"] is False
    task = _task(task_id)
    assert (task.err_code, task.err_message) == (2002, "input is not a decodable media file")


def _insert_pending(created_seconds_ago: int) -> str:
    """A pending task whose execution never started (the API crashed between writing it and starting it)."""
    now = repository.now()
    task = TaskModel(
        task_id=new_task_id(),
        account_id=DEFAULT_ACCOUNT,
        status=Status.PENDING.value,
        create_time=now - created_seconds_ago,
        input="s3://test-input/a.mp4",
        output="a",
        objkey="a.mp4",
        bucket="test-output",
        region="us-east-1",
        template_id="builtin-MP4-264-360p",
        template_name="MP4_264_360p",
    )
    repository.insert(task)
    return task.task_id


def test_sweep_ends_an_old_pending_task_without_execution_and_leaves_a_fresh_one(
    executing: None, aws: Aws, capsys: pytest.CaptureFixture[str]
) -> None:
    stuck = _insert_pending(created_seconds_ago=1000)
    fresh = _insert_pending(created_seconds_ago=10)
    capsys.readouterr()
    report = reconcile.sweep(now=time.time(), limits=LIMITS)
    assert report.ended_task_ids == [stuck]
    # What the StuckTasks alarm watches (infra/constructs/monitoring.py).
    [found] = named(capsys.readouterr().out, names.STUCK_TASKS)
    assert (found.value, found.dimension_sets) == (1, [{"service": "transcoder"}])
    task = _task(stuck)
    assert (task.status, task.err_code) == ("fail", 9002)
    assert task.err_message.startswith("the task stayed pending for 16 min and its execution never started")
    assert _task(fresh).status == "pending"
    # A second sweep finds nothing more to do.
    assert reconcile.sweep(now=time.time(), limits=LIMITS).ended_task_ids == []


def test_sweep_leaves_running_executions_and_ends_what_an_ended_one_left(executing: None, aws: Aws) -> None:
    _use_machine(aws, WAIT_MACHINE)
    running = _start_task(Status.RUNNING)
    aborted = _start_task(Status.RUNNING)
    aws.sfn.stop_execution(executionArn=tasks.execution_arn(aborted))
    assert _ended(aws, aborted)["status"] == "ABORTED"
    limits = reconcile.Limits(execution_timeout_seconds=43200, stuck_pending_seconds=60, stuck_grace_seconds=900)
    # Within the grace the event's rule has to end it: left alone.
    within = reconcile.sweep(now=time.time() + 500, limits=limits)
    assert (within.checked, within.ended_task_ids) == (2, [])
    # No event came (lost): past the grace, the sweep ends it; the running one stays.
    report = reconcile.sweep(now=time.time() + 2000, limits=limits)
    assert report.ended_task_ids == [aborted]
    assert report.checked == 2
    task = _task(aborted)
    assert (task.status, task.err_code) == ("fail", 9002)
    assert task.err_message.startswith("the task was left running after its execution ended ABORTED")
    assert _task(running).status == "running"


def test_sweep_reads_every_page_of_the_index(executing: None, aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = {_insert_pending(created_seconds_ago=2000) for _ in range(5)}
    original = TaskModel.by_open_time.query

    def small_pages(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **{**kwargs, "page_size": 1})

    monkeypatch.setattr(TaskModel.by_open_time, "query", small_pages)
    assert set(reconcile.sweep(now=time.time(), limits=LIMITS).ended_task_ids) == stuck
