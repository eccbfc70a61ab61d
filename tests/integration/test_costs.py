"""Costs against moto: max_cost refused at Plan (2006), its validation (1002), the account's default, and `cost`
added by the steps' handlers (atomically, across invocations at once)."""

import json
import threading
from pathlib import Path
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from handlers import pipeline as handlers
from localmode.functions import LocalContext
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call
from transcoder import charges, ingest, pipeline, repository, tasks
from transcoder.auth import accounts
from transcoder.errors import CostOverCap
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.pricing import Prices
from transcoder.settings import settings

ARN = "arn:aws:lambda:us-east-1:123456789012:function:step"


def _context(memory_mb: int) -> LambdaContext:
    """What Lambda hands the handler; local mode's stands in for it, as in local mode."""
    return cast(LambdaContext, LocalContext("step", memory_mb, ARN, 900))


def _start(aws: Aws, clip: Path, **fields: Any) -> dict[str, Any]:
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=clip.read_bytes())
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/in/clip.mp4",
        output="out/clip",
        template_name="MP4_264_360p",
        **fields,
    )
    execution = aws.sfn.list_executions(stateMachineArn=settings().state_machine_arn)["executions"][0]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert event["task_id"] == task.task_id
    return event


def _objects(aws: Aws, bucket: str) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_task_over_its_max_cost_fails_2006_at_plan_before_any_encode(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p, max_cost=0.000001)
    event["source"] = handlers.download(event, _context(1024))
    with pytest.raises(CostOverCap) as refused:
        handlers.plan(event, _context(1024))
    # What the Catch hands RecordFailure: the error's name and Lambda's errorType/errorMessage.
    cause = json.dumps({"errorType": "CostOverCap", "errorMessage": str(refused.value)})
    handlers.record_failure({**event, "error": {"Error": "CostOverCap", "Cause": cause}}, _context(1024))

    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code) == ("fail", 2006)
    assert task.estimated_cost > 0.000001
    assert f"${task.estimated_cost:.6f}" in task.err_message
    assert "exceeds max_cost $0.000001" in task.err_message
    assert task.progress < 10, "the task never reached the encode (running)"
    assert task.plan == {}
    assert _objects(aws, aws.output_bucket) == []
    assert _objects(aws, aws.work_bucket) == []
    # Download, Plan and RecordFailure were charged, and the refused path's transitions.
    assert task.cost > 3 * Prices().lambda_request


def test_a_task_under_its_max_cost_runs_and_records_both_costs(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p, max_cost=5)
    event["source"] = handlers.download(event, _context(1024))
    event["plan"] = handlers.plan(event, _context(1024))
    event["transcoded"] = handlers.transcode(event, _context(3008))
    event["delivered"] = handlers.upload(event, _context(1024))
    status, body = _call("GET", f"/api/query_task?task_id={event['task_id']}")
    assert status == 200
    data = body["data"]
    assert (data["status"], data["max_cost"]) == ("success", 5.0)
    assert 0 < data["estimated_cost"] < 5
    assert data["cost"] > 0
    # Four invocations at their memory, and the transitions and requests as estimated: within reach of the estimate.
    assert data["cost"] == pytest.approx(data["estimated_cost"], rel=0.9)


@pytest.mark.parametrize("max_cost", [0, -0.5, "1", True, None, 2e6])
def test_a_bad_max_cost_is_1002_naming_the_field(aws: Aws, max_cost: object) -> None:
    body = {**VALID, "max_cost": max_cost}
    if max_cost is None:
        # null is "not given": the account's default (none here) applies.
        _, response = _call("POST", "/api/create_task", body)
        assert response["code"] == 0
        return
    status, response = _call("POST", "/api/create_task", body)
    assert (status, response["code"]) == (400, 1002), response
    assert "max_cost" in response["msg"]


def test_the_domain_refuses_a_bad_max_cost_for_every_caller(aws: Aws) -> None:
    with pytest.raises(tasks.InvalidParameter) as refused:
        tasks.create_task(
            account_id=DEFAULT_ACCOUNT,
            input_url=f"s3://{aws.input_bucket}/a.mp4",
            output="a",
            template_name="MP4_264_360p",
            max_cost=-1,
        )
    assert refused.value.field == "max_cost"
    with pytest.raises(ValueError, match="max_cost"):
        accounts.set_max_cost(DEFAULT_ACCOUNT, 0)


