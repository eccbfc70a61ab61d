"""The callback function: POST each queued callback; retry with exponential backoff for 24 h, then dead-letter.

A failed attempt sets the message's visibility timeout to the next delay (ChangeMessageVisibility) and
reports the record failed, so SQS redelivers it then. A URL that is refused (SSRF rules) or a task whose key
cannot sign is never sent: the message goes to the dead-letter queue at once, with the reason.
"""

import os
import time
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.tracing import traced
from transcoder import metrics
from transcoder.callbacks import backoff, delivery, sender
from transcoder.callbacks.notify import callback_queue_url
from transcoder.logs import service_logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = service_logger()


@cache
def _sqs() -> "SQSClient":
    return boto3.client("sqs")


def _dead_letter_queue_url() -> str:
    url = os.environ.get("CALLBACK_DEAD_LETTER_QUEUE_URL", "")
    if not url:
        raise RuntimeError("CALLBACK_DEAD_LETTER_QUEUE_URL is not set: where undeliverable callbacks go")
    return url


class RetryLater(Exception):
    """Reported as a batch item failure: the message comes back after the delay set on it."""


def _describe(callback: sender.Callback) -> dict[str, Any]:
    # The host only: a callback URL's path or query may carry the receiver's own token.
    return {
        "task_id": callback.task.task_id,
        "event_id": callback.event_id,
        "callback_host": urlsplit(callback.task.callback_url).hostname or "",
    }


def _give_up(record: SQSRecord, callback: sender.Callback, reason: str) -> None:
    _sqs().send_message(
        QueueUrl=_dead_letter_queue_url(),
        MessageBody=record.body,
        MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
    )
    metrics.callback_abandoned(callback.task.task_id)
    logger.warning("callback abandoned", extra={**_describe(callback), "reason": reason})


def record_handler(record: SQSRecord) -> None:
    callback = sender.parse(record.body)
    try:
        delivered = sender.send(callback)
    except (delivery.Refused, sender.Unsignable) as exc:
        _give_up(record, callback, str(exc))
        return
    except delivery.NotDelivered as exc:
        attempt = int(record.attributes.approximate_receive_count or 1)
        age = time.time() - int(record.attributes.sent_timestamp) / 1000
        delay = backoff.next_delay(attempt, age)
        if delay is None:
            _give_up(record, callback, f"not delivered within {backoff.MAX_AGE_SECONDS // 3600} h: {exc}")
            return
        _sqs().change_message_visibility(
            QueueUrl=callback_queue_url(), ReceiptHandle=record.receipt_handle, VisibilityTimeout=delay
        )
        retry = {"reason": str(exc), "attempt": attempt, "retry_in_seconds": delay}
        logger.info("callback not delivered; retrying", extra={**_describe(callback), **retry})
        raise RetryLater(str(exc)) from exc
    logger.info("callback delivered", extra={**_describe(callback), "http_status": delivered.status})


@logger.inject_lambda_context
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
