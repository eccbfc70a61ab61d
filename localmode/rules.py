"""The template's EventBridge rules, locally: events matched against each rule's pattern and delivered to its Lambda
targets (retried, then dead-lettered, as the target's RetryPolicy and DeadLetterConfig say), and scheduled rules
run on a timer.

Only what the template uses is emulated: Lambda targets, patterns of exact values, `rate(...)` schedules;
anything else is refused when local mode starts, never ignored.
"""

import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from localmode.functions import FunctionRegistry
from localmode.streams import Pattern, check_supported, matches
from localmode.template import ACCOUNT, REGION, LocalTemplate

logger = logging.getLogger(__name__)

SCHEDULE_SECONDS_ENV = "TRANSCODER_LOCAL_SCHEDULE_SECONDS"
"""Runs every scheduled rule at this interval instead of its own (e.g. 5 to watch the sweep work at once)."""
RETRY_SECONDS = 1.0
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class RuleTarget:
    function_name: str
    retry_attempts: int
    dead_letter_queue: str | None
    """The name of the SQS queue that takes the event when every attempt failed."""


@dataclass(frozen=True)
class PatternRule:
    name: str
    pattern: Pattern
    targets: tuple[RuleTarget, ...]


@dataclass(frozen=True)
class ScheduledRule:
    name: str
    arn: str
    interval_seconds: float
    targets: tuple[RuleTarget, ...]


def rules_of(local: LocalTemplate) -> tuple[list[PatternRule], list[ScheduledRule]]:
    """The template's rules, their targets resolved to the local functions."""
    patterns: list[PatternRule] = []
    schedules: list[ScheduledRule] = []
    for logical_id, resource in local.of_type("AWS::Events::Rule").items():
        properties = local.resolve(resource["Properties"])
        if properties.get("State", "ENABLED") != "ENABLED":
            continue
        name = local.physical_name(logical_id)
        targets = tuple(_target(name, target) for target in properties.get("Targets", []))
        if "EventPattern" in properties:
            pattern = properties["EventPattern"]
            check_supported(pattern)
            patterns.append(PatternRule(name=name, pattern=pattern, targets=targets))
        if "ScheduleExpression" in properties:
            arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"
            interval = rate_seconds(properties["ScheduleExpression"])
            schedules.append(ScheduledRule(name=name, arn=arn, interval_seconds=interval, targets=targets))
    return patterns, schedules


def _target(rule: str, target: dict[str, Any]) -> RuleTarget:
    arn = str(target["Arn"])
    if ":lambda:" not in arn or ":function:" not in arn:
        raise ValueError(f"rule {rule}: target {arn} is not a Lambda function; only those are emulated")
    dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
    return RuleTarget(
        function_name=arn.rsplit(":", 1)[1],
        retry_attempts=int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185)),
        dead_letter_queue=str(dead_letter).rsplit(":", 1)[1] if dead_letter else None,
    )


def rate_seconds(expression: str) -> float:
    found = _RATE.match(expression.strip())
    if not found:
        raise ValueError(f"schedule {expression!r}: only rate(N minutes|hours|days) is emulated")
    return int(found[1]) * _UNIT_SECONDS[found[2].removesuffix("s")]


class EventRules:
    """The default bus's pattern rules: `put` delivers an event to every matching rule's targets, asynchronously,
    as EventBridge invokes a Lambda target."""

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self.rules: list[PatternRule] = []

    def put(self, event: dict[str, Any]) -> list[threading.Thread]:
        deliveries = []
        for rule in self.rules:
            if matches(rule.pattern, event):
                for target in rule.targets:
                    delivery = threading.Thread(
                        target=deliver, args=(self.registry, target, event), name=f"rule-{rule.name}", daemon=True
                    )
                    delivery.start()
                    deliveries.append(delivery)
        return deliveries


def deliver(registry: FunctionRegistry, target: RuleTarget, event: dict[str, Any]) -> bool:
    """Invoke the target, retrying; an event every attempt failed goes to the dead-letter queue."""
    for attempt in range(target.retry_attempts + 1):
        payload, error = registry.invoke(target.function_name, event)
        if error is None:
            return True
        logger.warning("%s failed on attempt %d: %s", target.function_name, attempt + 1, payload[:500])
        if attempt < target.retry_attempts:
            time.sleep(RETRY_SECONDS)
    if target.dead_letter_queue:
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=target.dead_letter_queue)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    logger.error("%s: event %s dead-lettered after retries", target.function_name, event.get("id"))
    return False


def scheduled_event(rule: ScheduledRule, now: datetime | None = None) -> dict[str, Any]:
    """What EventBridge sends a scheduled rule's target."""
    moment = now or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [rule.arn],
        "detail": {},
    }


class ScheduleRunner:
    """One scheduled rule: its targets invoked every interval (the first time one interval after the start, as a
    new rate rule does), or every $TRANSCODER_LOCAL_SCHEDULE_SECONDS."""

    def __init__(self, registry: FunctionRegistry, rule: ScheduledRule) -> None:
        self.registry = registry
        self.rule = rule
        override = os.environ.get(SCHEDULE_SECONDS_ENV)
        self.interval_seconds = float(override) if override else rule.interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{rule.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            event = scheduled_event(self.rule)
            for target in self.rule.targets:
                try:
                    deliver(self.registry, target, event)
                except Exception:
                    if self._stop.is_set():
                        return  # the emulator is stopping
                    logger.exception("scheduled rule %s failed", self.rule.name)
