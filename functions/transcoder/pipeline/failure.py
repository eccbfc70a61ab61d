"""RecordFailure: the Catch target of every state ends the task as `fail` with a specific err_code."""

import json
from typing import Any

from transcoder import repository, storage
from transcoder.errors import TranscodeFailed, err_code_for
from transcoder.pipeline.chunking import describe
from transcoder.pipeline.common import work_prefix
from transcoder.pipeline.handoff import stopped_worker_message
from transcoder.pipeline.payloads import ERROR, FailureEvent, FailureResult, StepError, parse
from transcoder.settings import settings
from transcoder.status import Status


def record_failure(event: dict[str, Any]) -> FailureResult:
    """The Catch target of every state: end the task as `fail` with a specific err_code."""
    payload = parse(FailureEvent, event)
    task_id = payload["task_id"]
    error = payload.get(ERROR) or StepError()
    error_name = error.get("Error", "")
    err_code = err_code_for(error_name)
    message = _failure_message(error_name, str(error.get("Cause", "")), err_code)
    stopped_worker = stopped_worker_message(error_name, str(error.get("Cause", "")))
    if stopped_worker:
        err_code, message = TranscodeFailed.err_code, stopped_worker
    chunk = payload.get("chunk")
    if chunk and error_name != "StatusConflict":
        message = f"{describe(chunk)}: {message}"
    recorded = fail_task(task_id, err_code, message)
    return FailureResult(task_id=task_id, recorded=recorded, err_code=err_code, err_message=message)


def fail_task(task_id: str, err_code: int, message: str) -> bool:
    """End a task `fail` with `err_code` and `message` (if it is not terminal yet) and delete its work files.

    Every way a task fails after its creation goes through here: RecordFailure, and transcoder.reconcile for
    executions that ended without it. The table's stream announces the end (event and callback).
    Returns whether this call ended the task: False when it was already terminal or is gone.
    """
    recorded = repository.move(task_id, Status.FAIL, err_code=err_code, err_message=message)
    storage.delete_prefix(settings().work_bucket, work_prefix(task_id))
    return recorded


def _failure_message(error_name: str, cause: str, err_code: int) -> str:
    try:
        detail = json.loads(cause)
    except (json.JSONDecodeError, TypeError):
        detail = {}
    message = detail.get("errorMessage") if isinstance(detail, dict) else None
    if error_name == "StatusConflict":
        return str(message or "task ended before the pipeline finished")
    if err_code == 3002 and not message:
        return "transcoding timed out: the step ran out of time"
    if err_code == 9000 or not message:
        # An unexpected error's text can hold internals; the logs keep it, the user gets a reference.
        return f"internal error ({error_name or 'unknown'}); the service's logs have the details"
    return str(message)
