"""A fuzz run of generated requests, valid and invalid, against local mode: no 5xx, never code 1000, and
every answer as the document declares it (its status among the operation's responses, its body valid
against that response's schema).

The schema is the OpenAPI document the API function generates from its routes (Powertools);
`test_served_document_is_the_generated_one` checks that `GET /api/openapi.json` serves it.
"""

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from handlers.docs_routes import openapi_json
from tests.e2e.conftest import Local
from transcoder_client.signing import signed_headers


def _signed_by_the_test(document: dict[str, Any]) -> dict[str, Any]:
    """The document without its security scheme: SignedBy signs every request over its exact bytes.

    With the scheme, schemathesis generates an Authorization header (which SignedBy replaces) and, in
    negative mode, arbitrary other headers such as `Transfer-Encoding: 0`, which local mode's HTTP server
    (waitress) refuses with 501 before the API sees the request: a test of that server, not of the API.
    The signature itself is tested in tests/integration/test_auth.py.
    """
    document.pop("security")
    document["components"].pop("securitySchemes")
    for operations in document["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return document


SCHEMA = schemathesis.openapi.from_dict(_signed_by_the_test(json.loads(openapi_json())))
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
EXAMPLES_PER_OPERATION = 40


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, local: Local) -> None:
    response = case.call(
        base_url=local.api_url, timeout=30, auth=SignedBy(local.access_key_id, local.secret_access_key)
    )
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    # The document's promise: a declared status, the declared content type, a body its schema accepts.
    case.validate_response(response, checks=DOCUMENTED)
    body = response.json()
    assert set(body) == {"code", "msg", "data", "request_id"}, body
    assert body["code"] != 1000, body
    if response.status_code >= 400:
        assert body["code"] in (1001, 1002, 1004, 1005, 1006), body


DOCUMENTED = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class SignedBy(requests.auth.AuthBase):
    """Signs each generated request over the exact bytes schemathesis sends, as a client would."""

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.key = (access_key_id, secret_access_key)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        request.headers.update(
            signed_headers(
                access_key_id=self.key[0],
                secret_access_key=self.key[1],
                method=request.method or "GET",
                path=url.path,
                query=parse_qsl(url.query, keep_blank_values=True),
                body=body,
                content_type=request.headers.get("Content-Type", ""),
            )
        )
        return request


# Explicit examples besides the generated ones: inputs built to break a JSON parser or a number field
# (each gave 500/1000 before request bodies had one bounded parser).
DIGITS = "9" * 5000
HOSTILE_BODIES = {
    "deep object": '{"a":' * 1000 + "1" + "}" * 1000,
    "deep array": "[" * 1000 + "]" * 1000,
    "5,000-digit integer": DIGITS,
    "5,000-digit integer field": f'{{"task_id": {DIGITS}, "name": -{DIGITS}}}',
    "1e400": '{"task_id": 1e400, "framerate": 1e400}',
    "-1e400": '{"task_id": -1e400, "framerate": -1e400}',
    "NaN": '{"task_id": NaN, "framerate": NaN}',
    "Infinity": '{"framerate": Infinity}',
    "-Infinity": "-Infinity",
}
HOSTILE_QUERY_VALUES = [DIGITS, "-" + DIGITS, "1e400", "-1e400", "NaN", "Infinity", "-Infinity", "[[[[", "{}"]
VALID_QUERIES = {"/api/list_task": {"start_time": "1795424400", "end_time": "1795510800"}}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in json.loads(openapi_json())["paths"].items()
    for method, operation in methods.items()
]


def _assert_refused_in_the_envelope(response: requests.Response, what: str) -> None:
    assert 400 <= response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert set(body) == {"code", "msg", "data", "request_id"}, (what, body)
    assert body["code"] in (1001, 1002, 1004), (what, body)


@pytest.mark.parametrize(("method", "path", "operation"), [op for op in OPERATIONS if op[0] != "GET"])
def test_hostile_bodies_get_a_4xx_code(local: Local, method: str, path: str, operation: dict[str, Any]) -> None:
    auth = SignedBy(local.access_key_id, local.secret_access_key)
    for name, text in HOSTILE_BODIES.items():
        response = requests.request(
            method, local.api_url + path, data=text.encode(), headers={"Content-Type": "application/json"},
            auth=auth, timeout=30,
        )  # fmt: skip
        _assert_refused_in_the_envelope(response, f"{method} {path} {name}")
        assert response.json()["msg"].startswith("bad param: body: "), (name, response.text)


@pytest.mark.parametrize(
    ("method", "path", "parameter"),
    [
        (method, path, parameter["name"])
        for method, path, operation in OPERATIONS
        if method == "GET"
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query"
    ],
)
def test_hostile_query_values_get_a_4xx_code(local: Local, method: str, path: str, parameter: str) -> None:
    auth = SignedBy(local.access_key_id, local.secret_access_key)
    for value in HOSTILE_QUERY_VALUES:
        # The other required values are valid, so the hostile one is what the answer is about.
        params = {**VALID_QUERIES.get(path, {}), parameter: value}
        response = requests.get(local.api_url + path, params=params, auth=auth, timeout=30)
        _assert_refused_in_the_envelope(response, f"{method} {path}?{parameter}={value[:20]}")


def test_served_document_is_the_generated_one(local: Local) -> None:
    answer = local.client.request("GET", "/api/openapi.json")
    status, document = answer.http_status, answer.body
    assert status == 200
    assert document == json.loads(openapi_json())
    assert {"/api/create_task", "/api/query_task", "/api/list_task", "/api/add_template"} <= set(document["paths"])
