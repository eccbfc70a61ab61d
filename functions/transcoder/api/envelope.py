"""The `{code, msg, data}` envelope and the HTTP status each API code maps to (api.md)."""

from enum import IntEnum
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


class ApiCode(IntEnum):
    SUCCESS = 0
    INTERNAL_ERROR = 1000
    LACK_PARAM = 1001
    BAD_PARAM = 1002
    AUTH_FAIL = 1003
    EMPTY_RESULT = 1004
    OPERATION_FAIL = 1005
    DUPLICATED_ENTITY = 1006
    TOO_MANY_REQUESTS = 1007


_STATUS = {
    ApiCode.SUCCESS: 200,
    ApiCode.INTERNAL_ERROR: 500,
    ApiCode.LACK_PARAM: 400,
    ApiCode.BAD_PARAM: 400,
    ApiCode.AUTH_FAIL: 401,
    ApiCode.EMPTY_RESULT: 404,
    ApiCode.OPERATION_FAIL: 409,
    ApiCode.DUPLICATED_ENTITY: 409,
    ApiCode.TOO_MANY_REQUESTS: 429,
}
_MSG_PREFIX = {
    ApiCode.SUCCESS: "success",
    ApiCode.INTERNAL_ERROR: "internal error",
    ApiCode.LACK_PARAM: "lack param",
    ApiCode.BAD_PARAM: "bad param",
    ApiCode.AUTH_FAIL: "auth fail",
    ApiCode.EMPTY_RESULT: "empty result",
    ApiCode.OPERATION_FAIL: "operation fail",
    ApiCode.DUPLICATED_ENTITY: "duplicated entity",
    ApiCode.TOO_MANY_REQUESTS: "too many requests",
}


class ApiError(Exception):
    """An error the API reports with a contract code and a specific detail."""

    def __init__(self, code: ApiCode, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def status_of(code: ApiCode) -> int:
    return _STATUS[code]


def message(code: ApiCode, detail: str = "") -> str:
    prefix = _MSG_PREFIX[code]
    return f"{prefix}: {detail}" if detail else prefix


def envelope(code: ApiCode, data: Any = None, *, detail: str = "", request_id: str = "") -> Response[Any]:
    body = {"code": int(code), "msg": message(code, detail), "data": data, "request_id": request_id}
    return Response(status_code=status_of(code), content_type=content_types.APPLICATION_JSON, body=body)
