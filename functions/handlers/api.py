"""The API function: API Gateway (REST) → Powertools resolver → the task domain."""

import base64
import json
import time
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handlers import client_token, docs_routes, storage_routes, template_routes, upload_routes
from handlers.account import ACCESS_KEY_ID_KEY, ACCOUNT_KEY, access_key_of, account_of
from transcoder.api.answers import answers
from transcoder.api.body import parse_json_body
from transcoder.api.envelope import ApiCode, ApiError, envelope
from transcoder.api.requests import CreateTaskRequest, TaskIdRequest, validation_error
from transcoder.auth.verify import AuthFailure, Caller, from_rest_event, verify
from transcoder.ids import is_task_id
from transcoder.lazy import lazy_import
from transcoder.logs import service_logger
from transcoder.status import Status

if TYPE_CHECKING:
    from transcoder import playlists, repository, summary, tasks
    from transcoder.auth import keys, nonces
    from transcoder.models import TaskModel
else:
    # pynamodb's models and botocore load with the first request that reads a table (see transcoder.lazy).
    repository, summary, tasks, playlists = (
        lazy_import(f"transcoder.{name}") for name in ("repository", "summary", "tasks", "playlists")
    )
    keys, nonces = lazy_import("transcoder.auth.keys"), lazy_import("transcoder.auth.nonces")

logger = service_logger()
# Every route's body goes through the one bounded parser: depth, size and numbers are limited there.
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
app.include_router(template_routes.router)
app.include_router(storage_routes.router)
app.include_router(upload_routes.router)
app.include_router(docs_routes.router)


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


@app.post("/api/create_task", responses=answers("TaskId", ApiCode.OPERATION_FAIL))
def create_task(request: CreateTaskRequest) -> Response[Any]:
    fields = request.model_dump(exclude={"client_token"})
    if request.client_token is None:
        data = _create(fields)
    else:
        data = client_token.create_once(
            _create_once,
            account_id=account_of(app.context),
            client_token=request.client_token,
            request=fields,
            context=app.lambda_context,
        )
    return envelope(ApiCode.SUCCESS, data, request_id=_request_id())


def _create(fields: dict[str, Any]) -> dict[str, Any]:
    try:
        task = tasks.create_task(
            account_id=account_of(app.context),
            input_url=fields["input"],
            output=fields["output"],
            template_name=fields["template_name"],
            template_id=fields["template_id"],
            storage_id=fields["storage_id"],
            callback_url=fields["callback_url"],
            access_key_id=access_key_of(app.context),
            max_cost=fields.get("max_cost"),
        )
    except tasks.InvalidParameter as exc:
        raise ApiError(ApiCode.BAD_PARAM, str(exc)) from exc
    logger.info("task created", extra={"task_id": task.task_id, "template": task.template_name})
    return {"task_id": task.task_id}


def _create_once(call: dict[str, Any]) -> dict[str, Any]:
    """What a client_token's first create_task does; its module and name key the stored answers."""
    return _create(call["request"])


@app.get("/api/query_task", responses=answers("TaskView", ApiCode.EMPTY_RESULT))
def query_task(task_id: Annotated[str, Query(min_length=1, max_length=64)]) -> Response[Any]:
    return envelope(ApiCode.SUCCESS, tasks.task_view(_existing_task(task_id)), request_id=_request_id())


@app.get("/api/output_playlist", responses=answers("OutputPlaylist", ApiCode.EMPTY_RESULT, ApiCode.OPERATION_FAIL))
def output_playlist(
    task_id: Annotated[str, Query(min_length=1, max_length=64)],
    name: Annotated[str, Query(min_length=1, max_length=1024)],
) -> Response[Any]:
    """ext: one playlist of the caller's HLS output, its segments presigned (query_task presigns the master only)."""
    task = _existing_task(task_id)
    try:
        text = playlists.output_playlist(task, name)
    except tasks.InvalidParameter as exc:
        raise ApiError(ApiCode.BAD_PARAM, str(exc)) from exc
    except playlists.PlaylistMissing as exc:
        raise ApiError(ApiCode.EMPTY_RESULT, str(exc)) from exc
    except playlists.NotPlayable as exc:
        raise ApiError(ApiCode.OPERATION_FAIL, str(exc)) from exc
    return envelope(ApiCode.SUCCESS, {"name": name, "playlist": text}, request_id=_request_id())


# 10-digit unix seconds, as the contract says.
UnixSeconds = Annotated[int, Query(ge=1_000_000_000, le=9_999_999_999)]


