"""The stack's SQS queues: encrypted, TLS-only, and its dead-letter queues kept 14 days."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_sqs as sqs

DEAD_LETTER_RETENTION = cdk.Duration.days(14)
"""SQS's longest: an operator has two weeks to read and redrive what failed."""


def encrypted_queue(
    scope: constructs.Construct,
    id: str,
    *,
    retention: cdk.Duration | None = None,
    visibility_timeout: cdk.Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    return sqs.Queue(
        scope,
        id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


def dead_letter_queue(scope: constructs.Construct, id: str = "DeadLetters") -> sqs.Queue:
    return encrypted_queue(scope, id, retention=DEAD_LETTER_RETENTION)
