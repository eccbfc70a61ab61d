"""X-Ray traces of the functions behind the API: one Powertools Tracer, the handlers' segments annotated by task.

The functions run with active tracing, and Step Functions passes the trace on to each step it invokes, so a
task's steps join the trace its API request started (botocore forwards the trace header of a traced Lambda
to StartExecution). The Tracer adds what that alone does not show: a subsegment per AWS call (DynamoDB, S3,
SQS, Step Functions) and the `task_id` annotation to find a task's traces by
(`annotation.task_id = "…"`).

Only botocore is patched: HTTP libraries would record callback and input URLs, whose queries can carry tokens.
Responses and errors are not recorded either: step results and exception messages can name such URLs. The
API function does not use it: the X-Ray SDK costs its cold start more than its target (1.5 times boto3) allows
(README, "Watching the service").

Outside Lambda (tests, local mode, the Fargate worker) the Tracer disables itself, or POWERTOOLS_TRACE_DISABLED
does it.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

PATCHED_MODULES = ("botocore",)
TASK_ID_ANNOTATION = "task_id"

tracer = Tracer(patch_modules=PATCHED_MODULES)

Result = TypeVar("Result")
Handler = Callable[[dict[str, Any], LambdaContext], Result]


def traced(handler: Handler[Result]) -> Handler[Result]:
    """The handler's invocation as an X-Ray subsegment (a cold start annotated as such by Powertools)."""
    captured: Handler[Result] = tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False)
    return captured


def traced_task_step(handler: Handler[Result]) -> Handler[Result]:
    """`traced`, for a step whose event names its task: the trace is annotated with the task id."""

    @wraps(handler)
    def annotated(event: dict[str, Any], context: LambdaContext) -> Result:
        task_id = event.get("task_id")
        if isinstance(task_id, str):
            tracer.put_annotation(key=TASK_ID_ANNOTATION, value=task_id)
        return handler(event, context)

    return traced(annotated)
