"""How a step run outside Lambda (the Fargate worker) receives its payload and hands its result on.

`ecs:runTask.sync` returns ECS's description of the stopped task, never anything the container printed. So a
worker writes its step's result, the step's own typed JSON (payloads.TranscodedResult for Transcode), to the
work bucket at `result_key(task_id, step)`, and the state after the ECS state reads that object back into the
payload under the step's ResultPath key (infra/constructs/fargate_worker.py: an S3 GetObject state), so the
next step reads `$.transcoded` exactly as after the Lambda. The key lies under the task's work prefix: the
cleanup of Upload and RecordFailure removes it with the other work files.

The payload comes in the other way: inline in WORKER_PAYLOAD (an ECS container override), or, when it could
outgrow ECS's 8,192 characters of overrides, staged first at `payload_key(task_id, step)` and named by
WORKER_PAYLOAD_S3 (`s3://bucket/key`).
"""

import json
from typing import Any, Final

from transcoder import storage
from transcoder.locations import S3Location
from transcoder.pipeline.common import work_prefix
from transcoder.settings import settings

WORKER_FOLDER: Final = "worker/"
"""Below a task's work prefix: what the worker reads and writes."""
OVERRIDES_LIMIT: Final = 8192
"""ECS RunTask: the characters of all overrides together, their JSON framing included."""


def result_key(task_id: str, step: str) -> str:
    return result_key_format(step).format(task_id)


def payload_key(task_id: str, step: str) -> str:
    return payload_key_format(step).format(task_id)


def result_key_format(step: str) -> str:
    """The result's key with `{}` for the task id: what the state machine fills in (States.Format)."""
    return f"{work_prefix('{}')}{WORKER_FOLDER}{step}.result.json"


def payload_key_format(step: str) -> str:
    return f"{work_prefix('{}')}{WORKER_FOLDER}{step}.payload.json"


def write_result(task_id: str, step: str, result: Any) -> S3Location:
    """Leave `result` where the state after the worker reads it."""
    target = S3Location(settings().work_bucket, result_key(task_id, step))
    storage.put_bytes(json.dumps(result).encode(), target)
    return target


def read_result(task_id: str, step: str) -> Any:
    return json.loads(storage.read_bytes(S3Location(settings().work_bucket, result_key(task_id, step))))


def fits_inline(step: str, payload: Any, container_name: str = "Worker") -> bool:
    """Whether the ECS state can pass `payload` inline: the overrides it would send, as ECS counts them."""
    overrides = {
        "containerOverrides": [
            {
                "name": container_name,
                "environment": [
                    {"name": "WORKER_STEP", "value": step},
                    # States.JsonToString writes compact JSON.
                    {"name": "WORKER_PAYLOAD", "value": json.dumps(payload, separators=(",", ":"))},
                ],
            }
        ]
    }
    return len(json.dumps(overrides, separators=(",", ":"))) <= OVERRIDES_LIMIT


def stage_payload(task_id: str, step: str, payload: Any) -> S3Location:
    """For a payload too large to pass inline: the location to give the worker as WORKER_PAYLOAD_S3."""
    target = S3Location(settings().work_bucket, payload_key(task_id, step))
    storage.put_bytes(json.dumps(payload).encode(), target)
    return target


def read_payload(location: S3Location) -> Any:
    return json.loads(storage.read_bytes(location))


def stopped_worker_message(error_name: str, cause: str) -> str | None:
    """The user's message for a worker that stopped without recording its own failure; None: not a worker.

    A worker records every failure it can see itself (worker.main). What reaches RecordFailure unrecorded is a
    worker killed from outside (out of memory, SIGKILL): Step Functions reports it as States.TaskFailed with
    ECS's description of the stopped task as the cause.
    """
    if error_name != "States.TaskFailed":
        return None
    try:
        task = json.loads(cause)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(task, dict) or "StopCode" not in task:
        return None
    codes = [c["ExitCode"] for c in task.get("Containers", []) if isinstance(c, dict) and "ExitCode" in c]
    # ECS's own words (e.g. "OutOfMemoryError: Container killed due to memory usage"), never the task's data.
    reason = str(task.get("StoppedReason") or task["StopCode"])[:200]
    exit_code = f", exit code {codes[0]}" if codes else ""
    return f"the Fargate worker stopped before the step finished ({reason}{exit_code})"
