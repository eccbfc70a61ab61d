"""The API's result codes (api.md, "Codes"): the number, the HTTP status it is answered with, its message."""

from enum import IntEnum
from types import MappingProxyType


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


HTTP_STATUS = MappingProxyType(
    {
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
)
MESSAGE_PREFIX = MappingProxyType(
    {
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
)
"""What `msg` starts with for each code; the API appends `: <detail>` naming the field or the reason."""
