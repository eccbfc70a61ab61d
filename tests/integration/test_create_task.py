"""create_task: validation against the deployment, the pending task, one execution per task."""

import json
import os

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import Aws
from transcoder import repository, tasks
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.settings import settings


def test_creates_pending_task_and_one_named_execution(aws: Aws) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url="s3://test-input/in/clip.mp4",
        output="out/clip",
        template_name="MP4_265_720p",
    )
    stored = repository.get(task.task_id)
    assert stored is not None
    assert stored.status == "pending"
    assert stored.objkey == "out/clip.mp4"
    assert stored.bucket == "test-output"
    assert stored.template_id == "builtin-MP4-265-720p"

    executions = aws.sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"]
    assert [e["name"] for e in executions] == [task.task_id]
    execution = aws.sfn.describe_execution(executionArn=executions[0]["executionArn"])
    payload = json.loads(execution["input"])
    assert payload["input"] == {"bucket": "test-input", "key": "in/clip.mp4"}
    # The objkey the caller sees, and where it is stored: in the account's part of the output bucket.
    assert payload["destination"] == {
        "bucket": "test-output",
        "key": "accounts/default/out/clip.mp4",
        "objkey": "out/clip.mp4",
        "storage_id": "default",
    }
    assert payload["template"]["vcodec"] == "h265"


def test_template_id_works_like_template_name(aws: Aws) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url="s3://test-input/a.mp4",
        output="a",
        template_id="builtin-MP4-264-Original",
    )
    assert task.template_name == "MP4_264_Original"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"input_url": "s3://elsewhere/a.mp4"}, "input"),
        ({"input_url": "http://test-input/a.mp4"}, "input"),
        ({"input_url": "s3://test-input/"}, "input"),
        ({"template_name": "MP4_264_9000p"}, "template_name"),
        ({"template_name": None, "template_id": "nope"}, "template_id"),
        ({"template_name": None}, "template_name"),
        ({"storage_id": "other"}, "storage_id"),
        ({"output": "../escape"}, "output"),
        ({"output": "/abs/path"}, "output"),
        ({"output": "a\x00b"}, "output"),
    ],
)
def test_invalid_fields_are_named(aws: Aws, fields: dict[str, str | None], field: str) -> None:
    request: dict[str, str | None] = {
        "input_url": "s3://test-input/a.mp4",
        "output": "a",
        "template_name": "MP4_264_360p",
        **fields,
    }
    with pytest.raises(tasks.InvalidParameter) as raised:
        tasks.create_task(account_id=DEFAULT_ACCOUNT, **request)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert aws.sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"] == []


def test_pipeline_that_cannot_start_leaves_a_failed_task_not_a_stuck_one(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.sfn.delete_state_machine(stateMachineArn=settings().state_machine_arn)
    created: list[str] = []
    original_insert = repository.insert
    monkeypatch.setattr(repository, "insert", lambda task: (created.append(task.task_id), original_insert(task)))
    with pytest.raises(ClientError):
        tasks.create_task(
            account_id=DEFAULT_ACCOUNT, input_url="s3://test-input/a.mp4", output="a", template_name="MP4_264_360p"
        )
    task = repository.get(created[0])
    assert task is not None
    assert (task.status, task.err_code) == ("fail", 9000)


def test_task_view_presigns_output_only_on_success(aws: Aws) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url="s3://test-input/a.mp4", output="a", template_name="MP4_264_360p"
    )
    view = tasks.task_view(task)
    assert view["input_url"].startswith(os.environ["AWS_ENDPOINT_URL"] + "/test-input/")
    assert "X-Amz-Signature=" in view["input_url"]
    assert view["output_url"] == ""
    assert isinstance(view["src_bitrate"], float)
    assert isinstance(view["create_time"], int)
