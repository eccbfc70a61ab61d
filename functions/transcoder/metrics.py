"""What an operator watches, written once where each event happens, as CloudWatch embedded metric format lines.

Each event is its own EMF line, flushed at once (Powertools' EphemeralMetrics): a task's template or err_code is
a dimension of that event only (one batch creates tasks of many templates), and a line already written survives a
step that later times out or a worker that is killed. On Lambda and on the Fargate worker (awslogs driver) the
lines go to stdout, hence to CloudWatch Logs, which turns them into metrics. POWERTOOLS_METRICS_DISABLED=true
silences them (local mode sets it unless told otherwise).

Dimensions stay few: `service` always, plus the template (built-in names; every account's own templates count as
`custom`), the err_code, the terminal status or the encoding step. Task and account ids are metadata: searchable
in the log line, never a metric of their own.
"""

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from transcoder import metric_names as names
from transcoder.status import Status, is_terminal
from transcoder.templates import find_builtin

if TYPE_CHECKING:
    from transcoder.models import TaskModel

SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_SERVICE = "transcoder"
_ENDED = {
    Status.SUCCESS: names.TASKS_SUCCEEDED,
    Status.FAIL: names.TASKS_FAILED,
    Status.CANCELLED: names.TASKS_CANCELLED,
}


def emit(
    name: str,
    value: float,
    unit: MetricUnit,
    *,
    dimension_sets: Sequence[Mapping[str, str]] = (),
    metadata: Mapping[str, str] | None = None,
) -> None:
    """One metric as one EMF line: by `service` alone, and by `service` plus each of `dimension_sets`."""
    service = os.environ.get(SERVICE_ENV) or DEFAULT_SERVICE
    metrics = EphemeralMetrics(namespace=os.environ.get(names.NAMESPACE_ENV) or names.NAMESPACE, service=service)
    metrics.add_metric(name=name, unit=unit, value=value)
    for dimensions in dimension_sets:
        metrics.add_dimensions(service=service, **dimensions)
    for key, item in (metadata or {}).items():
        metrics.add_metadata(key=key, value=item)
    metrics.flush_metrics()


def template_dimension(template_name: str) -> str:
    return template_name if find_builtin(name=template_name) else names.CUSTOM_TEMPLATE


def _about(task: "TaskModel") -> dict[str, str]:
    return {"task_id": str(task.task_id), "account_id": str(task.account_id)}


def task_created(task: "TaskModel") -> None:
    """A task was written (once per task id: repository.insert); one created already ended is also counted ended."""
    template = {names.TEMPLATE: template_dimension(task.template_name)}
    emit(names.TASKS_CREATED, 1, MetricUnit.Count, dimension_sets=[template], metadata=_about(task))
    if is_terminal(Status(task.status)):
        task_ended(task, Status(task.status), err_code=int(task.err_code), at=int(task.finish_time or task.create_time))


def task_moved(before: "TaskModel", target: Status, *, err_code: int, at: int) -> None:
    """A conditional status write succeeded, `before` being the task as it was just before it."""
    if before.status == Status.PENDING.value and target is Status.DOWNLOADING:
        delay = max(0, at - int(before.create_time))
        emit(names.TASK_START_DELAY, delay, MetricUnit.Seconds, metadata=_about(before))
    if is_terminal(target):
        task_ended(before, target, err_code=err_code, at=at)


def task_ended(task: "TaskModel", status: Status, *, err_code: int, at: int) -> None:
    """The task reached `status`, terminal: counted by status (failures by err_code), and its time since create."""
    template = {names.TEMPLATE: template_dimension(task.template_name)}
    about = _about(task)
    if status is Status.FAIL:
        code = {names.ERR_CODE: str(err_code)}
        emit(names.TASKS_FAILED, 1, MetricUnit.Count, dimension_sets=[code, {**code, **template}], metadata=about)
    else:
        emit(_ENDED[status], 1, MetricUnit.Count, dimension_sets=[template], metadata=about)
    duration = max(0, at - int(task.create_time))
    emit(
        names.TASK_DURATION,
        duration,
        MetricUnit.Seconds,
        dimension_sets=[{names.STATUS: status.value}],
        metadata=about,
    )


def encode_speed(step: str, *, task_id: str, media_seconds: float, wall_seconds: float) -> None:
    """How many times real time one encoding step ran: `media_seconds` of output in `wall_seconds`."""
    if media_seconds <= 0 or wall_seconds <= 0:
        return
    emit(
        names.ENCODE_SPEED,
        round(media_seconds / wall_seconds, 3),
        MetricUnit.NoUnit,
        dimension_sets=[{names.STEP: step}],
        metadata={"task_id": task_id, "media_seconds": f"{media_seconds:.3f}", "wall_seconds": f"{wall_seconds:.3f}"},
    )


def callback_delivered(task_id: str) -> None:
    emit(names.CALLBACKS_DELIVERED, 1, MetricUnit.Count, metadata={"task_id": task_id})


def callback_failed(task_id: str) -> None:
    # No reason here: it may name the receiver's URL, whose query can carry its token (logs are redacted, EMF not).
    emit(names.CALLBACK_FAILURES, 1, MetricUnit.Count, metadata={"task_id": task_id})


def callback_abandoned(task_id: str) -> None:
    emit(names.CALLBACKS_ABANDONED, 1, MetricUnit.Count, metadata={"task_id": task_id})


def stuck_tasks(count: int) -> None:
    """What one sweep found and ended: tasks left non-terminal past their bound (0 too, so the alarm has data)."""
    emit(names.STUCK_TASKS, count, MetricUnit.Count)
