"""Entry points of the pipeline's Lambda functions, one per state of the state machine.

Each is `charged`: its task's `cost` adds the invocation's duration x memory (transcoder.charges).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers.tracing import traced_task_step
from transcoder import pipeline
from transcoder.charges import charged
from transcoder.logs import service_logger
from transcoder.pipeline import payloads

logger = service_logger()


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def download(event: dict[str, Any], context: LambdaContext) -> payloads.SourceResult:
    return pipeline.download(event)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def transcode(event: dict[str, Any], context: LambdaContext) -> payloads.TranscodedResult:
    return pipeline.transcode(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def plan(event: dict[str, Any], context: LambdaContext) -> payloads.PlanResult:
    return pipeline.plan(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def encode_chunk(event: dict[str, Any], context: LambdaContext) -> payloads.ChunkResult:
    return pipeline.encode_chunk(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def encode_audio(event: dict[str, Any], context: LambdaContext) -> payloads.AudioResult:
    return pipeline.encode_audio(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def join(event: dict[str, Any], context: LambdaContext) -> payloads.TranscodedResult:
    return pipeline.join(event, remaining_seconds=context.get_remaining_time_in_millis() / 1000)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def upload(event: dict[str, Any], context: LambdaContext) -> payloads.DeliveredResult:
    return pipeline.upload(event)


@charged
@logger.inject_lambda_context(correlation_id_path="task_id")
@traced_task_step
def record_failure(event: dict[str, Any], context: LambdaContext) -> payloads.FailureResult:
    # The raw error stays in the logs for operators; the task keeps only a safe message.
    logger.warning("task failed", extra={"error": event.get("error")})
    result = pipeline.record_failure(event)
    logger.info("failure recorded", extra=result)
    return result
