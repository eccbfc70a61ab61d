"""Drop-a-file: input bucket (keys under `drop/`) → event notification → SQS (with a dead-letter queue) →
ingest function."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3_notifications
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from infra.constructs.access import allow_items
from infra.constructs.functions import ServiceFunction
from infra.constructs.nag import acknowledge_managed_policy
from infra.constructs.queues import dead_letter_queue, encrypted_queue
from infra.constructs.storage import Storage
from infra.settings import DROP_PREFIX, DeploymentSettings

ACCOUNT_ITEM_PREFIX = "account#"  # transcoder.auth.accounts.ACCOUNT_ITEM_PREFIX

INGEST_TIMEOUT_SECONDS = 60
MAX_RECEIVES = 5


class Ingest(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        state_machine: sfn.IStateMachine,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.dead_letters = dead_letter_queue(self)
        self.queue = encrypted_queue(
            self,
            "Notifications",
            # Lambda's guidance: at least six times the function's timeout, so retries do not overlap.
            visibility_timeout=cdk.Duration.seconds(6 * INGEST_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=self.dead_letters),
        )
        # Only drops reach the queue: the bucket's other keys (create_task inputs) are none of the ingest's business.
        storage.input_bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3_notifications.SqsDestination(self.queue),
            s3.NotificationKeyFilter(prefix=DROP_PREFIX),
        )

        self.handler = ServiceFunction(
            self,
            "Handler",
            settings=settings,
            handler="handlers.ingest.handler",
            memory_mb=settings.api_memory_mb,
            timeout=cdk.Duration.seconds(INGEST_TIMEOUT_SECONDS),
            environment={
                **environment,
                "KEYS_TABLE": storage.access_key_table.table_name,
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
            },
        )
        self.handler.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue, batch_size=10, max_batching_window=cdk.Duration.seconds(1), report_batch_item_failures=True
            )
        )
        allow_items(
            self.handler.role, storage.task_table, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        )
        # A dropped file's folder may name one of the account's custom templates.
        allow_items(self.handler.role, storage.template_table, ["dynamodb:GetItem"])
        # The account's default max_cost: an item of the key table (transcoder.auth.accounts), and only those.
        self.handler.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem"],
                resources=[storage.access_key_table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{ACCOUNT_ITEM_PREFIX}*"]}},
            )
        )
        allow_items(
            self.handler.role,
            storage.idempotency_table,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        )
        state_machine.grant_start_execution(self.handler.role)
        _acknowledge_notification_handler(cdk.Stack.of(self))


def _acknowledge_notification_handler(stack: cdk.Stack) -> None:
    """CDK's own singleton that writes the bucket's notification configuration at deploy time."""
    handler = stack.node.try_find_child("BucketNotificationsHandler050a0587b7544547bf325f094a3db834")
    if handler is None:
        return
    reason = "CDK's BucketNotificationsHandler custom resource, run only at deploy time; its code and role are CDK's."
    basic_execution = iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")
    acknowledge_managed_policy(handler, basic_execution, reason)
