"""The `{code, msg, data}` envelope of every answer; the codes and their HTTP statuses are the protocol's."""

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from transcoder_protocol.codes import HTTP_STATUS, MESSAGE_PREFIX, ApiCode

__all__ = ["ApiCode", "ApiError", "envelope", "message"]


class ApiError(Exception):
    """An error the API reports with a contract code and a specific detail."""

    def __init__(self, code: ApiCode, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def message(code: ApiCode, detail: str = "") -> str:
    prefix = MESSAGE_PREFIX[code]
    return f"{prefix}: {detail}" if detail else prefix


def envelope(code: ApiCode, data: Any = None, *, detail: str = "", request_id: str = "") -> Response[Any]:
    body = {"code": int(code), "msg": message(code, detail), "data": data, "request_id": request_id}
    return Response(status_code=HTTP_STATUS[code], content_type=content_types.APPLICATION_JSON, body=body)
