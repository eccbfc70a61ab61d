"""Reads and writes of tasks. Every status write is conditional (see status.py)."""

import time
import zlib
from collections.abc import Iterator
from typing import Any

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model

from transcoder import metrics
from transcoder.models import TaskModel
from transcoder.status import PROGRESS_AT_START, RUNNING_PROGRESS_SPAN, Status, allowed_predecessors, is_terminal

_CONDITION_FAILED = "ConditionalCheckFailedException"


def now() -> int:
    return int(time.time())


def save_new(item: Model, condition: Condition) -> bool:
    """Write an item only if `condition` holds (its key is new); False when it does not."""
    try:
        item.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


OPEN_SHARDS = 8
"""OpenTaskIndex's partitions: open tasks spread over a few keys, so creations never crowd one."""


def open_shard(task_id: str) -> str:
    return str(zlib.crc32(task_id.encode()) % OPEN_SHARDS)


def insert(task: TaskModel) -> None:
    """Write a new task; a second write of the same id fails instead of overwriting."""
    task.open_shard = None if is_terminal(Status(task.status)) else open_shard(task.task_id)
    if not save_new(task, TaskModel.task_id.does_not_exist()):
        raise ValueError(f"task {task.task_id} already exists")
    metrics.task_created(task)


def get(task_id: str) -> TaskModel | None:
    try:
        return TaskModel.get(task_id, consistent_read=True)
    except DoesNotExist:
        return None


def delete(task_id: str) -> None:
    TaskModel(task_id).delete()


def move(task_id: str, target: Status, **fields: Any) -> bool:
    """Move a task to `target` and set `fields`, only if the rules allow it.

    Returns False when the task is missing, terminal, or further along than `target`:
    the caller lost a race and must not act as if the move happened.
    """
    timestamp = now()
    attributes: dict[str, Any] = {"status": target.value, "updated_time": timestamp, **fields}
    if target in PROGRESS_AT_START:
        attributes.setdefault("progress", PROGRESS_AT_START[target])
    if is_terminal(target):
        attributes.setdefault("finish_time", timestamp)
    actions = [getattr(TaskModel, name).set(value) for name, value in attributes.items()]
    if is_terminal(target):
        actions.append(TaskModel.open_shard.remove())  # out of OpenTaskIndex in the same write
    condition = TaskModel.status.is_in(*[s.value for s in allowed_predecessors(target)])
    try:
        # The task as it was: whether this write started or ended it, and since when it exists (metrics).
        written = TaskModel._get_connection().update_item(
            task_id, actions=actions, condition=condition, return_values=ALL_OLD
        )
    except UpdateError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    before = TaskModel.from_raw_data(written["Attributes"])
    metrics.task_moved(before, target, err_code=int(attributes.get("err_code", 0)), at=timestamp)
    return True


def open_task_ids(created_before: int) -> Iterator[str]:
    """Ids of the tasks not terminal yet that were created before `created_before`, from OpenTaskIndex (every
    shard, every page). The index is eventually consistent: read a task again before acting on it."""
    for shard in range(OPEN_SHARDS):
        for task in TaskModel.by_open_time.query(str(shard), TaskModel.create_time < created_before):
            yield task.task_id


def report_progress(task_id: str, progress: int) -> bool:
    """Record encoder progress while the task is running; never lowers it."""
    condition = (TaskModel.status == Status.RUNNING.value) & (TaskModel.progress < progress)
    try:
        TaskModel(task_id).update(
            actions=[TaskModel.progress.set(progress), TaskModel.updated_time.set(now())],
            condition=condition,
        )
    except UpdateError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def touch_running(task_id: str) -> bool:
    """Whether the task is running, noting the step's activity: a step joining a task already running (a
    chunk among many) must not reset the progress the others have reported, as `move` would."""
    try:
        TaskModel(task_id).update(
            actions=[TaskModel.updated_time.set(now())], condition=TaskModel.status == Status.RUNNING.value
        )
    except UpdateError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def count_chunk_done(task_id: str, total: int) -> bool:
    """One more chunk of `total` is encoded: count it and show chunks done ÷ total as the running progress.

    False when the task is no longer running (its chunk will not be used).
    """
    task = TaskModel(task_id)
    try:
        task.update(
            actions=[TaskModel.chunks_done.add(1), TaskModel.updated_time.set(now())],
            condition=TaskModel.status == Status.RUNNING.value,
        )
    except UpdateError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    low, high = RUNNING_PROGRESS_SPAN
    # A chunk retried after its count was written counts twice: never past the span.
    done = min(int(task.chunks_done), total)
    report_progress(task_id, low + (high - low) * done // max(1, total))
    return True


def still_wanted(task_id: str) -> bool:
    """Whether a step's work on the task can still be delivered: the task exists and has not ended.

    Read consistently: a cancel or delete just acknowledged to the user must be seen.
    """
    task = get(task_id)
    return task is not None and not is_terminal(Status(task.status))


def record_estimate(task_id: str, dollars: float) -> bool:
    """The Plan's cost estimate, shown by query_task; False when the task has ended meanwhile."""
    try:
        TaskModel(task_id).update(
            actions=[TaskModel.estimated_cost.set(dollars)],
            condition=TaskModel.status.is_in(*[s.value for s in Status if not is_terminal(s)]),
        )
    except UpdateError as exc:
        if exc.cause_response_code == _CONDITION_FAILED:
            return False
        raise
    return True


def add_cost(task_id: str, dollars: float) -> None:
    """Charge the task what a step used: an atomic ADD, so steps running at once (chunks) never lose one.

    Also after the task has ended (the step that ended it is charged last); never for a deleted task.
    """
    try:
        TaskModel(task_id).update(actions=[TaskModel.cost.add(dollars)], condition=TaskModel.task_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code != _CONDITION_FAILED:
            raise
