"""Bodies and query values built to break a parser get 1002 naming the problem, never 500/1000."""

from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call

BODY_ROUTES = [
    ("POST", "/api/create_task"),
    ("POST", "/api/cancel_task"),
    ("DELETE", "/api/del_task"),
    ("POST", "/api/add_template"),
    ("PUT", "/api/update_template"),
    ("DELETE", "/api/del_template"),
    ("POST", "/api/add_storage"),
    ("DELETE", "/api/del_storage"),
]

HUGE_INTEGER = "9" * 5000
# Raw bodies, as an attacker writes them: json.dumps would not produce most of these.
HOSTILE_BODIES = {
    "deep object": '{"a":' * 1000 + "1" + "}" * 1000,
    "deep array": "[" * 1000 + "]" * 1000,
    "deep array in a field": '{"task_id":' + "[" * 5000 + "]" * 5000 + "}",
    "5,000-digit integer": HUGE_INTEGER,
    "5,000-digit integer in a field": f'{{"task_id": {HUGE_INTEGER}, "name": "x", "quality": -{HUGE_INTEGER}}}',
    "huge float": '{"framerate": 1e400, "name": "x"}',
    "huge negative float": '{"framerate": -1e400, "name": "x"}',
    "5,000-digit float": '{"framerate": 1.' + "5" * 5000 + ', "name": "x"}',
    "NaN": '{"framerate": NaN, "name": "x"}',
    "Infinity": '{"framerate": Infinity, "name": "x"}',
    "-Infinity": "-Infinity",
    "oversized": '{"description": "' + "x" * 200_000 + '"}',
}


@pytest.mark.parametrize(("method", "target"), BODY_ROUTES)
def test_hostile_bodies_are_bad_param_naming_the_body(aws: Aws, method: str, target: str) -> None:
    for name, text in HOSTILE_BODIES.items():
        status, answer = _call(method, target, raw=text.encode())
        assert (status, answer["code"]) == (400, 1002), (name, answer)
        assert answer["msg"].startswith("bad param: body: "), (name, answer["msg"])
        assert answer["data"] is None


def test_brackets_inside_strings_are_not_nesting(aws: Aws) -> None:
    status, answer = _call(
        "POST", "/api/add_template", {"name": "brackets", "resolution": "360p", "description": "[" * 200}
    )
    assert (status, answer["code"]) == (200, 0), answer


NUMERIC_QUERIES = [
    ("/api/list_task", "start_time", {"end_time": "1795510800"}),
    ("/api/list_task", "end_time", {"start_time": "1795424400"}),
    ("/api/list_task", "start_num", {"start_time": "1795424400", "end_time": "1795510800"}),
    ("/api/list_task", "count", {"start_time": "1795424400", "end_time": "1795510800"}),
    ("/api/list_summary", "start_time", {}),
    ("/api/list_summary", "end_time", {}),
]


@pytest.mark.parametrize(("path", "field", "others"), NUMERIC_QUERIES)
def test_hostile_numbers_in_queries_are_bad_param_naming_the_field(
    aws: Aws, path: str, field: str, others: dict[str, str]
) -> None:
    for value in (HUGE_INTEGER, "-" + HUGE_INTEGER, "1e400", "-1e400", "NaN", "Infinity", "1.5"):
        query = "&".join(f"{name}={quote(v)}" for name, v in sorted({**others, field: value}.items()))
        status, answer = _call("GET", f"{path}?{query}")
        assert (status, answer["code"]) == (400, 1002), (value[:20], answer)
        assert answer["msg"].startswith(f"bad param: {field}: "), answer["msg"]


@pytest.mark.parametrize("field", ["framerate", "gop_seconds"])
def test_numbers_no_field_can_hold_are_bad_param_naming_the_field(aws: Aws, field: str) -> None:
    values: list[Any] = ["NaN", "inf", "-Infinity", "1e400", 1e308, HUGE_INTEGER]
    assert _call("POST", "/api/add_template", {"name": "existing", "resolution": "360p"})[0] == 200
    for value in values:
        for method, target, name in (
            ("POST", "/api/add_template", "numbers"),
            ("PUT", "/api/update_template", "existing"),
        ):
            status, answer = _call(method, target, {"name": name, "resolution": "360p", field: value})
            assert (status, answer["code"]) == (400, 1002), (target, str(value)[:20], answer)
            assert answer["msg"].startswith(f"bad param: {field}: "), answer["msg"]
