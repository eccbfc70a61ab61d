"""The documentation the API function serves: the OpenAPI document and Swagger UI, with its own files."""

import json
import re
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from localmode.functions import LocalContext
from localmode.http_api import to_rest_event
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call

CONTEXT = LocalContext("api", 512, "arn:aws:lambda:us-east-1:123456789012:function:api", 29)


def _get(target: str, *, stage_in_path: bool = False, prefix: str = "") -> dict[str, Any]:
    """An unsigned GET; `stage_in_path`: as API Gateway's execute-api host passes it (`/v1/api/...`)."""
    from handlers.api import handler

    event = to_rest_event("GET", target, {}, b"", "127.0.0.1")
    event["requestContext"]["path"] = ("/v1" if stage_in_path else prefix) + event["path"]
    return dict(handler(event, CONTEXT))


def _header(response: dict[str, Any], name: str) -> str:
    headers = {
        **(response.get("headers") or {}),
        **{k: ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    return str(next(v for k, v in headers.items() if k.lower() == name.lower()))


def test_swagger_ui_is_public_and_loads_only_files_the_api_serves(aws: Aws) -> None:
    page = _get("/api/swagger")
    assert page["statusCode"] == 200
    assert _header(page, "Content-Type").startswith("text/html")
    html = page["body"]
    scripts = re.findall(r"<script src='([^']+)'", html)
    styles = re.findall(r"<link rel='stylesheet' type='text/css' href='([^']+)'", html)
    assert scripts == [f"/api/swagger/swagger-ui-bundle.min.js?v={POWERTOOLS_VERSION}"]
    assert styles == [f"/api/swagger/swagger-ui.min.css?v={POWERTOOLS_VERSION}"]
    # Nothing from another host: no CDN, no font service.
    assert not re.findall(r"(?:src|href)=['\"](?:https?:)?//", html)
    # The document is in the page, not fetched.
    assert '"/api/create_task"' in html and '"signature"' in html


def test_each_file_the_page_loads_is_served_unsigned(aws: Aws) -> None:
    for name, content_type in (
        ("swagger-ui-bundle.min.js", "application/javascript"),
        ("swagger-ui.min.css", "text/css"),
    ):
        response = _get(f"/api/swagger/{name}?v={POWERTOOLS_VERSION}")
        assert response["statusCode"] == 200, response
        assert _header(response, "Content-Type").startswith(content_type)
        assert "immutable" in _header(response, "Cache-Control")
        assert response["body"] == (Path(swagger_ui.__file__).parent / name).read_text(encoding="utf-8")


def test_on_the_execute_api_host_links_keep_the_stage(aws: Aws) -> None:
    html = _get("/api/swagger", stage_in_path=True)["body"]
    assert f"src='/v1/api/swagger/swagger-ui-bundle.min.js?v={POWERTOOLS_VERSION}'" in html
    assert '"url": "/v1"' in html
    assert json.loads(_get("/api/openapi.json", stage_in_path=True)["body"])["servers"] == [{"url": "/v1"}]


def test_the_document_is_served_as_generated(aws: Aws) -> None:
    from handlers.docs_routes import openapi_json

    for target in ("/api/openapi.json", "/api/swagger?format=json"):
        response = _get(target)
        assert response["statusCode"] == 200
        assert _header(response, "Content-Type") == "application/json"
        assert json.loads(response["body"]) == json.loads(openapi_json())


def test_only_the_documentation_files_are_public(aws: Aws) -> None:
    for target in ("/api/swagger/swagger-ui-bundle.js", "/api/swagger/..%2F..%2Fapi.py", "/api/swagger/oauth2.py"):
        refused = json.loads(_get(target)["body"])
        assert refused["code"] == 1003, (target, refused)
    status, body = _call("GET", "/api/swagger/html.py")
    assert (status, body["code"]) == (404, 1004), body
    assert "no Swagger UI file 'html.py'" in body["msg"]


def test_the_path_prefix_cannot_write_markup_into_the_page(aws: Aws) -> None:
    html = _get("/api/swagger", prefix="/x'><script>alert(1)</script>")["body"]
    assert "<script>alert" not in html
    assert "src='/x%27%3E%3Cscript%3Ealert%281%29%3C/script%3E/api/swagger/swagger-ui-bundle.min.js" in html
