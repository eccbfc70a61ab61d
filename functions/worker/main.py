"""The worker's entry point: read a step's payload, run the step, leave its result or record its failure.

Contract with the state machine (infra/constructs/fargate_worker.py) and local mode:
- in: WORKER_STEP (or --step) names the step; its payload, the state machine's JSON, comes from --payload,
  WORKER_PAYLOAD (inline), or --payload-s3 / WORKER_PAYLOAD_S3 (`s3://bucket/key`, for payloads larger than
  ECS's overrides can carry: transcoder.pipeline.handoff.stage_payload); WORKER_TIME_BUDGET_SECONDS bounds
  the step (default 12 hours).
- out, success: the step's result at handoff.result_key(task_id, step) in the work bucket; exit 0.
- out, failure: the task is recorded `fail` here, through RecordFailure's own code, with the step's error
  name (TranscodeFailed, InputNotDecodable, …) and message, exactly as the Catch would record a Lambda's
  error; then exit EXIT_STEP_FAILED. ECS reports the non-zero exit to Step Functions as States.TaskFailed,
  whose Catch → RecordFailure then finds the task already ended and keeps the specific err_code.
- SIGTERM (ECS StopTask, a cancelled execution): ffmpeg is stopped, the failure recorded (a cancelled task
  stays cancelled: a terminal status never changes), exit EXIT_STEP_FAILED.
"""

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any, Final

from pydantic import ValidationError

from transcoder import pipeline
from transcoder.charges import charge_worker
from transcoder.errors import TranscodeFailed
from transcoder.locations import parse_s3_url
from transcoder.logs import service_logger
from transcoder.pipeline import handoff
from transcoder.pipeline.payloads import StepError, TaskRef, parse
from worker.steps import STEPS

EXIT_SUCCESS: Final = 0
EXIT_STEP_FAILED: Final = 1
"""The step failed and the task's failure is recorded."""
EXIT_USAGE: Final = 2
"""No usable payload: nothing names the task, so nothing could be recorded."""

STEP_ENV: Final = "WORKER_STEP"
PAYLOAD_ENV: Final = "WORKER_PAYLOAD"
PAYLOAD_S3_ENV: Final = "WORKER_PAYLOAD_S3"
BUDGET_ENV: Final = "WORKER_TIME_BUDGET_SECONDS"
DEFAULT_BUDGET_SECONDS: Final = 12 * 3600

logger = service_logger()


class UsageError(Exception):
    """The worker was started without a step or a payload it can run."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        step_name, payload, budget = _invocation(argv)
    except UsageError as exc:
        print(json.dumps({"errorType": "UsageError", "errorMessage": str(exc)}), file=sys.stderr)
        return EXIT_USAGE
    task_id = payload["task_id"]
    logger.append_keys(task_id=task_id, step=step_name)
    started = time.monotonic()
    deadline = started + budget
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        result = STEPS[step_name](payload, deadline - time.monotonic())
        location = handoff.write_result(task_id, step_name, result)
    except Exception as exc:  # noqa: BLE001 - every failure ends the task, as the Catch does for a Lambda
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # recording the failure must not be cut short
        error = lambda_style_error(exc)
        logger.warning("step failed", extra={"error": error})
        recorded = pipeline.record_failure({"task_id": task_id, "error": error})
        logger.info("failure recorded", extra=recorded)
        print(json.dumps({"errorType": error["Error"], "errorMessage": str(exc)}), file=sys.stderr)
        charge_worker(task_id, time.monotonic() - started)
        return EXIT_STEP_FAILED
    logger.info("step done", extra={"result": location.url})
    # The container's own run; Fargate also bills the image pull before it, which it cannot see.
    charge_worker(task_id, time.monotonic() - started)
    return EXIT_SUCCESS


def lambda_style_error(exc: BaseException) -> StepError:
    """The error as a Catch records a Lambda's: its class name, and a cause holding errorType/errorMessage."""
    name = type(exc).__name__
    return StepError(Error=name, Cause=json.dumps({"errorType": name, "errorMessage": str(exc)}))


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Raised in the main thread wherever it is: run_encode's cleanup stops ffmpeg on the way out.
    raise TranscodeFailed("the worker was stopped (SIGTERM) before the step finished")


def _invocation(argv: Sequence[str] | None) -> tuple[str, dict[str, Any], float]:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__.splitlines()[0])
    parser.add_argument("--step", default=os.environ.get(STEP_ENV), choices=sorted(STEPS))
    parser.add_argument("--payload", default=os.environ.get(PAYLOAD_ENV), help="the step's payload, JSON")
    parser.add_argument("--payload-s3", default=os.environ.get(PAYLOAD_S3_ENV), help="s3://bucket/key of it")
    args = parser.parse_args(argv)
    if not args.step:
        raise UsageError(f"no step: pass --step or set {STEP_ENV} (one of {', '.join(sorted(STEPS))})")
    if args.step not in STEPS:
        raise UsageError(f"{STEP_ENV}={args.step!r} is not a step the worker runs ({', '.join(sorted(STEPS))})")
    payload = _payload(args.payload, args.payload_s3)
    try:
        parse(TaskRef, payload)
    except ValidationError as exc:
        raise UsageError(f"the payload names no task: {exc.errors()[0]['msg']} at task_id") from exc
    return args.step, payload, _budget()


def _payload(inline: str | None, location: str | None) -> dict[str, Any]:
    if inline and location:
        raise UsageError(f"give the payload once: {PAYLOAD_ENV} or {PAYLOAD_S3_ENV}, not both")
    try:
        if inline:
            payload = json.loads(inline)
        elif location:
            payload = handoff.read_payload(parse_s3_url(location))
        else:
            raise UsageError(f"no payload: pass --payload/--payload-s3 or set {PAYLOAD_ENV}/{PAYLOAD_S3_ENV}")
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and a bad s3:// URL are ValueErrors
        raise UsageError(f"the payload is not a JSON object: {exc}") from exc
    if not isinstance(payload, dict):
        raise UsageError("the payload is not a JSON object")
    return payload


def _budget() -> float:
    raw = os.environ.get(BUDGET_ENV, str(DEFAULT_BUDGET_SECONDS))
    try:
        budget = float(raw)
    except ValueError:
        budget = 0.0
    if budget <= 0:
        raise UsageError(f"{BUDGET_ENV} must be a positive number of seconds, not {raw!r}")
    return budget
