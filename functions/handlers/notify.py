"""The notify function: the task table's stream → an event per terminal transition, and callback messages.

The event-source mapping's filter only passes records whose new status is terminal; this handler checks the
transition itself too (old image not terminal), so it is correct however it is invoked.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.tracing import traced
from transcoder.callbacks import notify
from transcoder.callbacks.transitions import event_id, is_terminal_transition
from transcoder.logs import service_logger
from transcoder.models import TaskModel

logger = service_logger()


def _status(image: dict[str, Any] | None) -> str | None:
    value = (image or {}).get("status", {})
    return value.get("S") if isinstance(value, dict) else None


def record_handler(record: DynamoDBRecord) -> None:
    stream = record.raw_event.get("dynamodb", {})
    old_image, new_image = stream.get("OldImage"), stream.get("NewImage")
    terminal = is_terminal_transition(str(record.raw_event.get("eventName")), _status(old_image), _status(new_image))
    if not terminal or new_image is None:
        return
    task = TaskModel.from_raw_data(new_image)
    # Event first, then the callback: a failure in between retries both, and both carry the same event id.
    notify.publish(task)
    if task.callback_url:
        notify.queue_callback(new_image, task)
    logger.info(
        "terminal transition announced",
        extra={
            "task_id": task.task_id,
            "status": task.status,
            "event_id": event_id(task.task_id, task.status),
            "callback": bool(task.callback_url),
        },
    )


@logger.inject_lambda_context
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # Partial failures: the mapping retries from the first failed record, so order per task is kept.
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
