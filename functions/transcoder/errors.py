"""Errors a task can end with, each carrying the contract's err_code (api.md).

The class name is what Step Functions sees as the error name (Lambda reports it as
`errorType`), so the pipeline's Retry/Catch rules and `err_code_for` rely on these names.
"""

from typing import ClassVar


class TaskError(Exception):
    """A failure that ends a task with a specific err_code and a message a user can act on."""

    err_code: ClassVar[int] = 9000


class InputNotFound(TaskError):
    err_code = 2001


class InputNotDecodable(TaskError):
    err_code = 2002


class InputOverLimits(TaskError):
    err_code = 2003


class NoVideoStream(TaskError):
    err_code = 2004


class LogoNotUsable(TaskError):
    """The template's logo could not be fetched, was refused, or is not a PNG/JPEG still image (ext)."""

    err_code = 2005


class CostOverCap(TaskError):
    """The Plan's cost estimate exceeds the task's `max_cost` (ext): refused before anything is encoded."""

    err_code = 2006


class TranscodeFailed(TaskError):
    err_code = 3001


class TranscodeTimedOut(TaskError):
    err_code = 3002


class OutputWriteFailed(TaskError):
    err_code = 4001


class TaskCancelled(TaskError):
    err_code = 5001


class StoppedOutsideService(TaskError):
    """The task's execution was stopped by something other than cancel_task (a console StopExecution) (ext)."""

    err_code = 9001


class TaskStuck(TaskError):
    """The sweep found the task not terminal long after its execution could still end it (ext)."""

    err_code = 9002


class TransientStorageError(Exception):
    """A storage fault worth retrying (throttling, 5xx); the pipeline's Retry names it."""


class StatusConflict(Exception):
    """The task is already terminal or further along: the step must not continue."""


INTERNAL_ERROR_CODE = 9000
SUCCESS_CODE = 0

_TIMEOUT_ERRORS = {"States.Timeout", "Sandbox.Timedout", "States.TaskFailed.Timeout"}


def err_code_for(error_name: str) -> int:
    """Map a Step Functions error name to the contract's err_code."""
    for cls in _all_task_errors():
        if cls.__name__ == error_name:
            return cls.err_code
    if error_name in _TIMEOUT_ERRORS:
        return TranscodeTimedOut.err_code
    return INTERNAL_ERROR_CODE


def _all_task_errors() -> list[type[TaskError]]:
    found: list[type[TaskError]] = []
    pending: list[type[TaskError]] = [TaskError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
