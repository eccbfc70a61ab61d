"""Entry points that end tasks whose execution ended without ending them (transcoder.reconcile)."""

import time
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.tracing import traced
from transcoder import reconcile
from transcoder.logs import service_logger

logger = service_logger()


@traced
@event_source(data_class=EventBridgeEvent)
@logger.inject_lambda_context
def execution_ended(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """The event rule's target: a "Step Functions Execution Status Change" of the pipeline (TIMED_OUT, ABORTED,
    FAILED)."""
    detail = event.detail
    # The raw error and cause stay in the logs for operators; the task keeps only a summary.
    logger.info(
        "execution ended",
        extra={"task_id": detail.get("name"), "status": detail.get("status"), "error": detail.get("error"),
               "cause": detail.get("cause")},
    )  # fmt: skip
    result = asdict(reconcile.on_execution_end(detail))
    logger.info("execution end reconciled", extra=result)
    return result


@traced
@logger.inject_lambda_context
def sweep(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The scheduled rule's target: end the open tasks that no execution will end."""
    report = asdict(reconcile.sweep(now=time.time()))
    logger.info("sweep done", extra=report)
    return report
