"""Drop-a-file: input bucket → S3 notification → SQS (dead-letter queue) → ingest function → a task.

Also the idempotency table the ingest function keeps its records in, and the DEFAULT_TEMPLATE, DROP_PREFIX
and IDEMPOTENCY_TABLE settings every service function receives.
"""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from infra.app import CDK_JSON
from infra.settings import DROP_PREFIX, DeploymentSettings
from tests.infra.conftest import CDK_NOTIFICATIONS_HANDLER, Synthesized

QUEUE = "AWS::SQS::Queue"
QUEUE_POLICY = "AWS::SQS::QueuePolicy"
TABLE = "AWS::DynamoDB::Table"
INGEST_HANDLER = "handlers.ingest.handler"
DEFAULT_TEMPLATE = ""  # unset: `drop/<name.ext>` (no template folder) ends as a failed task
FOURTEEN_DAYS = 14 * 24 * 3600
_WILDCARD = re.compile(r"\*|\?")


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    paths = {
        "Notifications": "Ingest/Notifications",
        "DeadLetters": "Ingest/DeadLetters",
        "Input": "Storage/Input",
        "Tasks": "Storage/Tasks",
        "Idempotency": "Storage/Idempotency",
        "Templates": "Storage/Templates",
        "AccessKeys": "Storage/AccessKeys",
        "Nonces": "Storage/Nonces",
        "Storages": "Storage/Storages",
        "StateMachine": "Pipeline/StateMachine",
        "IngestFunction": "Ingest/Handler/Function",
        "IngestLogs": "Ingest/Handler/Logs",
        "IngestRole": "Ingest/Handler/Role",
        "CdkHandler": CDK_NOTIFICATIONS_HANDLER,
        "CdkHandlerRole": f"{CDK_NOTIFICATIONS_HANDLER}/Role",
    }
    return {name: synthesized.logical_id(path) for name, path in paths.items()}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _queue_statements(synthesized: Synthesized, queue_id: str) -> list[dict[str, Any]]:
    policies = [
        p for p in synthesized.resources(QUEUE_POLICY).values() if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    assert len(policies) == 1, f"{queue_id} has {len(policies)} queue policies"
    assert policies[0]["Properties"]["Queues"] == [{"Ref": queue_id}]
    statements: list[dict[str, Any]] = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    return statements


# --- the queues -----------------------------------------------------------------------------------


def test_two_queues(synthesized: Synthesized, ids: dict[str, str]) -> None:
    ingest_queues = [k for k in synthesized.resources(QUEUE) if k.startswith("Ingest")]
    assert sorted(ingest_queues) == sorted([ids["Notifications"], ids["DeadLetters"]])
    policies = synthesized.resources(QUEUE_POLICY).values()
    assert len([p for p in policies if p["Properties"]["Queues"][0]["Ref"] in ingest_queues]) == 2


@pytest.mark.parametrize("queue", ["Notifications", "DeadLetters"])
def test_queue_is_encrypted_and_denies_insecure_transport(
    synthesized: Synthesized, ids: dict[str, str], queue: str
) -> None:
    queue_id = ids[queue]
    properties = synthesized.resources(QUEUE)[queue_id]["Properties"]
    assert properties["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in properties
    deny_http = [
        s
        for s in _queue_statements(synthesized, queue_id)
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(deny_http) == 1, f"{queue}: no Deny on aws:SecureTransport false"
    statement = deny_http[0]
    assert statement["Principal"] in ({"AWS": "*"}, "*")
    assert _as_list(statement["Action"]) == ["sqs:*"]
    assert _as_list(statement["Resource"]) == [_arn(queue_id)]


def test_notifications_queue_redrives_to_the_dead_letter_queue(synthesized: Synthesized, ids: dict[str, str]) -> None:
    queues = synthesized.resources(QUEUE)
    properties = queues[ids["Notifications"]]["Properties"]
    assert properties["RedrivePolicy"] == {"deadLetterTargetArn": _arn(ids["DeadLetters"]), "maxReceiveCount": 5}
    # Lambda's guidance for SQS sources: visibility timeout at least six times the function's timeout.
    ingest = synthesized.resources("AWS::Lambda::Function")[ids["IngestFunction"]]["Properties"]
    assert isinstance(ingest["Timeout"], int) and ingest["Timeout"] > 0
    assert properties["VisibilityTimeout"] >= 6 * ingest["Timeout"]
    assert "RedrivePolicy" not in queues[ids["DeadLetters"]]["Properties"]


def test_dead_letter_queue_keeps_messages_fourteen_days(synthesized: Synthesized, ids: dict[str, str]) -> None:
    properties = synthesized.resources(QUEUE)[ids["DeadLetters"]]["Properties"]
    assert properties["MessageRetentionPeriod"] == FOURTEEN_DAYS == 1209600  # SQS's maximum


def test_dead_letter_queue_url_is_an_output(synthesized: Synthesized, ids: dict[str, str]) -> None:
    assert synthesized.template_dict["Outputs"]["IngestDeadLetterQueueUrl"]["Value"] == {"Ref": ids["DeadLetters"]}


def test_queue_policies_allow_no_wildcard_actions(synthesized: Synthesized) -> None:
    for logical_id, policy in synthesized.resources(QUEUE_POLICY).items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                for action in _as_list(statement["Action"]):
                    assert not _WILDCARD.search(action), f"{logical_id}: wildcard action {action!r}"


# --- the bucket notification ----------------------------------------------------------------------


def test_input_bucket_notifies_the_queue_of_created_objects(synthesized: Synthesized, ids: dict[str, str]) -> None:
    (notifications,) = synthesized.resources("Custom::S3BucketNotifications").values()
    properties = notifications["Properties"]
    assert properties["ServiceToken"] == _arn(ids["CdkHandler"])
    # The input bucket, which is versioned (the ingest pins each object version).
    assert properties["BucketName"] == {"Ref": ids["Input"]}
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert buckets[ids["Input"]]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    # Only keys under drop/ are drops: the bucket's other objects (create_task inputs) never reach the queue.
    assert DROP_PREFIX == "drop/"
    assert properties["NotificationConfiguration"] == {
        "QueueConfigurations": [
            {
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "drop/"}]}},
                "QueueArn": _arn(ids["Notifications"]),
            }
        ]
    }


