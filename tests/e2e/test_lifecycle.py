"""Cancel a running task and list tasks, through local mode."""

import time
from pathlib import Path

import pytest

from localmode import client
from localmode.media import generate_clip
from tests.e2e.conftest import Local


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lifecycle") / "long.mp4"
    return Path(generate_clip(str(path), seconds=20, size="1920x1080", rate=30))


def test_cancel_a_running_task(local: Local, long_clip: Path) -> None:
    input_url = local.upload(long_clip, "lifecycle-long.mp4")
    created = client.create_task(
        local.api_url, input=input_url, output="lifecycle/cancelled", template_name="MP4_265_1080p"
    )
    task_id = created["data"]["task_id"]
    deadline = time.monotonic() + 120
    while (data := client.call(local.api_url, "GET", f"/api/query_task?task_id={task_id}")[1]["data"])[
        "status"
    ] != "running":
        assert time.monotonic() < deadline, data
        time.sleep(0.1)

    status, body = client.call(local.api_url, "POST", "/api/cancel_task", {"task_id": task_id})
    assert (status, body["data"]["status"], body["data"]["err_code"]) == (200, "cancelled", 5001)

    # The encode that was running finishes or is abandoned; either way nothing is delivered.
    time.sleep(8)
    _, body = client.call(local.api_url, "GET", f"/api/query_task?task_id={task_id}")
    assert (body["data"]["status"], body["data"]["err_code"], body["data"]["output_url"]) == ("cancelled", 5001, "")
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix="lifecycle/")
    assert listed.get("KeyCount", 0) == 0


def test_list_task_shows_new_tasks_newest_first(local: Local, clips: dict[str, Path]) -> None:
    started = int(time.time())
    input_url = local.upload(clips["silent"], "lifecycle-list.mp4")
    ids = [local.run_task(input_url, f"lifecycle-list/{i}")["task_id"] for i in range(2)]
    status, body = client.call(
        local.api_url, "GET", f"/api/list_task?start_time={started}&end_time={started + 600}&status=success"
    )
    assert status == 200, body
    listed = [t["task_id"] for t in body["data"]["list"]]
    assert set(ids) <= set(listed)
    assert listed.index(ids[1]) < listed.index(ids[0]), "not newest first"
