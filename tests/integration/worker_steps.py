"""What the worker's tests share: a task downloaded and ready for the worker, and waiting for its progress."""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Aws
from transcoder import pipeline, repository, tasks
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.settings import settings


def downloaded(aws: Aws, clip: Path, template: str) -> dict[str, Any]:
    """The payload the ECS state would pass: the execution's input with Download's result at `$.source`."""
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=clip.read_bytes())
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="out/clip",
        template_name=template,
    )
    execution = aws.sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"][-1]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert event["task_id"] == task.task_id
    event["source"] = pipeline.download(event)
    return event


def wait_for_progress(task_id: str, worker: "subprocess.Popen[Any]", at_least: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        task = repository.get(task_id)
        if task is not None and task.status == "running" and task.progress >= at_least:
            return
        time.sleep(0.2)
    pytest.fail(f"the worker never reported {at_least}% (exit {worker.poll()})")