def test_only_s3_from_the_input_bucket_may_send_to_the_queue(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allows = [s for s in _queue_statements(synthesized, ids["Notifications"]) if s["Effect"] == "Allow"]
    assert len(allows) == 1, allows
    (allow,) = allows
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    # CDK's SqsDestination grants grantSendMessages: SendMessage plus the two read-only lookups.
    assert sorted(_as_list(allow["Action"])) == ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]
    assert _as_list(allow["Resource"]) == [_arn(ids["Notifications"])]
    # CDK emits aws:SourceArn under ArnLike (not ArnEquals); with a single, wildcard-free ARN the two are the same.
    # No aws:SourceAccount: the condition names this stack's own bucket, and bucket names are global.
    assert allow["Condition"] == {"ArnLike": {"aws:SourceArn": _arn(ids["Input"])}}
    # The dead-letter queue receives only from SQS's redrive: its policy allows nothing.
    assert not [s for s in _queue_statements(synthesized, ids["DeadLetters"]) if s["Effect"] == "Allow"]


def test_cdks_notification_handler_may_only_configure_the_input_bucket(
    synthesized: Synthesized, ids: dict[str, str]
) -> None:
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": ids["CdkHandlerRole"]} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements == [{"Action": "s3:PutBucketNotification", "Effect": "Allow", "Resource": _arn(ids["Input"])}]
    role = synthesized.resources("AWS::IAM::Role")[ids["CdkHandlerRole"]]["Properties"]
    assert "Policies" not in role


# --- the event source mapping and the ingest function ---------------------------------------------


def test_queue_feeds_the_ingest_function(synthesized: Synthesized, ids: dict[str, str]) -> None:
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    (mapping,) = [m for m in mappings if m["Properties"]["EventSourceArn"] == _arn(ids["Notifications"])]
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Ref": ids["IngestFunction"]}
    assert synthesized.function_by_handler(INGEST_HANDLER)[0] == ids["IngestFunction"]
    assert properties["BatchSize"] == 10
    # Only the failed records of a batch return to the queue (and, after five receives, to the dead letters).
    assert "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", [])
    assert properties.get("Enabled", True) is True


