"""Checks an answer of the API against what the OpenAPI document says that route answers with that status."""

import functools
import json
from typing import Any

from jsonschema import Draft202012Validator


@functools.cache
def document() -> dict[str, Any]:
    from handlers.docs_routes import openapi_json

    return dict(json.loads(openapi_json()))


def is_documented(method: str, path: str) -> bool:
    return method.lower() in document()["paths"].get(path, {})


def assert_documented(method: str, path: str, status: int, body: Any) -> None:
    """The answer's status is one the route declares, and its body validates against that status's schema."""
    responses = document()["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which it does not declare: {body}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document()["components"]})
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method} {path} {status}: the answer is not as documented: {problems}"
