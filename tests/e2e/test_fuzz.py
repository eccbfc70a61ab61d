"""A fuzz run of generated requests, valid and invalid, against local mode: no 5xx, never code 1000.

The schema is the OpenAPI document the API function generates from its routes (Powertools);
`test_served_document_is_the_generated_one` checks that `GET /api/openapi.json` serves it.
"""

import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode

from handlers.api import openapi_document
from tests.e2e.conftest import Local

SCHEMA = schemathesis.openapi.from_dict(json.loads(openapi_document()))
SCHEMA.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
EXAMPLES_PER_OPERATION = 40


@SCHEMA.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, local: Local) -> None:
    response = case.call(base_url=local.api_url, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert set(body) == {"code", "msg", "data", "request_id"}, body
    assert body["code"] != 1000, body
    if response.status_code >= 400:
        assert body["code"] in (1001, 1002, 1004, 1005, 1006), body


def test_served_document_is_the_generated_one(local: Local) -> None:
    answer = local.client.request("GET", "/api/openapi.json")
    status, document = answer.http_status, answer.body
    assert status == 200
    assert document == json.loads(openapi_document())
    assert {"/api/create_task", "/api/query_task", "/api/list_task", "/api/add_template"} <= set(document["paths"])
