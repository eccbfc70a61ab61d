"""Request validation errors as 1001/1002, and the response envelope of api.md."""

import json
from typing import Any

import pytest
from pydantic import ValidationError

from transcoder.api.envelope import ApiCode, ApiError, envelope, message
from transcoder.api.requests import CreateTaskRequest, validation_error

VALID: dict[str, Any] = {"input": "s3://test-input/a.mp4", "output": "out/a", "template_name": "MP4_264_360p"}


def errors_for(payload: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        if isinstance(payload, str):
            CreateTaskRequest.model_validate_json(payload)
        else:
            CreateTaskRequest.model_validate(payload)
    return caught.value.errors(include_url=False)  # type: ignore[return-value]


def as_body_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the API layer sees: locations prefixed with `body`, as the event handler reports them."""
    return [{**e, "loc": ("body", *e["loc"])} for e in errors]


def test_valid_request_and_defaults() -> None:
    request = CreateTaskRequest.model_validate({**VALID, "unknown_field": 1})
    assert request.storage_id == "default"
    assert request.template_id is None
    assert request.input == VALID["input"]


@pytest.mark.parametrize("field", ["input", "output"])
@pytest.mark.parametrize("prefixed", [False, True])
def test_missing_field_is_lack_param_naming_it(field: str, prefixed: bool) -> None:
    payload = {k: v for k, v in VALID.items() if k != field}
    errors = errors_for(payload)
    error = validation_error(as_body_errors(errors) if prefixed else errors)
    assert isinstance(error, ApiError)
    assert error.code is ApiCode.LACK_PARAM
    assert error.detail == field
    assert message(error.code, error.detail) == f"lack param: {field}"


def test_missing_is_reported_before_malformed() -> None:
    errors = errors_for({"input": 5})
    error = validation_error(errors)
    assert error.code is ApiCode.LACK_PARAM
    assert error.detail == "output"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("input", 5),
        ("input", None),
        ("input", ["s3://b/k"]),
        ("output", True),
        ("output", ""),
        ("template_name", 7),
        ("template_name", "x" * 129),
        ("storage_id", {"id": 1}),
        ("input", "s3://b/" + "k" * 2048),
    ],
)
@pytest.mark.parametrize("prefixed", [False, True])
def test_wrong_type_or_range_is_bad_param_naming_it(field: str, value: Any, prefixed: bool) -> None:
    errors = errors_for({**VALID, field: value})
    error = validation_error(as_body_errors(errors) if prefixed else errors)
    assert error.code is ApiCode.BAD_PARAM
    assert error.detail.startswith(f"{field}: ")
    assert len(error.detail) > len(f"{field}: ")
    assert "body" not in error.detail.split(":")[0]


def test_invalid_json_is_bad_param() -> None:
    error = validation_error(errors_for("{not json"))
    assert error.code is ApiCode.BAD_PARAM
    assert "JSON" in error.detail


@pytest.mark.parametrize("payload", ["[1, 2]", '"a string"', "42", "null"])
def test_body_not_an_object_is_bad_param(payload: str) -> None:
    error = validation_error(errors_for(payload))
    assert error.code is ApiCode.BAD_PARAM
    assert "object" in error.detail


def test_missing_body_is_lack_param() -> None:
    error = validation_error([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    assert error.code is ApiCode.LACK_PARAM
    assert "body" in error.detail


def test_nested_location_is_dotted() -> None:
    error = validation_error([{"type": "string_type", "loc": ("body", "a", 0, "b"), "msg": "bad"}])
    assert error.code is ApiCode.BAD_PARAM
    assert error.detail == "a.0.b: bad"


# ---------------------------------------------------------------- envelope

# From api.md's table, written out independently of the code.
STATUS_BY_CODE = {0: 200, 1000: 500, 1001: 400, 1002: 400, 1003: 401, 1004: 404, 1005: 409, 1006: 409, 1007: 429}
MSG_BY_CODE = {
    0: "success",
    1000: "internal error",
    1001: "lack param",
    1002: "bad param",
    1003: "auth fail",
    1004: "empty result",
    1005: "operation fail",
    1006: "duplicated entity",
    1007: "too many requests",
}


def test_every_api_code_is_in_the_contract() -> None:
    assert {int(c) for c in ApiCode} == set(STATUS_BY_CODE)


def _body(response: Any) -> dict[str, Any]:
    body = response.body
    parsed = json.loads(body) if isinstance(body, str | bytes) else body
    assert isinstance(parsed, dict)
    return parsed


@pytest.mark.parametrize(("code", "status"), STATUS_BY_CODE.items())
def test_envelope_status_and_body(code: int, status: int) -> None:
    data = {"task_id": "x"} if code == 0 else None
    response = envelope(ApiCode(code), data, request_id="req-123")
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = _body(response)
    assert body == {"code": code, "msg": MSG_BY_CODE[code], "data": data, "request_id": "req-123"}
    assert type(body["code"]) is int
    json.dumps(body)


@pytest.mark.parametrize("code", [c for c in ApiCode if c != ApiCode.SUCCESS])
def test_envelope_detail_is_appended_to_msg(code: ApiCode) -> None:
    body = _body(envelope(code, detail="template_name 'x' does not exist"))
    assert body["msg"] == f"{MSG_BY_CODE[int(code)]}: template_name 'x' does not exist"
    assert body["data"] is None
    assert body["request_id"] == ""


def test_api_error_carries_code_and_detail() -> None:
    error = ApiError(ApiCode.EMPTY_RESULT, "task 'x' does not exist")
    assert error.code is ApiCode.EMPTY_RESULT
    assert error.detail == "task 'x' does not exist"
    assert str(error) == "task 'x' does not exist"
