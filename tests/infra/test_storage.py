"""Buckets and the task table: encryption, no public access, TLS only, access logs, retention.

The idempotency table of the drop-a-file ingest is tested in test_ingest.py.
"""

from typing import Any

import pytest

from tests.infra.conftest import Synthesized

BUCKET = "AWS::S3::Bucket"


def _bucket_ids(synthesized: Synthesized) -> list[str]:
    return sorted(synthesized.resources(BUCKET))


def test_four_buckets(synthesized: Synthesized) -> None:
    assert len(_bucket_ids(synthesized)) == 4  # access logs, input, output, work


def test_every_bucket_is_encrypted_and_blocks_public_access(synthesized: Synthesized) -> None:
    for logical_id, bucket in synthesized.resources(BUCKET).items():
        properties = bucket["Properties"]
        rules = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        algorithms = {rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for rule in rules}
        assert algorithms and algorithms <= {"AES256", "aws:kms", "aws:kms:dsse"}, logical_id
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, logical_id
        assert "AccessControl" not in properties, logical_id


def _policy_of(synthesized: Synthesized, bucket_id: str) -> dict[str, Any]:
    policies = [
        p
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert len(policies) == 1, f"{bucket_id} has {len(policies)} bucket policies"
    document: dict[str, Any] = policies[0]["Properties"]["PolicyDocument"]
    return document


@pytest.mark.parametrize("index", range(4))
def test_every_bucket_denies_insecure_transport(synthesized: Synthesized, index: int) -> None:
    bucket_id = _bucket_ids(synthesized)[index]
    statements = _policy_of(synthesized, bucket_id)["Statement"]
    deny_http = [
        s
        for s in statements
        if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert deny_http, f"{bucket_id}: no Deny on aws:SecureTransport false"
    statement = deny_http[0]
    assert statement["Principal"] in ({"AWS": "*"}, "*")
    assert statement["Action"] in ("s3:*", ["s3:*"])
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    # Both the bucket and its objects.
    assert {"Fn::GetAtt": [bucket_id, "Arn"]} in resources
    assert {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]} in resources


def test_non_log_buckets_log_to_the_access_log_bucket(synthesized: Synthesized) -> None:
    log_bucket = synthesized.logical_id("Storage/AccessLogs")
    buckets = synthesized.resources(BUCKET)
    assert "LoggingConfiguration" not in buckets[log_bucket]["Properties"]
    prefixes = set()
    for logical_id, bucket in buckets.items():
        if logical_id == log_bucket:
            continue
        logging = bucket["Properties"].get("LoggingConfiguration")
        assert logging, f"{logical_id} has no server access logging"
        assert logging["DestinationBucketName"] == {"Ref": log_bucket}, logical_id
        prefixes.add(logging.get("LogFilePrefix"))
    assert len(prefixes) == 3, f"each bucket should log under its own prefix: {prefixes}"


def test_log_bucket_accepts_logs_through_its_policy(synthesized: Synthesized) -> None:
    """With serverAccessLogsUseBucketPolicy, the logging service is allowed by the bucket policy (no ACLs)."""
    log_bucket = synthesized.logical_id("Storage/AccessLogs")
    statements = _policy_of(synthesized, log_bucket)["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert any(s.get("Principal") == {"Service": "logging.s3.amazonaws.com"} for s in allows), allows


def test_work_bucket_expires_leftovers(synthesized: Synthesized) -> None:
    work = synthesized.resources(BUCKET)[synthesized.logical_id("Storage/Work")]
    rules = work["Properties"]["LifecycleConfiguration"]["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    assert any(isinstance(r.get("ExpirationInDays"), int) and 1 <= r["ExpirationInDays"] <= 7 for r in enabled), rules
    assert any("AbortIncompleteMultipartUpload" in r for r in enabled), rules


def test_input_bucket_is_versioned_and_keeps_current_inputs(synthesized: Synthesized) -> None:
    """Tasks read the input version Download pinned; replaced versions expire, current objects never do."""
    bucket = synthesized.resources(BUCKET)[synthesized.logical_id("Storage/Input")]
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    for rule in properties.get("LifecycleConfiguration", {}).get("Rules", []):
        assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, rule
        if "NoncurrentVersionExpiration" in rule:
            assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1  # longer than a task runs
    assert bucket["DeletionPolicy"] == "Retain"  # retain_data is true in cdk.json


def test_output_bucket_keeps_its_objects_and_replaced_ones_for_30_days(synthesized: Synthesized) -> None:
    """Versioned: a task's output_url serves the version it wrote, even after a later task replaced the key."""
    bucket = synthesized.resources(BUCKET)[synthesized.logical_id("Storage/Output")]
    properties = bucket["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = properties["LifecycleConfiguration"]["Rules"]
    for rule in rules:
        assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, rule  # current outputs stay
    assert [r["NoncurrentVersionExpiration"] for r in rules] == [{"NoncurrentDays": 30}]
    assert bucket["DeletionPolicy"] == "Retain"


def test_task_table(synthesized: Synthesized) -> None:
    tables = synthesized.resources("AWS::DynamoDB::Table")
    key = [{"AttributeName": "task_id", "KeyType": "HASH"}]
    matches = [k for k, t in tables.items() if t["Properties"]["KeySchema"] == key]
    assert matches == [synthesized.logical_id("Storage/Tasks")], f"one table keyed by task_id: {matches}"
    table = tables[matches[0]]
    properties = table["Properties"]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "account_id", "AttributeType": "S"},
        {"AttributeName": "create_time", "AttributeType": "N"},
        {"AttributeName": "open_shard", "AttributeType": "S"},
        {"AttributeName": "task_id", "AttributeType": "S"},
    ]
    # list_task reads an account's tasks by creation time from this index, never by scanning.
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "account-create_time",
            "KeySchema": [
                {"AttributeName": "account_id", "KeyType": "HASH"},
                {"AttributeName": "create_time", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        # The sweep's: open tasks only (open_shard is removed when a task ends), keys only.
        {
            "IndexName": "open-create_time",
            "KeySchema": [
                {"AttributeName": "open_shard", "KeyType": "HASH"},
                {"AttributeName": "create_time", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert "TimeToLiveSpecification" not in properties  # tasks are the service's record: they never expire
    assert table["DeletionPolicy"] == "Retain"


def test_template_table(synthesized: Synthesized) -> None:
    table = synthesized.resources("AWS::DynamoDB::Table")[synthesized.logical_id("Storage/Templates")]
    properties = table["Properties"]
    # One item per (account, name): a conditional put keeps names unique per account.
    assert properties["KeySchema"] == [
        {"AttributeName": "account_id", "KeyType": "HASH"},
        {"AttributeName": "name", "KeyType": "RANGE"},
    ]
    assert properties["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "template_id",
            "KeySchema": [{"AttributeName": "template_id", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_storage_table(synthesized: Synthesized) -> None:
    table = synthesized.resources("AWS::DynamoDB::Table")[synthesized.logical_id("Storage/Storages")]
    properties = table["Properties"]
    # One item per (account, storage): every read is scoped to the caller's account by the key itself.
    assert properties["KeySchema"] == [
        {"AttributeName": "account_id", "KeyType": "HASH"},
        {"AttributeName": "storage_id", "KeyType": "RANGE"},
    ]
    assert "GlobalSecondaryIndexes" not in properties
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_no_secret_is_declared_and_functions_know_the_storage_table(synthesized: Synthesized) -> None:
    """Storage keys are secrets created at run time by add_storage: none belongs to the template."""
    assert not synthesized.resources("AWS::SecretsManager::Secret")
    table = {"Ref": synthesized.logical_id("Storage/Storages")}
    for logical_id, function in synthesized.domain_functions().items():
        assert function["Properties"]["Environment"]["Variables"]["STORAGE_TABLE"] == table, logical_id
