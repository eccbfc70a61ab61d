"""No task stays non-terminal: ending the tasks whose execution ended without ending them.

Two ways in, one way out (pipeline.failure.fail_task, a conditional move, so a terminal task is never touched):
- the "Step Functions Execution Status Change" event of an execution that ended TIMED_OUT, ABORTED or FAILED
  (the task id is the execution's name): 3002, 9001 or 9000;
- the scheduled sweep, for what no event ended (a task whose execution never started, an event lost): 9002.

The normal paths end tasks first (RecordFailure before the state machine's Fail state, cancel_task before
StopExecution), so for them the move here is refused and nothing changes.
"""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcoder import metrics, repository
from transcoder.errors import INTERNAL_ERROR_CODE, StoppedOutsideService, TaskStuck, TranscodeTimedOut
from transcoder.logs import redact_urls
from transcoder.pipeline.failure import fail_task
from transcoder.status import Status, is_terminal
from transcoder.tasks import execution_arn

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

ENDED_STATUSES = ("TIMED_OUT", "ABORTED", "FAILED")
"""The execution statuses the event rule passes (infra/constructs/reconcile.py)."""
STOPPED_OUTSIDE_MESSAGE = "the task's execution was stopped outside the service"
_CAUSE_CHARACTERS = 160


@dataclass(frozen=True)
class Limits:
    """The bounds the decisions use, from the function's environment (infra/constructs/reconcile.py)."""

    execution_timeout_seconds: int
    """The state machine's own TimeoutSeconds."""
    stuck_pending_seconds: int = 900
    """A task pending this long without a running execution never started: the sweep ends it."""
    stuck_grace_seconds: int = 900
    """How long after its execution ended (or overran its timeout) a task may stay open before the sweep ends
    it: the event rule, with its retries, gets this long to end it with the specific code first."""

    @classmethod
    def from_environment(cls) -> "Limits":
        return cls(
            execution_timeout_seconds=int(os.environ["EXECUTION_TIMEOUT_SECONDS"]),
            stuck_pending_seconds=int(os.environ.get("STUCK_PENDING_SECONDS", "900")),
            stuck_grace_seconds=int(os.environ.get("STUCK_GRACE_SECONDS", "900")),
        )


def duration_text(seconds: float) -> str:
    """`12 h`, `90 min`, `45 s`: the largest unit that says it exactly, else minutes or seconds rounded."""
    seconds = int(seconds)
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# --- the event rule -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionEnd:
    """The parts of a "Step Functions Execution Status Change" event's detail that decide a task's end."""

    task_id: str
    status: str
    error: str = ""
    cause: str = ""

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> "ExecutionEnd":
        return cls(
            task_id=str(detail["name"]),
            status=str(detail["status"]),
            error=str(detail.get("error") or ""),
            cause=str(detail.get("cause") or ""),
        )


@dataclass(frozen=True)
class Ending:
    err_code: int
    message: str


def ending_for(end: ExecutionEnd, limits: Limits) -> Ending | None:
    """How a task whose execution ended this way ends, if it is still open; None for a status we do not end."""
    if end.status == "TIMED_OUT":
        timeout = duration_text(limits.execution_timeout_seconds)
        message = f"the task's execution exceeded the state machine's timeout of {timeout}"
        return Ending(TranscodeTimedOut.err_code, message)
    if end.status == "ABORTED":
        # cancel_task marks the task cancelled before it stops the execution: the move here is refused.
        return Ending(StoppedOutsideService.err_code, STOPPED_OUTSIDE_MESSAGE)
    if end.status == "FAILED":
        return Ending(INTERNAL_ERROR_CODE, failed_message(end.error, end.cause))
    return None


def failed_message(error: str, cause: str) -> str:
    """A failure no Catch recorded (a state's runtime error, RecordFailure itself failing), summarised: the error
    name and the cause's first sentence, URLs stripped of their secrets; the whole cause stays in the logs."""
    summary = summarise_cause(cause)
    detail = f": {summary}" if summary else ""
    return (
        f"internal error ({error or 'unknown'}): the task's execution failed outside the pipeline's error handling"
        f"{detail}; the service's logs have the details"
    )


