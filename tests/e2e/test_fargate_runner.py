"""The Fargate worker as the Plan chooses it, through local mode: there its `ecs:runTask.sync` state starts the
worker's entry point as a child process, what Fargate would run.

Local mode is started with `--context lambda_max_output_mib=1`: every output estimated over 1 MiB is one
that a Lambda's /tmp would not hold, so it goes to the worker.
"""

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localmode.media import generate_clip, probe_file
from tests.e2e.conftest import OWN_PART, Local, start_local
from transcoder_client.download import fetch

TERMINAL = ("success", "fail", "cancelled")


@pytest.fixture(scope="module")
def worker_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with start_local(tmp_path_factory.mktemp("worker-local"), context={"lambda_max_output_mib": "1"}) as started:
        yield started


def _wait(local: Local, task_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = local.client.query_task(task_id)
        if task["status"] in TERMINAL:
            return task
        time.sleep(0.2)
    raise TimeoutError(f"task {task_id} did not end within {timeout} s")


def _workers_of(pid: int) -> list[int]:
    """Processes below `pid` running the worker's entry point (`python -m worker`)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if b"worker" in command and b"-m" in command and _descends(parent, pid):
            found.append(int(entry))
    return found


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
    return False


def test_an_output_too_large_for_lambda_is_encoded_on_the_worker(worker_local: Local, tmp_path: Path) -> None:
    local = worker_local
    clip = generate_clip(str(tmp_path / "in.mp4"), seconds=20, size="1280x720", rate=25)  # ~2 MiB out at 800 kbit/s
    task_id = local.client.create_task(local.upload(clip, "worker/in.mp4"), "worker/out", template_name="MP4_264_360p")[
        "task_id"
    ]
    task = _wait(local, task_id)
    assert (task["status"], task["err_message"]) == ("success", "success")
    assert task["plan"] == {"runner": "fargate"}
    fetch(task["output_url"], str(tmp_path / "out.mp4"))
    facts = probe_file(str(tmp_path / "out.mp4"))
    assert (facts.video_codec, facts.width, facts.height, facts.frame_count, facts.audio_codec) == (
        "h264",
        640,
        360,
        500,
        "aac",
    )


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A minute of 720p: H.265 of it keeps the worker encoding long enough to be killed or cancelled."""
    return Path(
        generate_clip(str(tmp_path_factory.mktemp("worker-clip") / "long.mp4"), seconds=60, size="1280x720", rate=25)
    )


def _encoding_on_worker(local: Local, clip: Path, name: str) -> tuple[str, list[int]]:
    """A task of `clip` created and encoding on the worker: its id and the worker's processes."""
    task_id = local.client.create_task(
        local.upload(clip, f"worker/{name}.mp4"), f"worker/{name}", template_name="MP4_265_720p"
    )["task_id"]
    deadline = time.monotonic() + 120
    while not (workers := _workers_of(local.process.pid)) or local.client.query_task(task_id)["status"] != "running":
        assert time.monotonic() < deadline, "the worker never started encoding"
        time.sleep(0.2)
    return task_id, workers


def test_a_worker_killed_mid_encode_fails_the_task(worker_local: Local, long_clip: Path) -> None:
    local = worker_local
    task_id, workers = _encoding_on_worker(local, long_clip, "long")
    for pid in workers:
        os.kill(pid, signal.SIGKILL)  # as Fargate's OOM killer or a lost host would
    task = _wait(local, task_id, timeout=120)
    assert (task["status"], task["err_code"]) == ("fail", 3001)
    assert "Fargate worker stopped" in task["err_message"], task["err_message"]


def test_cancelling_a_task_on_the_worker_stops_the_worker(worker_local: Local, long_clip: Path) -> None:
    """The worker stops by whichever comes first: Step Functions stopping the .sync ECS task with the stopped
    execution (that path alone: tests/integration/test_worker_local_mode.py), or the worker's own next progress
    write finding the task cancelled. Either way no worker outlives the task and nothing is written."""
    local = worker_local
    task_id, workers = _encoding_on_worker(local, long_clip, "cancel")
    local.client.cancel_task(task_id)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"worker processes {workers} still run after cancel_task"
        time.sleep(0.2)
    task = _wait(local, task_id, timeout=30)
    assert (task["status"], task["err_code"]) == ("cancelled", 5001)
    written = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=f"{OWN_PART}worker/cancel")
    assert written["KeyCount"] == 0, "a cancelled task wrote an output"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
