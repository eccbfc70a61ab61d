"""Lambda's SQS event source mapping, locally: poll the queue, invoke the function, delete what succeeded."""

import json
import logging
import threading
from typing import Any

import boto3

from localmode.functions import FunctionRegistry
from localmode.template import REGION

logger = logging.getLogger(__name__)


class SqsPoller:
    """One mapping: batches of up to `batch_size`, partial failures left on the queue to be retried."""

    def __init__(self, registry: FunctionRegistry, function_name: str, queue_arn: str, batch_size: int) -> None:
        self.registry = registry
        self.function_name = function_name
        self.queue_arn = queue_arn
        self.batch_size = min(batch_size, 10)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sqs-poller-{function_name}", daemon=True)

    def start(self) -> None:
        sqs = boto3.client("sqs")
        self._queue_url = sqs.get_queue_url(QueueName=self.queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        sqs = boto3.client("sqs")
        while not self._stop.is_set():
            try:
                received = sqs.receive_message(
                    QueueUrl=self._queue_url,
                    MaxNumberOfMessages=self.batch_size,
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["All"],
                )
            except Exception:  # the emulator is stopping
                if self._stop.is_set():
                    return
                logger.exception("receiving from %s failed", self.queue_arn)
                continue
            messages = received.get("Messages", [])
            if messages:
                self._deliver(sqs, messages)

    def _deliver(self, sqs: Any, messages: list[Any]) -> None:
        event = {"Records": [self._record(m) for m in messages]}
        payload, error = self.registry.invoke(self.function_name, event)
        if error:
            return  # the whole batch becomes visible again after the visibility timeout, as on AWS
        failed = {item["itemIdentifier"] for item in json.loads(payload).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )

    def _record(self, message: Any) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }
