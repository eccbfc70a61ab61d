"""No task stays non-terminal: the execution-end rule, the sweep's schedule, their functions, queue and roles."""

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized

EXECUTION_ENDED = "handlers.reconcile.execution_ended"
SWEEP = "handlers.reconcile.sweep"
RULE = "AWS::Events::Rule"


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    paths = {
        "Tasks": "Storage/Tasks",
        "Work": "Storage/Work",
        "StateMachine": "Pipeline/StateMachine",
        "DeadLetters": "Reconcile/DeadLetters",
        "ExecutionEndedRule": "Reconcile/ExecutionEndedRule",
        "SweepSchedule": "Reconcile/SweepSchedule",
    }
    return {name: synthesized.logical_id(path) for name, path in paths.items()}


def _target(rule: dict[str, Any]) -> dict[str, Any]:
    (target,) = rule["Properties"]["Targets"]
    return target


def test_rule_passes_this_machines_ended_executions_to_the_function(
    synthesized: Synthesized, ids: dict[str, str]
) -> None:
    rule = synthesized.resources(RULE)[ids["ExecutionEndedRule"]]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"stateMachineArn": [{"Ref": ids["StateMachine"]}], "status": ["TIMED_OUT", "ABORTED", "FAILED"]},
    }
    function_id, _ = synthesized.function_by_handler(EXECUTION_ENDED)
    target = _target(rule)
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [ids["DeadLetters"], "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 7200}
    synthesized.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [function_id, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": [ids["ExecutionEndedRule"], "Arn"]},
        },
    )


def test_sweep_runs_on_its_schedule_with_retries_within_the_interval(
    synthesized: Synthesized, ids: dict[str, str]
) -> None:
    rule = synthesized.resources(RULE)[ids["SweepSchedule"]]
    assert rule["Properties"]["ScheduleExpression"] == "rate(10 minutes)"
    function_id, _ = synthesized.function_by_handler(SWEEP)
    target = _target(rule)
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [ids["DeadLetters"], "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}


def test_settings_reach_the_schedule_and_the_functions(synth_variant: Callable[..., Synthesized]) -> None:
    variant = synth_variant(
        {"transcoder": {"sweep_interval_minutes": 3, "stuck_pending_seconds": 120, "stuck_grace_seconds": 300}}
    )
    (schedule,) = [r for r in variant.resources(RULE).values() if "ScheduleExpression" in r["Properties"]]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(3 minutes)"
    for handler in (EXECUTION_ENDED, SWEEP):
        _, function = variant.function_by_handler(handler)
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["STUCK_PENDING_SECONDS"] == "120"
        assert variables["STUCK_GRACE_SECONDS"] == "300"
        assert variables["EXECUTION_TIMEOUT_SECONDS"] == "43200"  # the state machine's own 12 h


def test_state_machine_timeout_is_the_one_the_functions_know(synthesized: Synthesized, ids: dict[str, str]) -> None:
    definition = synthesized.resources("AWS::StepFunctions::StateMachine")[ids["StateMachine"]]["Properties"]
    joined = "".join(part if isinstance(part, str) else "" for part in definition["DefinitionString"]["Fn::Join"][1])
    assert '"TimeoutSeconds":43200' in joined


def test_dead_letter_queue_is_encrypted_tls_only_and_only_the_rules_send(
    synthesized: Synthesized, ids: dict[str, str]
) -> None:
    queue = synthesized.resources("AWS::SQS::Queue")[ids["DeadLetters"]]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    synthesized.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": ids["DeadLetters"]}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": {
                                    "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [ids["SweepSchedule"], "Arn"]}}
                                },
                            }
                        ),
                    ]
                )
            },
        },
    )


def _work_objects(ids: dict[str, str]) -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [ids["Work"], "Arn"]}, "/tasks/*"]]}


def test_execution_ended_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = synthesized.allowed(EXECUTION_ENDED)
    table = {"Fn::GetAtt": [ids["Tasks"], "Arn"]}
    assert allowed.pop("dynamodb:GetItem") == [table]
    assert allowed.pop("dynamodb:UpdateItem") == [table]
    assert allowed.pop("s3:ListBucket") == [{"Fn::GetAtt": [ids["Work"], "Arn"]}]
    assert allowed.pop("s3:DeleteObject") == [_work_objects(ids)]
    # Lambda's on-failure destination (CDK's grantSendMessages), on the dead-letter queue only.
    for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"):
        assert _dead_letters_only(allowed.pop(action), ids)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        allowed.pop(action)
    assert allowed == {}, "no Step Functions, no other table: the event carries what it needs"


def test_sweep_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = synthesized.allowed(SWEEP)
    table = {"Fn::GetAtt": [ids["Tasks"], "Arn"]}
    assert allowed.pop("dynamodb:GetItem") == [table]
    assert allowed.pop("dynamodb:UpdateItem") == [table]
    (index,) = allowed.pop("dynamodb:Query")
    assert index == {"Fn::Join": ["", [table, "/index/open-create_time"]]}
    # The executions of this state machine, exactly those the API may stop (cancel_task).
    stoppable = synthesized.allowed("handlers.api.handler")["states:StopExecution"]
    assert allowed.pop("states:DescribeExecution") == stoppable
    assert allowed.pop("s3:ListBucket") == [{"Fn::GetAtt": [ids["Work"], "Arn"]}]
    assert allowed.pop("s3:DeleteObject") == [_work_objects(ids)]
    # Lambda's on-failure destination (CDK's grantSendMessages), on the dead-letter queue only.
    for action in ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"):
        assert _dead_letters_only(allowed.pop(action), ids)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        allowed.pop(action)
    assert allowed == {}, "only describing executions: never starting or stopping one"


def test_dead_letter_queue_is_an_output(synthesized: Synthesized, ids: dict[str, str]) -> None:
    assert synthesized.template_dict["Outputs"]["ReconcileDeadLetterQueueUrl"]["Value"] == {"Ref": ids["DeadLetters"]}


def _dead_letters_only(resources: list[Any], ids: dict[str, str]) -> bool:
    return resources == [{"Fn::GetAtt": [ids["DeadLetters"], "Arn"]}]


@pytest.mark.parametrize("handler", [EXECUTION_ENDED, SWEEP])
def test_function_errors_are_retried_by_lambda_then_dead_lettered(
    synthesized: Synthesized, ids: dict[str, str], handler: str
) -> None:
    function_id, _ = synthesized.function_by_handler(handler)
    synthesized.template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": function_id},
            "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [ids["DeadLetters"], "Arn"]}}},
        },
    )
