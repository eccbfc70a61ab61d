"""list_task, cancel_task, del_task through the API function (API Gateway events, moto's server)."""

import time
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call
from transcoder import repository, tasks
from transcoder.status import Status


def _create(n: int) -> list[str]:
    ids = []
    for _ in range(n):
        status, body = _call("POST", "/api/create_task", VALID)
        assert status == 200, body
        ids.append(body["data"]["task_id"])
        time.sleep(0.002)  # distinct milliseconds: ids sort by creation
    return ids


def _range() -> str:
    now = int(time.time())
    return f"start_time={now - 60}&end_time={now + 60}"


def test_list_task_newest_first_with_paging_and_status(aws: Aws) -> None:
    ids = _create(3)
    status, body = _call("GET", f"/api/list_task?{_range()}")
    assert status == 200, body
    data = body["data"]
    assert (data["total"], data["num"]) == (3, 3)
    assert [t["task_id"] for t in data["list"]] == sorted(ids, reverse=True)
    assert {"status", "input_url", "output_url", "err_code"} <= set(data["list"][0])

    _, body = _call("GET", f"/api/list_task?{_range()}&start_num=1&count=1")
    assert (body["data"]["total"], body["data"]["num"]) == (3, 1)
    assert body["data"]["list"][0]["task_id"] == sorted(ids, reverse=True)[1]

    repository.move(ids[0], Status.FAIL, err_code=9000)
    _, body = _call("GET", f"/api/list_task?{_range()}&status=fail")
    assert [t["task_id"] for t in body["data"]["list"]] == [ids[0]]
    _, body = _call("GET", f"/api/list_task?{_range()}&start_num=5")
    assert (body["data"]["total"], body["data"]["num"], body["data"]["list"]) == (3, 0, [])


def test_list_task_time_range_excludes_other_tasks(aws: Aws) -> None:
    _create(1)
    now = int(time.time())
    _, body = _call("GET", f"/api/list_task?start_time={now - 7200}&end_time={now - 3600}")
    assert (body["code"], body["data"]["total"]) == (0, 0)


@pytest.mark.parametrize(
    ("query", "code", "needle"),
    [
        ("end_time=1800000000", 1001, "start_time"),
        ("start_time=1700000000", 1001, "end_time"),
        ("start_time=abc&end_time=1800000000", 1002, "start_time"),
        ("start_time=170000000&end_time=1800000000", 1002, "start_time"),
        ("start_time=1800000000&end_time=1700000000", 1002, "end_time"),
        ("start_time=1700000000&end_time=1800000000&count=501", 1002, "count"),
        ("start_time=1700000000&end_time=1800000000&count=0", 1002, "count"),
        ("start_time=1700000000&end_time=1800000000&start_num=-1", 1002, "start_num"),
        ("start_time=1700000000&end_time=1800000000&status=bogus", 1002, "status"),
    ],
)
def test_list_task_validation(aws: Aws, query: str, code: int, needle: str) -> None:
    status, body = _call("GET", f"/api/list_task?{query}")
    assert (status, body["code"]) == (400, code), body
    assert needle in body["msg"]


def _execution_status(aws: Aws, task_id: str) -> str:
    return str(aws.sfn.describe_execution(executionArn=tasks.execution_arn(task_id))["status"])


def test_cancel_task_ends_the_task_and_stops_its_execution(aws: Aws) -> None:
    (task_id,) = _create(1)
    status, body = _call("POST", "/api/cancel_task", {"task_id": task_id})
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    assert (data["status"], data["err_code"], data["err_message"]) == ("cancelled", 5001, "cancelled by the user")
    assert data["finish_time"] > 0
    assert _execution_status(aws, task_id) == "ABORTED"
    again = _call("POST", "/api/cancel_task", {"task_id": task_id})[1]["data"]
    assert (again["status"], again["finish_time"]) == ("cancelled", data["finish_time"])


def test_cancel_leaves_a_finished_task_as_it_is(aws: Aws) -> None:
    (task_id,) = _create(1)
    for status in (Status.DOWNLOADING, Status.RUNNING, Status.UPLOADING, Status.SUCCESS):
        assert repository.move(task_id, status)
    _, body = _call("POST", "/api/cancel_task", {"task_id": task_id})
    assert (body["code"], body["data"]["status"], body["data"]["err_code"]) == (0, "success", 0)


def test_del_task_cancels_then_deletes(aws: Aws) -> None:
    (task_id,) = _create(1)
    status, body = _call("DELETE", "/api/del_task", {"task_id": task_id})
    assert (status, body["code"], body["data"]) == (200, 0, None)
    assert _execution_status(aws, task_id) == "ABORTED"
    status, body = _call("GET", f"/api/query_task?task_id={task_id}")
    assert (status, body["code"]) == (404, 1004)


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/cancel_task"), ("DELETE", "/api/del_task")])
@pytest.mark.parametrize(
    ("body", "http", "code"),
    [({}, 400, 1001), ({"task_id": "nope"}, 400, 1002), ({"task_id": "01m87ken790ez9c6fq6336xxkz"}, 404, 1004)],
)
def test_cancel_and_delete_validation(aws: Aws, method: str, path: str, body: Any, http: int, code: int) -> None:
    status, response = _call(method, path, body)
    assert (status, response["code"]) == (http, code), response


def test_list_summary_counts_recent_tasks(aws: Aws) -> None:
    ids = _create(2)
    for status in (Status.DOWNLOADING, Status.RUNNING, Status.UPLOADING):
        repository.move(ids[0], status)
    repository.move(ids[0], Status.SUCCESS, dst_width=640, dst_height=360, duration=120.0)
    status, body = _call("GET", "/api/list_summary?start_time=1&end_time=0")
    assert status == 200, body
    rows = body["data"]["list"]
    assert sum(r["task_count"] for r in rows) == 2
    assert sum(r["output_minutes"] for r in rows) == 2.0
    assert {r["definition"] for r in rows} == {"sd"}  # MP4_264_360p: done or planned, 360 lines
    _, default_window = _call("GET", "/api/list_summary")
    assert default_window["data"] == {"list": [], "num": 0}, "48 to 24 hours ago holds nothing yet"


@pytest.mark.parametrize("query", ["start_time=24&end_time=48", "start_time=721", "start_time=abc", "end_time=-1"])
def test_list_summary_validation(aws: Aws, query: str) -> None:
    status, body = _call("GET", f"/api/list_summary?{query}")
    assert (status, body["code"]) == (400, 1002), body
