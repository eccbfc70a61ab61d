"""Callbacks and events: the task table's stream, the notify and callback functions, their queues and roles."""

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from tests.infra.conftest import Synthesized

NOTIFY = "handlers.notify.handler"
CALLBACK = "handlers.callback.handler"
QUEUE = "AWS::SQS::Queue"


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    paths = {
        "Tasks": "Storage/Tasks",
        "Queue": "Callbacks/Queue",
        "DeadLetters": "Callbacks/DeadLetters",
        "StreamFailures": "Callbacks/StreamFailures",
        "AccessKeys": "Storage/AccessKeys",
        "AccessKeyEncryption": "Storage/AccessKeyEncryption",
        "Input": "Storage/Input",
        "Output": "Storage/Output",
    }
    return {name: synthesized.logical_id(path) for name, path in paths.items()}


def _arn(logical_id: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def _mapping_of(synthesized: Synthesized, handler: str) -> dict[str, Any]:
    function_id, _ = synthesized.function_by_handler(handler)
    mappings = [
        m["Properties"]
        for m in synthesized.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert len(mappings) == 1, mappings
    return mappings[0]


def test_task_table_streams_new_and_old_images(synthesized: Synthesized, ids: dict[str, str]) -> None:
    properties = synthesized.resources("AWS::DynamoDB::Table")[ids["Tasks"]]["Properties"]
    assert properties["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    others = [
        k for k, t in synthesized.resources("AWS::DynamoDB::Table").items() if "StreamSpecification" in t["Properties"]
    ]
    assert others == [ids["Tasks"]]


def test_notify_reads_the_stream_filtered_to_terminal_statuses(synthesized: Synthesized, ids: dict[str, str]) -> None:
    mapping = _mapping_of(synthesized, NOTIFY)
    assert mapping["EventSourceArn"] == _arn(ids["Tasks"], "StreamArn")
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRecordAgeInSeconds"] == 86400
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": _arn(ids["StreamFailures"])}}
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert pattern == {
        "eventName": ["INSERT", "MODIFY"],
        "dynamodb": {"NewImage": {"status": {"S": ["success", "fail", "cancelled"]}}},
    }


def test_callback_consumes_the_queue_with_partial_failures(synthesized: Synthesized, ids: dict[str, str]) -> None:
    mapping = _mapping_of(synthesized, CALLBACK)
    assert mapping["EventSourceArn"] == _arn(ids["Queue"])
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    _, function = synthesized.function_by_handler(CALLBACK)
    timeout = function["Properties"]["Timeout"]
    # Each record: one POST of at most 15 s (connect 5 + read 10).
    assert timeout >= mapping["BatchSize"] * 15


def test_queues_are_encrypted_tls_only_and_dead_lettered(synthesized: Synthesized, ids: dict[str, str]) -> None:
    queues = synthesized.resources(QUEUE)
    for name in ("Queue", "DeadLetters", "StreamFailures"):
        assert queues[ids[name]]["Properties"]["SqsManagedSseEnabled"] is True, name
        synthesized.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": ids[name]}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                },
            },
        )
    queue = queues[ids["Queue"]]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == _arn(ids["DeadLetters"])
    # Retries last 24 h: the queue keeps messages longer, so the function dead-letters them, not retention.
    assert queue["MessageRetentionPeriod"] > 86400
    assert queue["RedrivePolicy"]["maxReceiveCount"] > 35  # more than the backoff's attempts in 24 h
    _, function = synthesized.function_by_handler(CALLBACK)
    assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]


def test_notify_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = synthesized.allowed(NOTIFY)
    assert allowed.pop("events:PutEvents") == [
        {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    ":events:",
                    {"Ref": "AWS::Region"},
                    ":",
                    {"Ref": "AWS::AccountId"},
                    ":event-bus/default",
                ],
            ]
        }
    ]
    assert allowed.pop("sqs:SendMessage") == [_arn(ids["Queue"]), _arn(ids["StreamFailures"])]
    assert allowed.pop("dynamodb:ListStreams") == ["*"]  # no resource-level permissions (acknowledged)
    for action in ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"):
        assert allowed.pop(action) == [_arn(ids["Tasks"], "StreamArn")], action
    for action in ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "logs:CreateLogStream", "logs:PutLogEvents"):
        allowed.pop(action)
    assert allowed == {}, "notify needs nothing else: no table reads, no keys, no S3"


def test_callback_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = synthesized.allowed(CALLBACK)
    assert allowed.pop("kms:Decrypt") == [_arn(ids["AccessKeyEncryption"])]
    synthesized.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "kms:Decrypt",
                            "Effect": "Allow",
                            "Resource": _arn(ids["AccessKeyEncryption"]),
                            "Condition": {
                                "StringEquals": {"kms:EncryptionContext:purpose": "transcoder-api-access-key"}
                            },
                        }
                    ]
                )
            },
            "Roles": [{"Ref": synthesized.function_by_handler(CALLBACK)[1]["Properties"]["Role"]["Fn::GetAtt"][0]}],
        },
    )
    assert allowed.pop("dynamodb:GetItem") == [_arn(ids["AccessKeys"])]
    # Presigning the versions tasks read and wrote (the callback carries input_url and output_url).
    for action in ("s3:GetObject", "s3:GetObjectVersion"):
        assert sorted(map(json.dumps, allowed.pop(action))) == sorted(
            json.dumps({"Fn::Join": ["", [_arn(ids[b]), suffix]]})
            for b, suffix in (("Input", "/*"), ("Output", "/accounts/*"))
        ), action
    assert allowed.pop("sqs:SendMessage") == [_arn(ids["DeadLetters"])]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
        assert allowed.pop(action) == [_arn(ids["Queue"])], action
    for action in ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "logs:CreateLogStream", "logs:PutLogEvents"):
        allowed.pop(action)
    assert allowed == {}, "callback needs nothing else: no task table, no events"


def test_environment_names_the_queues_and_the_keys(synthesized: Synthesized, ids: dict[str, str]) -> None:
    for handler in (NOTIFY, CALLBACK):
        variables = synthesized.function_by_handler(handler)[1]["Properties"]["Environment"]["Variables"]
        assert variables["CALLBACK_QUEUE_URL"] == {"Ref": ids["Queue"]}, handler
        assert variables["CALLBACK_DEAD_LETTER_QUEUE_URL"] == {"Ref": ids["DeadLetters"]}, handler
        assert variables["KEYS_TABLE"] == {"Ref": ids["AccessKeys"]}, handler
        assert "STATE_MACHINE_ARN" not in variables, handler
    assert synthesized.template_dict["Outputs"]["CallbackDeadLetterQueueUrl"]["Value"] == {"Ref": ids["DeadLetters"]}
