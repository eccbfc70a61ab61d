"""Drop a file under drop/ in the input bucket: a task without any API call, through local mode."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from localmode.media import generate_clip, probe_file
from tests.e2e.conftest import OWN_PART, Local


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("drop") / "tiny.mp4"
    return Path(generate_clip(str(path), seconds=1, size="320x240", rate=25))


def test_aws_cli_drop_transcodes_to_the_path_under_the_prefix(
    local: Local, clips: dict[str, Path], tmp_path: Path
) -> None:
    key = "drop/MP4_264_360p/holiday/clip.mp4"
    cli = Path(sys.executable).with_name("aws")
    subprocess.run(
        [str(cli), "--endpoint-url", local.aws_url, "s3", "cp", str(clips["720p"]), f"s3://{local.input_bucket}/{key}"],
        check=True,
        capture_output=True,
    )
    data = local.wait_for_drop(key)
    assert (data["status"], data["err_code"]) == ("success", 0), data
    assert data["input"] == f"s3://{local.input_bucket}/{key}"
    assert (data["objkey"], data["bucket"], data["template_name"]) == (
        "holiday/clip.mp4",
        local.output_bucket,
        "MP4_264_360p",
    )
    output = tmp_path / "dropped.mp4"
    local.s3.download_file(local.output_bucket, OWN_PART + "holiday/clip.mp4", str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 640, 360, "aac")


@pytest.mark.parametrize("key", ["videos/clip.mp4", "top level clip.mov", "MP4_264_360p/old-convention.mp4"])
def test_a_file_outside_drop_is_an_api_input_not_a_drop(local: Local, tiny_clip: Path, key: str) -> None:
    """Any key outside drop/ (a folder named like a template too) waits for create_task: no task, no event."""
    input_url = local.upload(tiny_clip, key)
    after = f"drop/MP4_264_360p/after {key.replace('/', '-')}"
    local.upload(tiny_clip, after)
    local.wait_for_drop(after)  # a later drop has become a task: any task for the first key would exist by now
    assert local.tasks_for_input(input_url) == []
    assert local.run_task(input_url, "from-api")["status"] == "success"


def test_unknown_prefix_is_a_failed_task_naming_it(local: Local, tiny_clip: Path) -> None:
    local.upload(tiny_clip, "drop/no_such_template/clip.mp4")
    data = local.wait_for_drop("drop/no_such_template/clip.mp4")
    assert (data["status"], data["err_code"]) == ("fail", 1002)
    assert "'no_such_template'" in data["err_message"]


def test_folder_markers_and_empty_files_create_no_task(local: Local, tiny_clip: Path) -> None:
    local.s3.put_object(Bucket=local.input_bucket, Key="drop/MP4_264_360p/folder/", Body=b"")
    local.s3.put_object(Bucket=local.input_bucket, Key="drop/MP4_264_360p/empty.mp4", Body=b"")
    local.upload(tiny_clip, "drop/MP4_264_360p/after-the-empty-ones.mp4")
    local.wait_for_drop("drop/MP4_264_360p/after-the-empty-ones.mp4")  # the queue got past them
    assert local.tasks_for_input(f"s3://{local.input_bucket}/drop/MP4_264_360p/folder/") == []
    assert local.tasks_for_input(f"s3://{local.input_bucket}/drop/MP4_264_360p/empty.mp4") == []


def test_two_quick_uploads_of_one_key_each_get_the_output_of_their_own_content(
    local: Local, clips: dict[str, Path], tiny_clip: Path, tmp_path: Path
) -> None:
    """Back to back, before the first task reads its input: each task transcodes its own version, and each
    task's output_url serves that output though both wrote the same output key."""
    key = "drop/MP4_264_360p/twice.mp4"
    for clip in (clips["720p"], tiny_clip):
        local.upload(clip, key)
    input_url = f"s3://{local.input_bucket}/{key}"
    deadline = time.monotonic() + 120
    while len(found := local.tasks_for_input(input_url)) < 2:
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    assert len(found) == 2, found
    views = [local.client.wait(task["task_id"], interval=0.1, timeout=300) for task in found]
    delivered = []
    for view in views:
        assert (view["status"], view["objkey"]) == ("success", "twice.mp4"), view
        path = tmp_path / f"{view['task_id']}.mp4"
        path.write_bytes(requests.get(view["output_url"], timeout=30).content)
        output = probe_file(str(path))
        # What this task probed as its input is what its output holds.
        assert abs(output.duration - float(view["duration"])) < 0.1, (output, view)
        delivered.append((round(output.duration), output.width, output.height))
    # One output per upload, not the second upload twice: 360p from the 4 s 720p clip, the 1 s 240p clip as is.
    assert sorted(delivered) == [(1, 320, 240), (4, 640, 360)]


def test_burst_of_50_files_all_become_terminal_tasks_once(local: Local, tiny_clip: Path) -> None:
    keys = [f"drop/MP4_264_360p/burst/clip {i:02d}+ü.mp4" for i in range(50)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda key: local.upload(tiny_clip, key), keys))
    deadline = time.monotonic() + 300
    pending = set(keys)
    while pending and time.monotonic() < deadline:
        for key in sorted(pending):
            found = local.tasks_for_input(f"s3://{local.input_bucket}/{key}")
            assert len(found) <= 1, f"duplicate tasks for {key}"
            if found and found[0]["status"] in ("success", "fail", "cancelled"):
                pending.discard(key)
        time.sleep(0.5)
    assert not pending, f"{len(pending)} of 50 never ended: {sorted(pending)[:3]}"
    statuses = [local.tasks_for_input(f"s3://{local.input_bucket}/{key}")[0]["status"] for key in keys]
    assert statuses == ["success"] * 50
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=OWN_PART + "burst/")
    assert sorted(o["Key"] for o in listed["Contents"]) == sorted(
        OWN_PART + k.removeprefix("drop/MP4_264_360p/") for k in keys
    )
