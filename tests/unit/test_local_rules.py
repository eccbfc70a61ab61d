"""Local mode's EventBridge: the template's rules resolved to local functions, execution ends in AWS's shape."""

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from localmode.executions import status_change_event
from localmode.functions import FunctionRegistry, LocalFunction
from localmode.rules import (
    SCHEDULE_SECONDS_ENV,
    EventRules,
    RuleTarget,
    ScheduleRunner,
    deliver,
    rate_seconds,
    rules_of,
    scheduled_event,
)
from localmode.streams import matches
from localmode.template import LocalTemplate

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Transcoder-Machine"
_TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}},
        "Ended": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Sweep": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Letters": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "EndedRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": {
                    "source": ["aws.states"],
                    "detail-type": ["Step Functions Execution Status Change"],
                    "detail": {"stateMachineArn": [{"Ref": "Machine"}], "status": ["TIMED_OUT", "ABORTED", "FAILED"]},
                },
                "State": "ENABLED",
                "Targets": [
                    {
                        "Arn": {"Fn::GetAtt": ["Ended", "Arn"]},
                        "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Letters", "Arn"]}},
                        "Id": "Target0",
                        "RetryPolicy": {"MaximumEventAgeInSeconds": 7200, "MaximumRetryAttempts": 8},
                    }
                ],
            },
        },
        "SweepRule": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(10 minutes)",
                "State": "ENABLED",
                "Targets": [{"Arn": {"Fn::GetAtt": ["Sweep", "Arn"]}, "Id": "Target0"}],
            },
        },
    }
}


def _event(status: str, machine: str = MACHINE) -> dict[str, Any]:
    started = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    return status_change_event(
        execution_arn=machine.replace(":stateMachine:", ":execution:") + ":01abc",
        state_machine_arn=machine,
        name="01abc",
        status=status,
        start_date=started,
        stop_date=datetime(2026, 11, 30, 12, 0, 5),  # naive, as moto dates a stop: UTC
        input_text='{"task_id":"01abc"}',
    )


def test_status_change_event_has_the_documented_shape() -> None:
    event = _event("ABORTED")
    assert {k: v for k, v in event.items() if k not in ("id", "detail")} == {
        "version": "0",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": "123456789012",
        "time": "2026-11-30T12:00:05Z",
        "region": "us-east-1",
        "resources": [MACHINE.replace(":stateMachine:", ":execution:") + ":01abc"],
    }
    assert event["detail"] == {
        "executionArn": MACHINE.replace(":stateMachine:", ":execution:") + ":01abc",
        "stateMachineArn": MACHINE,
        "name": "01abc",
        "status": "ABORTED",
        "startDate": int(datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC).timestamp() * 1000),
        "stopDate": int(datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC).timestamp() * 1000),
        "input": '{"task_id":"01abc"}',
        "output": None,
        "inputDetails": {"included": True},
        "outputDetails": None,
        "error": None,
        "cause": None,
    }
    json.dumps(event)  # what a Lambda receives is JSON


def test_rules_resolve_to_local_functions_and_queues() -> None:
    patterns, schedules = rules_of(LocalTemplate(_TEMPLATE))
    (rule,) = patterns
    assert rule.pattern["detail"]["stateMachineArn"] == [MACHINE]
    (target,) = rule.targets
    assert (target.function_name, target.retry_attempts, target.dead_letter_queue) == (
        "Transcoder-Ended",
        8,
        "Transcoder-Letters",
    )
    (schedule,) = schedules
    assert schedule.interval_seconds == 600
    assert schedule.targets[0].function_name == "Transcoder-Sweep"
    assert scheduled_event(schedule)["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/Transcoder-SweepRule"]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_event("ABORTED"), True),
        (_event("TIMED_OUT"), True),
        (_event("FAILED"), True),
        (_event("SUCCEEDED"), False),
        (_event("RUNNING"), False),
        (_event("ABORTED", machine=MACHINE + "-other"), False),
        ({**_event("ABORTED"), "source": "transcoder"}, False),
    ],
)
def test_the_pattern_passes_only_this_machines_ended_executions(event: dict[str, Any], expected: bool) -> None:
    (rule,), _ = rules_of(LocalTemplate(_TEMPLATE))
    assert matches(rule.pattern, event) is expected


def test_matching_events_are_delivered_to_the_target(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict[str, Any]] = []
    registry = FunctionRegistry()
    registry.add(LocalFunction("Transcoder-Ended", "arn", "json.dumps", 60, 128))
    monkeypatch.setattr(
        LocalFunction, "handler", lambda self: lambda event, context: received.append(event) or {"ok": True}
    )
    rules = EventRules(registry)
    rules.rules, _ = rules_of(LocalTemplate(_TEMPLATE))
    for delivery in rules.put(_event("SUCCEEDED")) + rules.put(_event("ABORTED")):
        delivery.join(timeout=10)
    assert [event["detail"]["status"] for event in received] == ["ABORTED"]


@pytest.mark.parametrize(
    ("expression", "seconds"), [("rate(1 minute)", 60), ("rate(10 minutes)", 600), ("rate(2 hours)", 7200)]
)
def test_rate_schedules(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["cron(0 * * * ? *)", "rate(five minutes)"])
def test_other_schedules_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="only rate"):
        rate_seconds(expression)


def test_non_lambda_targets_are_refused() -> None:
    template = json.loads(json.dumps(_TEMPLATE))
    template["Resources"]["SweepRule"]["Properties"]["Targets"][0]["Arn"] = {"Fn::GetAtt": ["Letters", "Arn"]}
    with pytest.raises(ValueError, match="only those are emulated"):
        rules_of(LocalTemplate(template))


def test_scheduled_rules_run_at_the_local_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict[str, Any]] = []
    registry = FunctionRegistry()
    registry.add(LocalFunction("Transcoder-Sweep", "arn", "json.dumps", 60, 128))
    monkeypatch.setattr(
        LocalFunction, "handler", lambda self: lambda event, context: received.append(event) or {"ok": True}
    )
    monkeypatch.setenv(SCHEDULE_SECONDS_ENV, "0.05")
    _, (schedule,) = rules_of(LocalTemplate(_TEMPLATE))
    runner = ScheduleRunner(registry, schedule)
    assert runner.interval_seconds == 0.05
    runner.start()
    deadline = time.monotonic() + 10
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    runner.stop()
    assert len(received) >= 3
    assert {(event["source"], event["detail-type"]) for event in received} == {("aws.events", "Scheduled Event")}


def test_a_target_that_keeps_failing_is_retried_then_dead_lettered(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    registry = FunctionRegistry()
    registry.add(LocalFunction("Transcoder-Ended", "arn", "json.dumps", 60, 128))

    def failing(event: dict[str, Any], context: Any) -> None:
        calls.append(1)
        raise RuntimeError("down")

    monkeypatch.setattr(LocalFunction, "handler", lambda self: failing)
    monkeypatch.setattr("localmode.rules.RETRY_SECONDS", 0)
    target = RuleTarget(function_name="Transcoder-Ended", retry_attempts=2, dead_letter_queue="Transcoder-Letters")
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="Transcoder-Letters")["QueueUrl"]
        assert deliver(registry, target, _event("ABORTED")) is False
        (message,) = sqs.receive_message(QueueUrl=url).get("Messages", [])
    assert len(calls) == 3
    assert json.loads(message["Body"])["detail"]["status"] == "ABORTED"
