"""Lambda's DynamoDB stream event source mapping, locally: read the stream, filter, invoke, retry failures.

The mapping's filter criteria are applied as Lambda applies them (only what the template uses is supported:
nested objects and lists of exact values; anything else is refused when local mode starts, never ignored).
"""

import json
import logging
import threading
from datetime import datetime
from typing import Any

import boto3

from localmode.functions import FunctionRegistry
from localmode.template import REGION

logger = logging.getLogger(__name__)

Pattern = dict[str, Any]
POLL_SECONDS = 0.2
RETRY_SECONDS = 1.0


def parse_filters(filter_criteria: dict[str, Any] | None) -> list[Pattern]:
    """The patterns of an ESM's FilterCriteria; raises ValueError for rules this emulator cannot apply."""
    patterns = [json.loads(f["Pattern"]) for f in (filter_criteria or {}).get("Filters", [])]
    for pattern in patterns:
        check_supported(pattern)
    return patterns


def check_supported(pattern: Any) -> None:
    if isinstance(pattern, dict):
        for value in pattern.values():
            check_supported(value)
        return
    if not isinstance(pattern, list) or any(isinstance(v, dict | list) for v in pattern):
        raise ValueError(f"unsupported filter rule {pattern!r}: only exact values are emulated")


def matches(pattern: Pattern, record: dict[str, Any]) -> bool:
    """EventBridge-style matching: every key of the pattern must match; a list is a set of allowed values."""
    for key, rule in pattern.items():
        if key not in record:
            return False
        value = record[key]
        if isinstance(rule, dict):
            if not isinstance(value, dict) or not matches(rule, value):
                return False
        elif value not in rule:
            return False
    return True


def passes(patterns: list[Pattern], record: dict[str, Any]) -> bool:
    """A record passes when there is no filter or any pattern matches (Lambda ORs the filters)."""
    return not patterns or any(matches(p, record) for p in patterns)


class DynamoStreamPoller:
    """One mapping from a table's stream (each shard from its oldest record) to a function."""

    def __init__(
        self,
        registry: FunctionRegistry,
        *,
        function_name: str,
        stream_arn: str,
        batch_size: int,
        filters: list[Pattern],
        retry_attempts: int,
    ) -> None:
        self.registry = registry
        self.function_name = function_name
        self.stream_arn = stream_arn
        self.batch_size = batch_size
        self.filters = filters
        self.retry_attempts = retry_attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-poller-{function_name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        streams = boto3.client("dynamodbstreams")
        iterators: dict[str, str] = {}
        while not self._stop.is_set():
            try:
                self._discover_shards(streams, iterators)
                for shard_id, iterator in list(iterators.items()):
                    answer = streams.get_records(ShardIterator=iterator, Limit=1000)
                    records = [lambda_record(r, self.stream_arn) for r in answer.get("Records", [])]
                    self._deliver([r for r in records if passes(self.filters, r)])
                    iterators[shard_id] = answer.get("NextShardIterator") or iterator
            except Exception:
                if self._stop.is_set():
                    return  # the emulator is stopping
                logger.exception("reading stream %s failed", self.stream_arn)
            self._stop.wait(POLL_SECONDS)

    def _discover_shards(self, streams: Any, iterators: dict[str, str]) -> None:
        shards = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            if shard["ShardId"] not in iterators:
                iterators[shard["ShardId"]] = streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        for start in range(0, len(records), self.batch_size):
            batch = records[start : start + self.batch_size]
            for attempt in range(self.retry_attempts + 1):
                failed_from = self._invoke(batch)
                if failed_from is None:
                    break
                # As Lambda does with ReportBatchItemFailures: retry from the first failed record, in order.
                batch = batch[failed_from:]
                if attempt < self.retry_attempts:
                    self._stop.wait(RETRY_SECONDS)
            else:
                logger.error("%s: %d stream records dropped after retries", self.function_name, len(batch))

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """None when the batch succeeded, else the index of the first record to retry."""
        payload, error = self.registry.invoke(self.function_name, {"Records": batch})
        if error:
            return 0
        result = json.loads(payload) if payload else None
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        for index, record in enumerate(batch):
            if record["dynamodb"].get("SequenceNumber") in failed:
                return index
        return None


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it (JSON-safe timestamp, the source ARN)."""
    stream = dict(record.get("dynamodb", {}))
    created = stream.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        stream["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID", ""),
        "eventName": record.get("eventName", ""),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", REGION),
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