def summarise_cause(cause: str) -> str:
    # A Lambda error's cause is JSON with the exception's text: its type says enough, its message may not be ours.
    text = cause.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return str(parsed.get("errorType") or "")
    first = text.split(". ", 1)[0].splitlines()[0] if text else ""
    first = redact_urls(first)
    return first if len(first) <= _CAUSE_CHARACTERS else first[: _CAUSE_CHARACTERS - 1] + "…"


@dataclass(frozen=True)
class Reconciled:
    task_id: str
    ended: bool
    """Whether this call ended the task; False when it was already terminal, gone, or the status is not ours."""
    err_code: int = 0
    err_message: str = ""


def on_execution_end(detail: dict[str, Any], limits: Limits | None = None) -> Reconciled:
    """End the task of an execution that ended TIMED_OUT, ABORTED or FAILED; idempotent under duplicates."""
    end = ExecutionEnd.from_detail(detail)
    ending = ending_for(end, limits or Limits.from_environment())
    if ending is None:
        return Reconciled(task_id=end.task_id, ended=False)
    ended = fail_task(end.task_id, ending.err_code, ending.message)
    return Reconciled(task_id=end.task_id, ended=ended, err_code=ending.err_code, err_message=ending.message)


# --- the sweep ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionState:
    status: str
    start_time: float
    stop_time: float | None = None


@dataclass(frozen=True)
class OpenTask:
    task_id: str
    status: str
    create_time: int


def stuck_reason(task: OpenTask, execution: ExecutionState | None, now: float, limits: Limits) -> str | None:
    """Why the sweep ends `task` (9002), or None while its execution may still end it.

    `execution` None: it does not exist (never started, or its history has expired).
    """
    age = now - task.create_time
    if execution is None:
        if age < limits.stuck_pending_seconds:
            return None  # create_task writes the task, then starts its execution
        if task.status == Status.PENDING.value:
            return f"the task stayed pending for {duration_text(age)} and its execution never started"
        return f"the task was left {task.status} and its execution does not exist"
    if execution.status != "RUNNING":
        ended_ago = now - (execution.stop_time or execution.start_time)
        if ended_ago < limits.stuck_grace_seconds:
            return None
        return (
            f"the task was left {task.status} after its execution ended {execution.status} "
            f"{duration_text(ended_ago)} ago"
        )
    running_for = now - execution.start_time
    if running_for >= limits.execution_timeout_seconds + limits.stuck_grace_seconds:
        return (
            f"the task's execution has been running for {duration_text(running_for)}, past the state machine's "
            f"timeout of {duration_text(limits.execution_timeout_seconds)}"
        )
    return None


@dataclass
class SweepReport:
    checked: int = 0
    """Open tasks old enough to be stuck, whose execution was looked at."""
    ended_task_ids: list[str] = field(default_factory=list)


def sweep(now: float, limits: Limits | None = None) -> SweepReport:
    """End every open task the events left behind. Reads only OpenTaskIndex (open tasks old enough to be stuck),
    each such task, and its execution."""
    limits = limits or Limits.from_environment()
    report = SweepReport()
    youngest = int(now) - min(limits.stuck_pending_seconds, limits.stuck_grace_seconds)
    for task in _open_tasks(youngest):
        report.checked += 1
        reason = stuck_reason(task, describe_execution(task.task_id), now, limits)
        if reason and fail_task(task.task_id, TaskStuck.err_code, reason):
            report.ended_task_ids.append(task.task_id)
    metrics.stuck_tasks(len(report.ended_task_ids))
    return report


def _open_tasks(created_before: int) -> Iterator[OpenTask]:
    for task_id in repository.open_task_ids(created_before):
        task = repository.get(task_id)  # the index lags: the task as it is now
        if task is None or is_terminal(Status(task.status)):
            continue
        yield OpenTask(task_id=task.task_id, status=task.status, create_time=int(task.create_time))


def describe_execution(task_id: str) -> ExecutionState | None:
    try:
        described = _sfn().describe_execution(executionArn=execution_arn(task_id))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return None
        raise
    stop = described.get("stopDate")
    return ExecutionState(
        status=described["status"],
        start_time=_seconds(described["startDate"]),
        stop_time=_seconds(stop) if stop else None,
    )


def _seconds(value: datetime) -> float:
    return value.timestamp()


@cache
def _sfn() -> "SFNClient":
    import boto3

    return boto3.client("stepfunctions")
