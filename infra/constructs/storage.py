"""Buckets (input, output, work, access logs), the tables, and the key that encrypts API secrets."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from infra.constructs.access import INPUT_READ_ACTIONS, allow_items, allow_named_bucket_objects, allow_objects
from infra.settings import DeploymentSettings

ACCOUNTS_PREFIX = "accounts/"  # transcoder.storages.ACCOUNTS_ROOT: each account's part of the output bucket

TASKS_BY_ACCOUNT_TIME = "account-create_time"  # transcoder.models.AccountTimeIndex
OPEN_TASKS_BY_TIME = "open-create_time"  # transcoder.models.OpenTaskIndex
TEMPLATES_BY_ID = "template_id"  # transcoder.template_store.TemplateIdIndex
ACCESS_KEY_PURPOSE = "transcoder-api-access-key"  # transcoder.auth.keys: the KMS encryption context
REPLACED_OUTPUT_RETENTION_DAYS = 30
"""How long an output replaced at its key stays readable through its own task's output_url."""


class Storage(constructs.Construct):
    def __init__(self, scope: constructs.Construct, id: str, *, settings: DeploymentSettings) -> None:
        super().__init__(scope, id)
        removal = cdk.RemovalPolicy.RETAIN if settings.retain_data else cdk.RemovalPolicy.DESTROY

        self.access_logs = self._bucket("AccessLogs", removal, access_logs=None)
        # Versioned, so that a task reads exactly the bytes it probed even if the key is overwritten.
        self.input_bucket = self._bucket("Input", removal, access_logs=self.access_logs, versioned=True)
        self.input_bucket.add_lifecycle_rule(
            id="expire-replaced-inputs",
            noncurrent_version_expiration=cdk.Duration.days(settings.work_retention_days),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )
        # Versioned, so that each task's output_url serves what it wrote even when a later task (a file dropped
        # again under the same key) replaces the object at the same key.
        self.output_bucket = self._bucket("Output", removal, access_logs=self.access_logs, versioned=True)
        self.output_bucket.add_lifecycle_rule(
            id="expire-replaced-outputs",
            noncurrent_version_expiration=cdk.Duration.days(REPLACED_OUTPUT_RETENTION_DAYS),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )
        self.work_bucket = self._bucket("Work", cdk.RemovalPolicy.DESTROY, access_logs=self.access_logs)
        self.work_bucket.add_lifecycle_rule(
            id="expire-leftover-work-files",
            expiration=cdk.Duration.days(settings.work_retention_days),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
        )

        # Its stream (new and old images) is where every terminal transition is seen (constructs/callbacks.py).
        self.task_table = self._table(
            "Tasks", removal, partition_key=_key("task_id"), stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES
        )
        self.task_table.add_global_secondary_index(
            index_name=TASKS_BY_ACCOUNT_TIME,
            partition_key=_key("account_id"),
            sort_key=_key("create_time", dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # The sweep's view (constructs/reconcile.py): only tasks not terminal yet, keys only, so it stays small and
        # only a task's creation and end write to it.
        self.task_table.add_global_secondary_index(
            index_name=OPEN_TASKS_BY_TIME,
            partition_key=_key("open_shard"),
            sort_key=_key("create_time", dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Custom templates: one item per (account, name), so names are unique per account.
        self.template_table = self._table("Templates", removal, partition_key=_key("account_id"), sort_key=_key("name"))
        self.template_table.add_global_secondary_index(
            index_name=TEMPLATES_BY_ID, partition_key=_key("template_id"), projection_type=dynamodb.ProjectionType.ALL
        )
        # Signature auth: one item per access key, its secret encrypted under a customer-managed KMS key
        # (rotated yearly) so that only the API function, by its key policy grant, can read secrets.
        self.access_key_encryption = kms.Key(
            self,
            "AccessKeyEncryption",
            description="Encrypts the secret access keys of the transcoding API",
            enable_key_rotation=True,
            removal_policy=removal,
        )
        self.access_key_table = self._table("AccessKeys", removal, partition_key=_key("access_key_id"))
        # Nonces already used (replay protection); they expire by TTL shortly after their Date would.
        self.nonce_table = self._table(
            "Nonces", cdk.RemovalPolicy.DESTROY, partition_key=_key("nonce_id"), time_to_live_attribute="expires_at"
        )
        # Storages: one item per (account, storage); their keys are in Secrets Manager, only the ARN here.
        self.storage_table = self._table(
            "Storages", removal, partition_key=_key("account_id"), sort_key=_key("storage_id")
        )
        # Powertools idempotency records (client_token, drop-a-file); they expire by TTL.
        self.idempotency_table = self._table(
            "Idempotency", cdk.RemovalPolicy.DESTROY, partition_key=_key("id"), time_to_live_attribute="expiration"
        )

    @property
    def access_key_environment(self) -> dict[str, str]:
        """What transcoder.auth.keys reads: the key table, and the KMS key of the secrets."""
        return {"KEYS_TABLE": self.access_key_table.table_name, "KEYS_KMS_KEY_ID": self.access_key_encryption.key_arn}

    def allow_access_key_secrets(self, role: iam.IRole) -> None:
        """Read a key's item and decrypt its secret, only under the access-key encryption context."""
        allow_items(role, self.access_key_table, ["dynamodb:GetItem"])
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[self.access_key_encryption.key_arn],
                conditions={"StringEquals": {"kms:EncryptionContext:purpose": ACCESS_KEY_PURPOSE}},
            )
        )

    def allow_presigning(self, role: iam.IRole, extra_input_buckets: tuple[str, ...], *, reason: str) -> None:
        """Presigned URLs carry the signer's permission: reading any task's input or output key, in the
        version the task read or wrote (GetObjectVersion); outputs are only ever in the accounts' parts of
        the output bucket."""
        allow_objects(role, self.input_bucket, INPUT_READ_ACTIONS, reason=reason)
        allow_objects(role, self.output_bucket, INPUT_READ_ACTIONS, prefix=ACCOUNTS_PREFIX, reason=reason)
        for name in extra_input_buckets:
            allow_named_bucket_objects(role, name, INPUT_READ_ACTIONS, reason=reason)

    def _table(
        self,
        id: str,
        removal: cdk.RemovalPolicy,
        *,
        partition_key: dynamodb.Attribute,
        sort_key: dynamodb.Attribute | None = None,
        time_to_live_attribute: str | None = None,
        stream: dynamodb.StreamViewType | None = None,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            id,
            partition_key=partition_key,
            sort_key=sort_key,
            time_to_live_attribute=time_to_live_attribute,
            stream=stream,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal,
        )

    def _bucket(
        self, id: str, removal: cdk.RemovalPolicy, *, access_logs: s3.IBucket | None, versioned: bool = False
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            id,
            versioned=versioned,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{id.lower()}/" if access_logs else None,
            removal_policy=removal,
        )


def _key(name: str, kind: dynamodb.AttributeType = dynamodb.AttributeType.STRING) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=kind)
