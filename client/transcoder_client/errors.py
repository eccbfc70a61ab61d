"""Errors of the client: an API answer that is not code 0, and failures to get an answer at all."""

from typing import Any

from transcoder_protocol.codes import ApiCode

# api.md's codes, the class raised for each: callers catch the situation, not a number.
INTERNAL_ERROR = ApiCode.INTERNAL_ERROR
LACK_PARAM = ApiCode.LACK_PARAM
BAD_PARAM = ApiCode.BAD_PARAM
AUTH_FAIL = ApiCode.AUTH_FAIL
EMPTY_RESULT = ApiCode.EMPTY_RESULT
OPERATION_FAIL = ApiCode.OPERATION_FAIL
DUPLICATED = ApiCode.DUPLICATED_ENTITY
TOO_MANY_REQUESTS = ApiCode.TOO_MANY_REQUESTS
NOT_AN_API_RESPONSE = -1
"""The code of an answer without the {code, msg, data} envelope (e.g. a gateway's own 403 or 502)."""


class ClientError(Exception):
    """Base of every error the client raises."""


class ConfigError(ClientError):
    """The endpoint or the keys are missing or malformed."""


class TransportError(ClientError):
    """No HTTP answer: connection refused, DNS, TLS, timeout."""


class ApiError(ClientError):
    """An answer whose code is not 0 (or that is not an API answer at all)."""

    def __init__(self, code: int, msg: str, http_status: int, request_id: str | None = None) -> None:
        super().__init__(f"{code} {msg} (HTTP {http_status}" + (f", request_id {request_id})" if request_id else ")"))
        self.code = code
        self.msg = msg
        self.http_status = http_status
        self.request_id = request_id

    @classmethod
    def from_response(cls, http_status: int, body: Any) -> "ApiError":
        """The error for one answer: the envelope's code picks the class; anything else is NOT_AN_API_RESPONSE."""
        if isinstance(body, dict) and isinstance(body.get("code"), int):
            code, msg = body["code"], str(body.get("msg", ""))
            request_id = body.get("request_id")
            error_class = _BY_CODE.get(code, ApiError)
            return error_class(code, msg, http_status, str(request_id) if request_id else None)
        snippet = body if isinstance(body, str) else repr(body)
        return ApiError(NOT_AN_API_RESPONSE, f"not an API response: {snippet[:200]}", http_status)


class InternalError(ApiError):
    """1000: a fault on the service's side; retrying may help."""


class ParamError(ApiError):
    """1001 (missing) or 1002 (malformed): `msg` names the field."""


class AuthError(ApiError):
    """1003: unknown or disabled key, bad signature, clock more than 15 minutes off, replayed nonce."""


class NotFoundError(ApiError):
    """1004: no such task, template or storage in this account."""


class OperationError(ApiError):
    """1005: not allowed in the current state (a built-in template, a storage in use)."""


class DuplicateError(ApiError):
    """1006: the name is taken."""


class ThrottledError(ApiError):
    """1007: too many requests; retry later."""


_BY_CODE: dict[int, type[ApiError]] = {
    INTERNAL_ERROR: InternalError,
    LACK_PARAM: ParamError,
    BAD_PARAM: ParamError,
    AUTH_FAIL: AuthError,
    EMPTY_RESULT: NotFoundError,
    OPERATION_FAIL: OperationError,
    DUPLICATED: DuplicateError,
    TOO_MANY_REQUESTS: ThrottledError,
}


class TaskFailed(ClientError):
    """A task ended `fail` or `cancelled` where success was needed."""

    def __init__(self, task: dict[str, Any]) -> None:
        super().__init__(
            f"task {task.get('task_id')} ended {task.get('status')}: {task.get('err_code')} {task.get('err_message')}"
        )
        self.task = task


class DownloadError(ClientError):
    """The output could not be downloaded (not a success, no URL, short read)."""


class IncompleteDownload(DownloadError):
    """Some files of a multi-file output (HLS segments) have no URL in query_task and were not downloaded."""

    def __init__(self, written: list[str], missing: list[str], location: str) -> None:
        super().__init__(
            f"downloaded {len(written)} file(s); query_task gives no URL for {len(missing)} more "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}), stored beside the playlist at {location}"
        )
        self.written = written
        self.missing = missing
        self.location = location
