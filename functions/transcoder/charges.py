"""What a task used, added to its `cost` as each step ends: Lambda invocations and the Fargate worker.

A step measures its own wall time and is priced as its runner bills it (transcoder.pricing): a Lambda
invocation by the millisecond x the memory it runs with (its context's `memory_limit_in_mb`) x the
architecture's GB-second price, plus the request; the worker by the second (at least a minute) x its vCPUs,
memory and disk. The Plan adds the transitions and S3 requests (transcoder.costs.overhead_cost).
"""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from transcoder import repository
from transcoder.costs import Sizes
from transcoder.pricing import prices

logger = logging.getLogger(__name__)

Result = TypeVar("Result")
Handler = Callable[[dict[str, Any], LambdaContext], Result]


def charged(handler: Handler[Result]) -> Handler[Result]:
    """A pipeline step's handler that charges its task for the invocation, however the step ends."""

    @functools.wraps(handler)
    def run(event: dict[str, Any], context: LambdaContext) -> Result:
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            seconds = time.monotonic() - started
            memory_mb = int(context.memory_limit_in_mb)
            charge(_task_id(event), prices().lambda_invocation(seconds, memory_mb, Sizes.from_env().architecture))

    return run


def charge_worker(task_id: str, seconds: float) -> None:
    """The Fargate worker's run of a step, at the deployment's worker size."""
    sizes = Sizes.from_env()
    dollars = prices().fargate_task(
        seconds,
        cpu_units=sizes.worker_cpu,
        memory_mib=sizes.worker_memory_mib,
        storage_gib=sizes.worker_storage_gib,
        architecture=sizes.architecture,
    )
    charge(task_id, dollars)


def charge(task_id: str | None, dollars: float) -> None:
    # A lost charge must not fail a step that did its work: the cost then reads low, and the log says so.
    if not task_id:
        return
    try:
        repository.add_cost(task_id, round(dollars, 10))
    except Exception:
        logger.warning(
            "could not add the step's cost to its task", extra={"task_id": task_id, "dollars": dollars}, exc_info=True
        )


def _task_id(event: object) -> str | None:
    task_id = event.get("task_id") if isinstance(event, dict) else None
    return task_id if isinstance(task_id, str) else None