@app.get("/api/list_task", responses=answers("TaskList"))
def list_task(
    start_time: UnixSeconds,
    end_time: UnixSeconds,
    status: Annotated[Status | None, Query()] = None,
    start_num: Annotated[int, Query(ge=0)] = 0,
    count: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response[Any]:
    if end_time < start_time:
        raise ApiError(ApiCode.BAD_PARAM, "end_time: must not be before start_time")
    page = tasks.list_tasks(
        account_id=account_of(app.context),
        start_time=start_time,
        end_time=end_time,
        status=status.value if status else None,
        start_num=start_num,
        count=count,
    )
    views = [tasks.task_view(task) for task in page.tasks]
    return envelope(ApiCode.SUCCESS, {"list": views, "total": page.total, "num": len(views)}, request_id=_request_id())


# Hours ago, as the contract says; a summary covers at most 30 days.
HoursAgo = Annotated[int, Query(ge=0, le=720)]


@app.get("/api/list_summary", responses=answers("SummaryList"))
def list_summary(start_time: HoursAgo = 48, end_time: HoursAgo = 24) -> Response[Any]:
    if start_time <= end_time:
        raise ApiError(ApiCode.BAD_PARAM, "start_time: must be more hours ago than end_time")
    now = repository.now()
    found = tasks.tasks_created_between(
        account_id=account_of(app.context), start_time=now - start_time * 3600, end_time=now - end_time * 3600
    )
    rows = summary.summarize(found)
    return envelope(ApiCode.SUCCESS, {"list": rows, "num": len(rows)}, request_id=_request_id())


@app.post("/api/cancel_task", responses=answers("TaskView", ApiCode.EMPTY_RESULT))
def cancel_task(request: TaskIdRequest) -> Response[Any]:
    task = tasks.cancel_task(_existing_task(request.task_id))
    return envelope(ApiCode.SUCCESS, tasks.task_view(task), request_id=_request_id())


@app.delete("/api/del_task", responses=answers(None, ApiCode.EMPTY_RESULT))
def del_task(request: TaskIdRequest) -> Response[Any]:
    tasks.delete_task(_existing_task(request.task_id))
    return envelope(ApiCode.SUCCESS, None, request_id=_request_id())


def _existing_task(task_id: str) -> "TaskModel":
    if not is_task_id(task_id):
        raise ApiError(ApiCode.BAD_PARAM, f"task_id: {task_id!r} is not a task id")
    task = repository.get(task_id)
    # Another account's task is reported exactly like a missing one: ids reveal nothing across accounts.
    if task is None or task.account_id != account_of(app.context):
        raise ApiError(ApiCode.EMPTY_RESULT, f"task {task_id} does not exist")
    return task


@app.exception_handler(ApiError)
def handle_api_error(exc: ApiError) -> Response[Any]:
    return envelope(exc.code, detail=exc.detail, request_id=_request_id())


@app.exception_handler(RequestValidationError)
def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
    error = validation_error(exc.errors())
    return envelope(error.code, detail=error.detail, request_id=_request_id())


@app.not_found
def handle_not_found(exc: NotFoundError) -> Response[Any]:
    event = app.current_event
    return envelope(
        ApiCode.EMPTY_RESULT, detail=f"no API at {event.http_method} {event.path}", request_id=_request_id()
    )


@app.exception_handler(Exception)
def handle_unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return envelope(ApiCode.INTERNAL_ERROR, detail=f"request {_request_id()} failed", request_id=_request_id())


@app.exception_handler(RequestUnsupportedContentType)
def handle_content_type(exc: RequestUnsupportedContentType) -> Response[Any]:
    return envelope(ApiCode.BAD_PARAM, detail=JSON_BODY_ONLY, request_id=_request_id())


JSON_BODY_ONLY = "Content-Type: a request body must be JSON (application/json)"


def _refused_body(event: dict[str, Any]) -> str | None:
    """Why a body is refused before Powertools tries to parse it; None when it is acceptable.

    The contract's bodies are UTF-8 JSON. Media types are case-insensitive: a JSON body's header is
    normalized to what Powertools expects.
    """
    if not event.get("body"):
        return None
    headers: dict[str, Any] = event.get("headers") or {}
    name = next((k for k in headers if str(k).lower() == "content-type"), None)
    media_type = str(headers.get(name, "") if name else "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return JSON_BODY_ONLY
    if event.get("isBase64Encoded"):
        try:
            base64.b64decode(event["body"]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return "body: must be UTF-8 encoded JSON"
    headers[name] = "application/json"  # type: ignore[index]  # name is set when media_type matched
    return None


# The only paths answered without a signature: api.md exempts list_storage_type; the documentation is public.
UNSIGNED_PATHS = frozenset({"/api/list_storage_type", *docs_routes.PUBLIC_PATHS})


def _authenticate(event: dict[str, Any]) -> Caller:
    return verify(from_rest_event(event), now=time.time(), secret_of=keys.enabled_secret, claim_nonce=nonces.claim)


def _early_answer(event: dict[str, Any], code: ApiCode, detail: str) -> dict[str, Any]:
    """An answer given before the resolver runs, in the same envelope the routes use."""
    request_id = str((event.get("requestContext") or {}).get("requestId") or "")
    response = envelope(code, detail=detail, request_id=request_id)
    return {
        "statusCode": response.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(response.body),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("path") not in UNSIGNED_PATHS:
        try:
            caller = _authenticate(event)
        except AuthFailure as exc:
            logger.info("request refused", extra={"reason": str(exc)})
            return _early_answer(event, ApiCode.AUTH_FAIL, str(exc))
        app.append_context(  # type: ignore[no-untyped-call]  # untyped in Powertools
            **{ACCOUNT_KEY: caller.account_id, ACCESS_KEY_ID_KEY: caller.access_key_id}
        )
    refused = _refused_body(event)
    if refused:
        return _early_answer(event, ApiCode.BAD_PARAM, refused)
    return app.resolve(event, context)
