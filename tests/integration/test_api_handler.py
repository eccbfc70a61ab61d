"""The API function with API Gateway (REST proxy) events: the contract's envelope and codes."""

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from localmode.functions import LocalContext
from localmode.http_api import to_rest_event
from tests.integration.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, Aws
from tests.openapi_conformance import assert_documented, is_documented
from transcoder_client.signing import signed_headers


def signed_request_headers(
    method: str,
    target: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    key: tuple[str, str] = (TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY),
) -> dict[str, str]:
    parts = urlsplit(target)
    return signed_headers(
        access_key_id=key[0],
        secret_access_key=key[1],
        method=method,
        path=parts.path,
        query=parse_qsl(parts.query, keep_blank_values=True),
        body=body,
        content_type=content_type,
    )


def call_handler(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    from handlers.api import handler

    event = to_rest_event(method, target, headers, body, "127.0.0.1")
    response = handler(event, LocalContext("api", 512, "arn:aws:lambda:us-east-1:123456789012:function:api", 29))
    status, answer = response["statusCode"], json.loads(response["body"])
    # Every answer these tests see is also checked against the OpenAPI document.
    if is_documented(method, urlsplit(target).path):
        assert_documented(method, urlsplit(target).path, status, answer)
    return status, answer


def _call(
    method: str,
    target: str,
    body: Any = None,
    raw: bytes | None = None,
    *,
    key: tuple[str, str] = (TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY),
) -> tuple[int, dict[str, Any]]:
    """A request signed as a client signs it (by default with the deployment account's test key)."""
    payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    return call_handler(method, target, signed_request_headers(method, target, payload, key=key), payload)


VALID = {"input": "s3://test-input/a.mp4", "output": "a", "template_name": "MP4_264_360p"}


def test_create_then_query(aws: Aws) -> None:
    status, body = _call("POST", "/api/create_task", VALID)
    assert status == 200
    assert body["code"] == 0
    assert body["msg"] == "success"
    assert body["request_id"]
    task_id = body["data"]["task_id"]
    status, body = _call("GET", f"/api/query_task?task_id={task_id}")
    assert status == 200
    data = body["data"]
    assert data["task_id"] == task_id
    assert data["status"] == "pending"
    assert data["finish_time"] == 0
    assert data["err_code"] == 0
    expected_fields = {
        "task_id", "status", "progress", "create_time", "finish_time", "input", "input_url", "output", "objkey",
        "output_url", "bucket", "region", "region_type", "template_id", "template_name", "src_bitrate",
        "dst_bitrate", "duration", "src_width", "src_height", "dst_width", "dst_height", "err_code", "err_message",
    }  # fmt: skip
    assert expected_fields <= set(data)


@pytest.mark.parametrize(
    ("method", "target", "body", "http", "code", "needle"),
    [
        ("POST", "/api/create_task", {k: v for k, v in VALID.items() if k != "input"}, 400, 1001, "input"),
        ("POST", "/api/create_task", {k: v for k, v in VALID.items() if k != "output"}, 400, 1001, "output"),
        ("POST", "/api/create_task", {**VALID, "input": 42}, 400, 1002, "input"),
        ("POST", "/api/create_task", {**VALID, "template_name": "nope"}, 400, 1002, "template_name"),
        ("POST", "/api/create_task", {**VALID, "output": "../x"}, 400, 1002, "output"),
        ("POST", "/api/create_task", {**VALID, "input": "s3://other-bucket/a.mp4"}, 400, 1002, "input"),
        ("POST", "/api/create_task", {**VALID, "storage_id": "nope"}, 400, 1002, "storage_id"),
        ("POST", "/api/create_task", [1, 2], 400, 1002, "JSON object"),
        ("POST", "/api/create_task", None, 400, 1001, "body"),
        ("GET", "/api/query_task", None, 400, 1001, "task_id"),
        ("GET", "/api/query_task?task_id=abc", None, 400, 1002, "task_id"),
        ("GET", "/api/query_task?task_id=01m87ken790ez9c6fq6336xxkz", None, 404, 1004, "does not exist"),
        ("GET", "/api/no_such_thing", None, 404, 1004, "/api/no_such_thing"),
    ],
)
def test_bad_requests_get_contract_codes(
    aws: Aws, method: str, target: str, body: Any, http: int, code: int, needle: str
) -> None:
    status, response = _call(method, target, body)
    assert (status, response["code"]) == (http, code), response
    assert needle in response["msg"]
    assert response["data"] is None


def test_invalid_json_is_bad_param(aws: Aws) -> None:
    status, response = _call("POST", "/api/create_task", raw=b"{not json")
    assert (status, response["code"]) == (400, 1002)
    assert "JSON" in response["msg"]


def test_aws_fault_is_internal_error_without_details(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder import repository

    def broken(task_id: str) -> None:
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(repository, "get", broken)
    status, response = _call("GET", "/api/query_task?task_id=01m87ken790ez9c6fq6336xxkz")
    assert (status, response["code"]) == (500, 1000)
    assert "secret" not in response["msg"]


def _call_with_type(content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
    headers = signed_request_headers("POST", "/api/create_task", body, content_type=content_type)
    return call_handler("POST", "/api/create_task", headers, body)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "application/vnd.x+json", ""],
)
def test_bodies_that_are_not_json_are_refused_by_content_type(aws: Aws, content_type: str) -> None:
    status, body = _call_with_type(content_type, json.dumps(VALID).encode())
    assert (status, body["code"]) == (400, 1002)
    assert "Content-Type" in body["msg"]


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", " application/json "])
def test_json_content_types_are_accepted(aws: Aws, content_type: str) -> None:
    status, body = _call_with_type(content_type, json.dumps(VALID).encode())
    assert (status, body["code"]) == (200, 0), body


def test_client_token_makes_create_task_idempotent(aws: Aws) -> None:
    import os

    request = {**VALID, "client_token": "retry-me-1"}
    first = _call("POST", "/api/create_task", request)
    again = _call("POST", "/api/create_task", request)
    assert first[0] == again[0] == 200
    assert first[1]["data"]["task_id"] == again[1]["data"]["task_id"]
    executions = aws.sfn.list_executions(stateMachineArn=os.environ["STATE_MACHINE_ARN"])["executions"]
    assert len(executions) == 1

    status, body = _call("POST", "/api/create_task", {**request, "output": "elsewhere"})
    assert (status, body["code"]) == (400, 1002)
    assert "client_token" in body["msg"]

    other = _call("POST", "/api/create_task", {**VALID, "client_token": "retry-me-2"})[1]["data"]["task_id"]
    plain = [_call("POST", "/api/create_task", VALID)[1]["data"]["task_id"] for _ in range(2)]
    assert len({first[1]["data"]["task_id"], other, *plain}) == 4


def test_client_token_answers_keep_their_key_across_releases(aws: Aws) -> None:
    """Stored answers are keyed by the idempotent function's module and name: a deploy that changed them
    would run a retried create_task again (the layer is built lazily, the function stays in handlers.api)."""
    import os

    import boto3

    assert _call("POST", "/api/create_task", {**VALID, "client_token": "kept-key"})[1]["code"] == 0
    records = boto3.client("dynamodb").scan(TableName=os.environ["IDEMPOTENCY_TABLE"])["Items"]
    assert [r["id"]["S"].split("#")[0].endswith(".handlers.api._create_once") for r in records] == [True]


def test_a_failed_create_task_does_not_burn_its_client_token(aws: Aws) -> None:
    bad = {**VALID, "template_name": "nope", "client_token": "fix-and-retry"}
    assert _call("POST", "/api/create_task", bad)[1]["code"] == 1002
    status, body = _call("POST", "/api/create_task", {**bad, "template_name": "MP4_264_360p"})
    assert (status, body["code"]) == (200, 0), body


def test_a_body_that_is_not_utf8_is_bad_param(aws: Aws) -> None:
    """API Gateway passes such a body base64-encoded; it is refused, signed or not, never a 500."""
    status, body = _call("POST", "/api/add_template", raw=b"\x80{")
    assert (status, body["code"]) == (400, 1002), body
    assert "UTF-8" in body["msg"]
