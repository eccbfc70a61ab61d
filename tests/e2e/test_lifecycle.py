"""Cancel a running task and list tasks, through local mode."""

import time
from pathlib import Path

import pytest

from localmode.media import generate_clip
from tests.e2e.conftest import OWN_PART, Local


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lifecycle") / "long.mp4"
    return Path(generate_clip(str(path), seconds=20, size="1920x1080", rate=30))


def test_cancel_a_running_task(local: Local, long_clip: Path) -> None:
    input_url = local.upload(long_clip, "lifecycle-long.mp4")
    task_id = local.client.create_task(input_url, "lifecycle/cancelled", template_name="MP4_265_1080p")["task_id"]
    deadline = time.monotonic() + 120
    while (data := local.client.query_task(task_id))["status"] != "running":
        assert time.monotonic() < deadline, data
        time.sleep(0.1)

    cancelled = local.client.cancel_task(task_id)
    assert (cancelled["status"], cancelled["err_code"]) == ("cancelled", 5001)

    # The encode that was running stops (test_cancel_frees_worker measures how soon); nothing is delivered.
    time.sleep(8)
    data = local.client.query_task(task_id)
    assert (data["status"], data["err_code"], data["output_url"]) == ("cancelled", 5001, "")
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=OWN_PART + "lifecycle/")
    assert listed.get("KeyCount", 0) == 0


def test_list_task_shows_new_tasks_newest_first(local: Local, clips: dict[str, Path]) -> None:
    started = int(time.time())
    input_url = local.upload(clips["silent"], "lifecycle-list.mp4")
    ids = [local.run_task(input_url, f"lifecycle-list/{i}")["task_id"] for i in range(2)]
    page = local.client.list_tasks(started, started + 600, status="success")
    listed = [t["task_id"] for t in page["list"]]
    assert set(ids) <= set(listed)
    assert listed.index(ids[1]) < listed.index(ids[0]), "not newest first"