def test_ingest_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = {action: sorted(map(str, resources)) for action, resources in synthesized.allowed(INGEST_HANDLER).items()}
    tasks, idempotency, templates = str(_arn(ids["Tasks"])), str(_arn(ids["Idempotency"])), str(_arn(ids["Templates"]))
    queue, logs, keys = str(_arn(ids["Notifications"])), str(_arn(ids["IngestLogs"])), str(_arn(ids["AccessKeys"]))
    assert allowed == {
        # A folder may name a custom template; the key table holds the account's default max_cost (below).
        "dynamodb:GetItem": sorted([tasks, idempotency, templates, keys]),
        "dynamodb:PutItem": sorted([tasks, idempotency]),
        "dynamodb:UpdateItem": sorted([tasks, idempotency]),
        "dynamodb:DeleteItem": [idempotency],  # Powertools deletes a record whose call failed; never a task
        "states:StartExecution": [str({"Ref": ids["StateMachine"]})],
        # What the SQS event source mapping needs, on the notifications queue only.
        "sqs:ChangeMessageVisibility": [queue],
        "sqs:DeleteMessage": [queue],
        "sqs:GetQueueAttributes": [queue],
        "sqs:GetQueueUrl": [queue],
        "sqs:ReceiveMessage": [queue],
        "logs:CreateLogStream": [logs],
        "logs:PutLogEvents": [logs],
    }
    # Spelled out, though implied above: the ingest writes no object and never reads tables in bulk.
    assert not [action for action in allowed if action.startswith("s3:")]
    for action in ("dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteTable", "dynamodb:BatchWriteItem"):
        assert action not in allowed, action


# --- the idempotency table ------------------------------------------------------------------------


def test_tables_by_key(synthesized: Synthesized, ids: dict[str, str]) -> None:
    keys = {
        logical_id: [(k["AttributeName"], k["KeyType"]) for k in table["Properties"]["KeySchema"]]
        for logical_id, table in synthesized.resources(TABLE).items()
    }
    assert keys == {
        ids["Tasks"]: [("task_id", "HASH")],
        ids["Idempotency"]: [("id", "HASH")],
        ids["Templates"]: [("account_id", "HASH"), ("name", "RANGE")],
        ids["AccessKeys"]: [("access_key_id", "HASH")],
        ids["Nonces"]: [("nonce_id", "HASH")],
        ids["Storages"]: [("account_id", "HASH"), ("storage_id", "RANGE")],
    }


def test_idempotency_table(synthesized: Synthesized, ids: dict[str, str]) -> None:
    properties = synthesized.resources(TABLE)[ids["Idempotency"]]["Properties"]
    assert properties["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    # Powertools writes the record's expiry (epoch seconds) to `expiration`; DynamoDB's TTL deletes it.
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True


# --- DEFAULT_TEMPLATE and IDEMPOTENCY_TABLE -------------------------------------------------------


def _environments(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Handler → environment variables, for the functions running the domain code."""
    functions = synthesized.domain_functions()
    assert len(functions) == 14
    return {f["Properties"]["Handler"]: f["Properties"]["Environment"]["Variables"] for f in functions.values()}


def test_every_function_gets_the_default_template_drop_prefix_and_idempotency_table(
    synthesized: Synthesized, ids: dict[str, str]
) -> None:
    assert DeploymentSettings().default_template == DEFAULT_TEMPLATE
    assert "default_template" not in json.loads(CDK_JSON.read_text())["context"]["transcoder"]
    for handler, variables in _environments(synthesized).items():
        assert variables["DEFAULT_TEMPLATE"] == DEFAULT_TEMPLATE, handler
        # The same constant as the notification's filter: the ingest ignores what the filter would not pass.
        assert variables["DROP_PREFIX"] == DROP_PREFIX, handler
        assert variables["IDEMPOTENCY_TABLE"] == {"Ref": ids["Idempotency"]}, handler


def test_default_template_override(synthesized: Synthesized, synth_variant: Callable[..., Synthesized]) -> None:
    """A default template (for `drop/<name.ext>`) reaches every function, and changes nothing else there."""
    variant = _environments(synth_variant({"transcoder": {"default_template": "MP4_264_720p"}}))
    default = _environments(synthesized)
    assert sorted(variant) == sorted(default)
    for handler, variables in variant.items():
        assert variables["DEFAULT_TEMPLATE"] == "MP4_264_720p", handler
        assert {k: v for k, v in variables.items() if k != "DEFAULT_TEMPLATE"} == {
            k: v for k, v in default[handler].items() if k != "DEFAULT_TEMPLATE"
        }, handler


def test_ingest_reads_only_account_items_of_the_key_table(synthesized: Synthesized, ids: dict[str, str]) -> None:
    """The account's default max_cost is an item `account#<id>` of the key table; access keys are not its business."""
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": ids["IngestRole"]} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if _arn(ids["AccessKeys"]) in _as_list(statement["Resource"])
    ]
    assert statements == [
        {
            "Action": "dynamodb:GetItem",
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["account#*"]}},
            "Effect": "Allow",
            "Resource": _arn(ids["AccessKeys"]),
        }
    ]
