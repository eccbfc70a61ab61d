"""The `{code, msg, data}` envelope of every answer; the codes and their HTTP statuses are the protocol's."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from transcoder_protocol.codes import HTTP_STATUS, MESSAGE_PREFIX, ApiCode

__all__ = ["ApiCode", "ApiError", "envelope", "message", "status_of"]


class ApiError(Exception):
    """An error the API reports with a contract code and a specific detail."""

    def __init__(self, code: ApiCode, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def status_of(code: ApiCode) -> int:
    return HTTP_STATUS[code]


def message(code: ApiCode, detail: str = "") -> str:
    prefix = MESSAGE_PREFIX[code]
    return f"{prefix}: {detail}" if detail else prefix


def envelope(code: ApiCode, data: Any = None, *, detail: str = "", request_id: str = "") -> Response[Any]:
    body = {"code": int(code), "msg": message(code, detail), "data": data, "request_id": request_id}
    return Response(status_code=status_of(code), content_type=content_types.APPLICATION_JSON, body=body)
