"""Each route's `responses` for its OpenAPI operation: the envelope with the route's `data`, and its refusals.

Plain OpenAPI dicts that name the models of transcoder.api.responses, whose schemas the document adds: the
routes import no model to declare what they answer, so the API function's import and requests do not pay
for the documentation (pydantic models cost ~1 ms each to build).
"""

from typing import Any

from transcoder.api.envelope import ApiCode, message, status_of

REF_TEMPLATE = "#/components/schemas/{model}"
# The model (in transcoder.api.responses) of the envelope each refusal is answered in.
REFUSAL_MODELS = {
    ApiCode.LACK_PARAM: "BadRequest",
    ApiCode.BAD_PARAM: "BadRequest",
    ApiCode.AUTH_FAIL: "AuthFail",
    ApiCode.EMPTY_RESULT: "NotFound",
    ApiCode.OPERATION_FAIL: "Conflict",
    ApiCode.DUPLICATED_ENTITY: "Conflict",
    ApiCode.TOO_MANY_REQUESTS: "Throttled",
    ApiCode.INTERNAL_ERROR: "InternalError",
}
# Any route: a malformed request (1001/1002), throttling (1007) and a fault (1000).
EVERY_ROUTE = (ApiCode.LACK_PARAM, ApiCode.BAD_PARAM, ApiCode.TOO_MANY_REQUESTS, ApiCode.INTERNAL_ERROR)


def ref(model: str) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model)}


def success(data_model: str | None) -> dict[str, Any]:
    """The schema of a `code` 0 answer whose `data` is `data_model` (None: `data` is null)."""
    return {
        "type": "object",
        "properties": {
            "code": {"const": 0},
            "msg": {"const": "success"},
            "data": ref(data_model) if data_model else {"type": "null"},
            "request_id": {"type": "string", "description": "API Gateway's request id (ext)"},
        },
        "required": ["code", "msg", "data", "request_id"],
        "additionalProperties": False,
    }


def answers(data_model: str | None, *codes: ApiCode, signed: bool = True) -> dict[int, Any]:
    """A route's `responses`: 200 with `data_model` as `data`, and the refusals it can give.

    `codes` are the route's own refusals (1004, 1005, 1006); every route also answers 1001/1002, 1007 and
    1000, and a signed one 1003. Codes that share an HTTP status share its model.
    """
    every = {*EVERY_ROUTE, *codes, *((ApiCode.AUTH_FAIL,) if signed else ())}
    responses: dict[int, Any] = {
        200: {"description": "success", "content": {"application/json": {"schema": success(data_model)}}}
    }
    for code in sorted(every, key=status_of):
        status = status_of(code)
        responses[status] = {
            "description": " or ".join(message(c) for c in sorted(every) if status_of(c) == status),
            "content": {"application/json": {"schema": ref(REFUSAL_MODELS[code])}},
        }
    return responses
