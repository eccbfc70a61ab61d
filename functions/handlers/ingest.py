"""The ingest function: S3 notifications from the SQS queue become tasks, each object version once."""

import os
from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.tracing import traced
from transcoder import ingest
from transcoder.logs import service_logger
from transcoder.settings import settings

logger = service_logger()
# At-least-once delivery: the same object version may arrive twice, or in two batches at once.
idempotency = IdempotencyConfig(event_key_jmespath="idempotency_key", expires_after_seconds=7 * 24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "transcoder-idempotency"))


@idempotent_function(data_keyword_argument="dropped", config=idempotency, persistence_store=persistence)
def create_once(dropped: dict[str, Any]) -> dict[str, Any]:
    task = ingest.create_task_for_drop(
        ingest.DroppedObject(**{k: dropped[k] for k in ("bucket", "key", "size", "version", "version_id")})
    )
    logger.info("task created for dropped file", extra={"key": dropped["key"], **ingest.describe(task)})
    return ingest.describe(task)


def record_handler(record: SQSRecord) -> None:
    for dropped in ingest.parse_notification(record.body):
        reason = ingest.ignore_reason(dropped, settings().drop_prefix)
        if reason:
            logger.info("dropped object ignored", extra={"key": dropped.key, "reason": reason})
            continue
        create_once(dropped={**asdict(dropped), "idempotency_key": dropped.idempotency_key})


@logger.inject_lambda_context
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    # A batch whose every record failed is reported like any other: SQS retries exactly those.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