def test_the_account_default_applies_to_requests_and_drops_without_one(aws: Aws, clip_720p: Path) -> None:
    accounts.set_max_cost(DEFAULT_ACCOUNT, 0.25)
    _, response = _call("POST", "/api/create_task", VALID)
    assert response["code"] == 0
    task = repository.get(response["data"]["task_id"])
    assert task is not None and task.max_cost == 0.25
    # The request's own cap wins.
    _, response = _call("POST", "/api/create_task", {**VALID, "output": "b", "max_cost": 1.5})
    task = repository.get(response["data"]["task_id"])
    assert task is not None and task.max_cost == 1.5
    # A dropped file's task (account default) gets it too.
    aws.s3.put_object(Bucket=aws.input_bucket, Key="drop/MP4_264_360p/c.mp4", Body=clip_720p.read_bytes())
    dropped = ingest.DroppedObject(aws.input_bucket, "drop/MP4_264_360p/c.mp4", clip_720p.stat().st_size, "v1")
    assert ingest.create_task_for_drop(dropped).max_cost == 0.25
    accounts.set_max_cost(DEFAULT_ACCOUNT, None)
    _, response = _call("POST", "/api/create_task", {**VALID, "output": "d"})
    task = repository.get(response["data"]["task_id"])
    assert task is not None and task.max_cost == 0
    # The account's settings item is no access key: not listed, not usable to sign.
    from transcoder.auth import keys

    assert all(key.access_key_id.isalnum() for key in keys.list_all())
    assert keys.enabled_secret(accounts.ACCOUNT_ITEM_PREFIX + DEFAULT_ACCOUNT) is None


def test_cost_accumulates_across_invocations_at_once(aws: Aws) -> None:
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url=f"s3://{aws.input_bucket}/a.mp4", output="a", template_name="MP4_264_360p"
    )
    runs = 12

    @charges.charged
    def step(event: dict[str, Any], context: Any) -> None:
        barrier.wait()  # every invocation charges at the same moment

    barrier = threading.Barrier(runs)
    threads = [threading.Thread(target=step, args=({"task_id": task.task_id}, _context(3008))) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = repository.get(task.task_id)
    assert stored is not None
    # Each at least its request and a millisecond at 3,008 MB; none lost to a concurrent write.
    least = Prices().lambda_invocation(0.001, 3008, "x86_64")
    assert stored.cost >= runs * least
    assert stored.cost < runs * Prices().lambda_invocation(30, 3008, "x86_64")
    # One more, a known 250 ms, adds exactly its price.
    before = stored.cost
    charges.charge(task.task_id, Prices().lambda_invocation(0.25, 3008, "x86_64"))
    after = repository.get(task.task_id)
    assert after is not None
    assert after.cost - before == pytest.approx(0.25 * 3008 / 1024 * 0.0000166667 + 0.2e-6, rel=1e-6)


def test_a_failing_step_is_charged_too(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p)
    with pytest.raises(ValidationError):  # no `source` yet: the step refuses its event
        handlers.transcode(event, _context(3008))
    task = repository.get(event["task_id"])
    assert task is not None and task.cost >= Prices().lambda_request


def test_pipeline_steps_called_directly_are_not_charged(aws: Aws, clip_720p: Path) -> None:
    """Only the handlers (what Lambda runs) charge: the domain steps stay free of billing concerns."""
    event = _start(aws, clip_720p)
    pipeline.download(event)
    task = repository.get(event["task_id"])
    assert task is not None and task.cost == 0


@pytest.mark.parametrize("dollars", [8e-07, 2e-7, 1e-10, 2.3333376e-06, 0.5, 3.0])
def test_a_charge_of_any_size_is_added(aws: Aws, dollars: float) -> None:
    """Charges under $0.0001 print in exponent form ('8e-07'), and so may their sums: every one is added."""
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT, input_url=f"s3://{aws.input_bucket}/a.mp4", output="a", template_name="MP4_264_360p"
    )
    for _ in range(3):
        repository.add_cost(task.task_id, dollars)
    stored = repository.get(task.task_id)
    assert stored is not None
    assert stored.cost == pytest.approx(3 * dollars, rel=1e-9)
