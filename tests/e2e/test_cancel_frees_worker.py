"""A cancelled task's encode stops at once: the transcode function is free again, its work files are gone."""

import time
from pathlib import Path

import pytest

from localmode.media import generate_clip, probe_file
from tests.e2e.conftest import OWN_PART, Local

FREED_WITHIN_SECONDS = 45.0
"""From the cancel to the next task's success. Left running, the cancelled encode (a minute of 1080p to H.265)
needs well over a minute even on an idle 2-core machine, several under load; stopped, it frees the function
within a few seconds, and the next task (3 s of video) takes ~5-20 s more."""
WORK_CLEARED_WITHIN_SECONDS = 20.0


@pytest.fixture(scope="module")
def minute_1080p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cancel") / "minute.mp4"
    return Path(generate_clip(str(path), seconds=60, size="1920x1080", rate=25))


def _work_files(local: Local, task_id: str) -> list[str]:
    listed = local.s3.list_objects_v2(Bucket=local.work_bucket, Prefix=f"tasks/{task_id}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def test_cancel_frees_the_transcode_function_and_clears_work(
    local: Local, minute_1080p: Path, clips: dict[str, Path], tmp_path: Path
) -> None:
    long_url = local.upload(minute_1080p, "cancel/minute.mp4")
    short_url = local.upload(clips["silent"], "cancel/short.mp4")
    long_id = local.client.create_task(long_url, "cancel/long", template_name="MP4_265_1080p")["task_id"]
    deadline = time.monotonic() + 180
    while (data := local.client.query_task(long_id))["status"] != "running":
        assert time.monotonic() < deadline, data
        time.sleep(0.2)
    time.sleep(2)  # ffmpeg is encoding, not starting

    cancelled_at = time.monotonic()
    cancelled = local.client.cancel_task(long_id)
    assert (cancelled["status"], cancelled["err_code"]) == ("cancelled", 5001)
    # One Transcode environment, as on Lambda with concurrency 1: this task waits for the cancelled encode.
    short_id = local.client.create_task(short_url, "cancel/short", template_name="MP4_264_360p")["task_id"]
    done = local.client.wait(short_id, interval=0.2, timeout=600)
    took = time.monotonic() - cancelled_at

    assert done["status"] == "success", done
    assert took < FREED_WITHIN_SECONDS, f"the next task finished {took:.0f} s after the cancel"
    output = tmp_path / "short.mp4"
    local.s3.download_file(local.output_bucket, OWN_PART + done["objkey"], str(output))
    assert probe_file(str(output)).height == 360

    deadline = time.monotonic() + WORK_CLEARED_WITHIN_SECONDS
    while _work_files(local, long_id):
        assert time.monotonic() < deadline, _work_files(local, long_id)
        time.sleep(0.5)
    data = local.client.query_task(long_id)
    assert (data["status"], data["err_code"], data["output_url"]) == ("cancelled", 5001, "")
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix="cancel/long")
    assert listed.get("KeyCount", 0) == 0
