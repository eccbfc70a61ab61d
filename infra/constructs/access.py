"""Least-privilege S3 access: exact actions on a bucket's objects (optionally under a prefix)."""

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from infra.constructs.nag import acknowledge_resource


def allow_objects(role: iam.IRole, bucket: s3.IBucket, actions: list[str], *, prefix: str = "", reason: str) -> None:
    """Allow `actions` on the objects of `bucket` under `prefix`, whose keys are only known at run time."""
    objects = bucket.arn_for_objects(f"{prefix}*")
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[objects]))
    acknowledge_resource(role, objects, reason)


INPUT_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]


def allow_named_bucket_objects(role: iam.IRole, bucket_name: str, actions: list[str], *, reason: str) -> None:
    """The same for a bucket outside this stack, known by name (the `extra_input_buckets` setting)."""
    objects = f"arn:{cdk.Stack.of(role).partition}:s3:::{bucket_name}/*"
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[objects]))
    acknowledge_resource(role, objects, reason)


def allow_items(role: iam.IRole, table: dynamodb.ITable, actions: list[str]) -> None:
    """Item actions on the table itself; unlike CDK's grant(), no `<table>/index/*` rides along."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[table.table_arn]))


def allow_index_query(role: iam.IRole, table: dynamodb.ITable, index_name: str) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{index_name}"])
    )


STORAGE_SECRET_PREFIX = "transcoder/storages/"  # noqa: S105 - a name prefix; transcoder.storage_secrets


def allow_storage_secrets(role: iam.IRole, actions: list[str], *, reason: str) -> None:
    """Secrets Manager actions on the storages' secrets only: names under STORAGE_SECRET_PREFIX."""
    stack = cdk.Stack.of(role)
    arn = stack.format_arn(
        service="secretsmanager",
        resource="secret",
        resource_name=f"{STORAGE_SECRET_PREFIX}*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[arn]))
    acknowledge_resource(role, arn, reason)


def allow_listing(role: iam.IRole, bucket: s3.IBucket) -> None:
    """ListBucket, so that a missing key answers 404 (a clear "not found") instead of 403."""
    role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
