"""Task statuses and the rules between them (api.md, "Statuses").

A status never moves backwards and a terminal status never changes. Writing the same
non-terminal status again is allowed, so that a retried pipeline step can proceed.
"""

from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    DOWNLOADING = "downloading"
    RUNNING = "running"
    UPLOADING = "uploading"
    SUCCESS = "success"
    FAIL = "fail"
    CANCELLED = "cancelled"


TERMINAL: frozenset[Status] = frozenset({Status.SUCCESS, Status.FAIL, Status.CANCELLED})
_PIPELINE_ORDER = (
    Status.PENDING,
    Status.DOWNLOADING,
    Status.RUNNING,
    Status.UPLOADING,
    Status.SUCCESS,
)


def is_terminal(status: Status) -> bool:
    return status in TERMINAL


def allowed_predecessors(target: Status) -> frozenset[Status]:
    """Statuses from which a task may move to `target`."""
    non_terminal = [s for s in _PIPELINE_ORDER if s not in TERMINAL]
    if target in (Status.FAIL, Status.CANCELLED):
        return frozenset(non_terminal)
    rank = _PIPELINE_ORDER.index(target)
    if target is Status.SUCCESS:
        return frozenset({Status.UPLOADING})
    return frozenset(s for s in non_terminal if _PIPELINE_ORDER.index(s) <= rank)


# Progress shown while a status holds; `running` reports the encoder's own progress in between.
PROGRESS_AT_START: dict[Status, int] = {
    Status.PENDING: 0,
    Status.DOWNLOADING: 5,
    Status.RUNNING: 10,
    Status.UPLOADING: 95,
    Status.SUCCESS: 100,
}
RUNNING_PROGRESS_SPAN = (10, 94)
