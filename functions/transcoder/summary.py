"""list_summary: per hour, task counts, output minutes and cost (USD, ext) by region, codec and definition."""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from transcoder.models import TaskModel
from transcoder.status import Status

_SHORT_SIDE = re.compile(r"^(\d{3,4})p$")


def definition(short_side: int | None) -> str:
    """sd below 720 lines, hd up to 1440, 4k from 2160; `unknown` when no size is known."""
    if not short_side:
        return "unknown"
    if short_side < 720:
        return "sd"
    if short_side < 2160:
        return "hd"
    return "4k"


def _short_side(task: TaskModel) -> int | None:
    if task.dst_width and task.dst_height:
        return int(min(task.dst_width, task.dst_height))
    match = _SHORT_SIDE.match(str((task.template or {}).get("resolution", "")).lower())
    return int(match.group(1)) if match else None


@dataclass
class _Bucket:
    task_count: int = 0
    success_count: int = 0
    fail_count: int = 0
    output_seconds: float = 0.0
    cost: float = 0.0


def summarize(tasks: Iterable[TaskModel]) -> list[dict[str, Any]]:
    buckets: dict[tuple[int, str, str, str], _Bucket] = defaultdict(_Bucket)
    for task in tasks:
        hour = int(task.create_time) // 3600 * 3600
        codec = str((task.template or {}).get("vcodec") or "unknown")
        bucket = buckets[(hour, task.region, codec, definition(_short_side(task)))]
        bucket.task_count += 1
        bucket.cost += float(task.cost or 0)
        if task.status == Status.SUCCESS.value:
            bucket.success_count += 1
            bucket.output_seconds += float(task.duration or 0)
        elif task.status == Status.FAIL.value:
            bucket.fail_count += 1
    return [
        {
            "hour": hour,
            "region": region,
            "codec": codec,
            "definition": quality,
            "task_count": bucket.task_count,
            "success_count": bucket.success_count,
            "fail_count": bucket.fail_count,
            "output_minutes": round(bucket.output_seconds / 60, 3),
            "cost": round(bucket.cost, 6),
        }
        for (hour, region, codec, quality), bucket in sorted(buckets.items())
    ]
