"""No task stays non-terminal, through local mode: an execution stopped outside the service (StopExecution called
directly, as from the console) ends its running task fail 9001 within seconds, through the template's rule."""

import time
from pathlib import Path

import boto3

from localmode.media import generate_clip
from tests.e2e.conftest import Local

ENDED_WITHIN_SECONDS = 15.0
"""The rule's function ends the task at once; the encode's watcher (every 2 s) then stops its ffmpeg."""


def test_execution_stopped_directly_ends_its_running_task_9001(local: Local, tmp_path: Path) -> None:
    # Long enough in H.265 to still be encoding when it is stopped, on a busy 2-core machine.
    clip = generate_clip(str(tmp_path / "long.mp4"), seconds=20, size="1280x720", rate=30)
    input_url = local.upload(clip, "stuck/long.mp4")
    task_id = local.client.create_task(input_url, "stuck/long", template_name="MP4_265_720p")["task_id"]
    deadline = time.monotonic() + 120
    while (status := (task := local.client.query_task(task_id))["status"]) != "running":
        assert status in ("pending", "downloading"), f"the task ended before it could be stopped: {status} {task}"
        assert time.monotonic() < deadline, "the task never started encoding"
        time.sleep(0.1)

    sfn = boto3.client("stepfunctions", endpoint_url=local.aws_url, region_name="us-east-1")
    (machine,) = sfn.list_state_machines()["stateMachines"]
    execution_arn = f"{machine['stateMachineArn'].replace(':stateMachine:', ':execution:')}:{task_id}"
    sfn.stop_execution(executionArn=execution_arn, error="Operator", cause="stopped in the console")
    stopped = time.monotonic()
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "ABORTED"

    data = local.client.wait(task_id, interval=0.1, timeout=60)
    assert time.monotonic() - stopped < ENDED_WITHIN_SECONDS
    assert (data["status"], data["err_code"]) == ("fail", 9001), data
    assert data["err_message"] == "the task's execution was stopped outside the service"
    assert data["output_url"] == ""
    # The encode notices its task ended, stops its ffmpeg and discards its work: nothing is left behind.
    while _work_files(local, task_id) and time.monotonic() - stopped < 2 * ENDED_WITHIN_SECONDS:
        time.sleep(0.2)
    assert _work_files(local, task_id) == 0, "work files left behind"
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix="accounts/default/stuck/long")
    assert listed.get("KeyCount", 0) == 0, "an output was written for a task that was stopped"


def _work_files(local: Local, task_id: str) -> int:
    return int(local.s3.list_objects_v2(Bucket=local.work_bucket, Prefix=f"tasks/{task_id}/").get("KeyCount", 0))
