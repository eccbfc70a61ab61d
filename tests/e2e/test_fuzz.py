"""A fuzz run of generated requests, valid and invalid, against local mode: no 5xx, never code 1000.

The schema is the OpenAPI document the API function generates from its routes (Powertools);
`test_served_document_is_the_generated_one` checks that `GET /api/openapi.json` serves it.
"""

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from handlers.api import openapi_document
from tests.e2e.conftest import Local
from transcoder_client.signing import signed_headers

SCHEMA = schemathesis.openapi.from_dict(json.loads(openapi_document()))
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
EXAMPLES_PER_OPERATION = 40


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, local: Local) -> None:
    response = case.call(
        base_url=local.api_url, timeout=30, auth=SignedBy(local.access_key_id, local.secret_access_key)
    )
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert set(body) == {"code", "msg", "data", "request_id"}, body
    assert body["code"] != 1000, body
    if response.status_code >= 400:
        assert body["code"] in (1001, 1002, 1004, 1005, 1006), body


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


def test_served_document_is_the_generated_one(local: Local) -> None:
    answer = local.client.request("GET", "/api/openapi.json")
    status, document = answer.http_status, answer.body
    assert status == 200
    assert document == json.loads(openapi_document())
    assert {"/api/create_task", "/api/query_task", "/api/list_task", "/api/add_template"} <= set(document["paths"])
