"""The EMF lines a test's code printed (Powertools Metrics writes them to stdout): what CloudWatch would read."""

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MetricLine:
    name: str
    value: float
    unit: str
    namespace: str
    dimension_sets: list[dict[str, str]]
    """Each dimension set with its values, as CloudWatch would file the metric under."""
    fields: dict[str, Any]
    """The whole line: dimensions' values and metadata."""


def metric_lines(stdout: str) -> list[MetricLine]:
    found = []
    for line in stdout.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.append(
                        MetricLine(
                            name=metric["Name"],
                            value=value,
                            unit=metric["Unit"],
                            namespace=directive["Namespace"],
                            dimension_sets=[{name: document[name] for name in s} for s in directive["Dimensions"]],
                            fields=document,
                        )
                    )
    return found


def named(stdout: str, name: str) -> list[MetricLine]:
    return [line for line in metric_lines(stdout) if line.name == name]
