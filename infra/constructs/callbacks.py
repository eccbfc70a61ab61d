"""Callbacks and events: task table stream → notify function → EventBridge + callbacks queue → callback function.

Every terminal transition (Upload's success, RecordFailure's fail, the API's cancel, a rejected drop) is a
write to the task table, so its stream is the one place all of them are seen.
"""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs

from infra.constructs.functions import ServiceFunction
from infra.constructs.nag import acknowledge
from infra.constructs.queues import dead_letter_queue, encrypted_queue
from infra.constructs.storage import Storage
from infra.settings import DeploymentSettings

TERMINAL_STATUSES = ("success", "fail", "cancelled")  # transcoder.status.TERMINAL
NOTIFY_TIMEOUT_SECONDS = 30
CALLBACK_TIMEOUT_SECONDS = 120
"""Up to CALLBACK_BATCH_SIZE POSTs of at most 15 s each (connect 5 s + read 10 s), one after another."""
CALLBACK_BATCH_SIZE = 5
CALLBACK_MAX_RECEIVES = 100
"""A safety net only: the function itself dead-letters a callback at 24 h (about 30 attempts with backoff);
this count catches a message that crashes the function every time."""


class Callbacks(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.dead_letters = dead_letter_queue(self)
        # Longer than the 24 h of retries, so a message is never dropped by retention before it is dead-lettered.
        self.queue = encrypted_queue(
            self,
            "Queue",
            retention=cdk.Duration.days(4),
            visibility_timeout=cdk.Duration.seconds(6 * CALLBACK_TIMEOUT_SECONDS),
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=CALLBACK_MAX_RECEIVES, queue=self.dead_letters),
        )
        # Stream records the notify function could not handle after its retries (metadata of the batch).
        self.stream_failures = dead_letter_queue(self, "StreamFailures")
        acknowledge(
            self.stream_failures,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter destination: the notify mapping's on-failure destination.",
        )
        callback_environment = {
            **environment,
            "CALLBACK_QUEUE_URL": self.queue.queue_url,
            "CALLBACK_DEAD_LETTER_QUEUE_URL": self.dead_letters.queue_url,
            **storage.access_key_environment,
        }

        self.notify = ServiceFunction(
            self,
            "Notify",
            settings=settings,
            handler="handlers.notify.handler",
            memory_mb=settings.api_memory_mb,
            timeout=cdk.Duration.seconds(NOTIFY_TIMEOUT_SECONDS),
            environment=callback_environment,
        )
        self.notify.function.add_event_source(
            event_sources.DynamoEventSource(
                storage.task_table,
                # From the oldest record kept: transitions written while the mapping was being created count too.
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                max_batching_window=cdk.Duration.seconds(1),
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=cdk.Duration.hours(24),
                report_batch_item_failures=True,
                on_failure=event_sources.SqsDlq(self.stream_failures),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {
                            "eventName": lambda_.FilterRule.or_("INSERT", "MODIFY"),
                            "dynamodb": {"NewImage": {"status": {"S": lambda_.FilterRule.or_(*TERMINAL_STATUSES)}}},
                        }
                    )
                ],
            )
        )
        stack = cdk.Stack.of(self)
        default_bus = stack.format_arn(service="events", resource="event-bus", resource_name="default")
        self.notify.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[default_bus])
        )
        self.queue.grant_send_messages(self.notify.role)
        acknowledge(
            self.notify.role,
            "AwsSolutions-IAM5[Resource::*]",
            "dynamodb:ListStreams, granted by CDK's DynamoEventSource for the mapping, has no resource-level "
            "permissions; reading records is allowed on the task table's stream only.",
        )

        self.callback = ServiceFunction(
            self,
            "Callback",
            settings=settings,
            handler="handlers.callback.handler",
            memory_mb=settings.api_memory_mb,
            timeout=cdk.Duration.seconds(CALLBACK_TIMEOUT_SECONDS),
            environment=callback_environment,
        )
        self.callback.function.add_event_source(
            event_sources.SqsEventSource(self.queue, batch_size=CALLBACK_BATCH_SIZE, report_batch_item_failures=True)
        )
        self.dead_letters.grant_send_messages(self.callback.role)
        # The task's creating key signs its callbacks: read the key, decrypt its secret only with the key context.
        storage.allow_access_key_secrets(self.callback.role)
        # The payload is query_task's view, whose input_url/output_url are presigned at delivery time.
        storage.allow_presigning(
            self.callback.role,
            settings.extra_input_buckets,
            reason="A callback carries query_task's view: any task's input or output key is presigned.",
        )
