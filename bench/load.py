"""A bounded burst against a running local mode: signed create_task calls and dropped files, all at once.

Every request must be answered (no reset, no other transport error) and every task accounted for: each
create_task's task id found terminal, each dropped file exactly one terminal task. Only 127.0.0.1 is a
target (local mode binds nowhere else); the burst is a fixed count, the wait for the tasks has a deadline,
and the run stops by itself.
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from infra.settings import DROP_PREFIX
from localmode.access import local_client
from localmode.media import generate_clip
from transcoder_client import ApiError, TransportError

TEMPLATE = "MP4_264_360p"
TERMINAL = frozenset({"success", "fail", "cancelled"})


def drop_key(template: str, path: str) -> str:
    """The input-bucket key under which a dropped file becomes a task of `template` (the drop convention)."""
    return f"{DROP_PREFIX}{template}/{path}"


@dataclass(frozen=True)
class Burst:
    create_tasks: int = 200
    drops: int = 50
    request_timeout_seconds: float = 180.0
    """How long one create_task may wait for its answer (requests queue behind one API environment)."""
    drain_timeout_seconds: float = 180.0
    """How long the tasks may take to become terminal after the last request was sent."""


@dataclass
class Outcome:
    """One create_task as the client saw it."""

    sent_at: float
    seconds: float
    http_status: int | None = None
    code: int | None = None
    task_id: str | None = None
    transport_error: str | None = None
    reset: bool = False


@dataclass
class LoadReport:
    burst: Burst
    outcomes: list[Outcome] = field(default_factory=list)
    drop_errors: list[str] = field(default_factory=list)
    tasks_by_input: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    api_input: str = ""
    drop_inputs: list[str] = field(default_factory=list)
    drain_seconds: float | None = None
    """Last request sent → every task terminal; None if the deadline passed first."""

    @property
    def api_task_ids(self) -> set[str]:
        return {o.task_id for o in self.outcomes if o.task_id}

    def lost_api_tasks(self) -> list[str]:
        """Task ids create_task returned that are not terminal tasks of the API input."""
        terminal = {t["task_id"] for t in self.tasks_by_input.get(self.api_input, []) if t["status"] in TERMINAL}
        return sorted(self.api_task_ids - terminal)

    def unexpected_api_tasks(self) -> list[str]:
        """Tasks of the API input that no answer returned (a duplicate, or an answer lost on the way)."""
        return sorted({t["task_id"] for t in self.tasks_by_input.get(self.api_input, [])} - self.api_task_ids)

    def drops_not_once(self) -> dict[str, int]:
        """Dropped files that did not become exactly one terminal task: key → tasks found."""
        counts = {key: self.tasks_by_input.get(key, []) for key in self.drop_inputs}
        return {
            key: len(tasks) for key, tasks in counts.items() if len(tasks) != 1 or tasks[0]["status"] not in TERMINAL
        }

    def figures(self) -> dict[str, Any]:
        latencies = sorted(o.seconds * 1000 for o in self.outcomes if o.http_status is not None)
        statuses = Counter(str(o.http_status) if o.http_status is not None else "no answer" for o in self.outcomes)
        codes = Counter(str(o.code) for o in self.outcomes if o.code is not None)
        all_tasks = [t for tasks in self.tasks_by_input.values() for t in tasks]
        return {
            "requests": len(self.outcomes),
            "answered": sum(o.http_status is not None for o in self.outcomes),
            "answered_code_0": sum(o.code == 0 for o in self.outcomes),
            "connection_resets": sum(o.reset for o in self.outcomes),
            "other_transport_errors": sum(o.transport_error is not None and not o.reset for o in self.outcomes),
            "transport_error_kinds": dict(
                Counter(o.transport_error.split(": ", 1)[-1] for o in self.outcomes if o.transport_error)
            ),
            "http_statuses": dict(statuses),
            "api_codes": dict(codes),
            "latency_ms_p50": _percentile(latencies, 50),
            "latency_ms_p95": _percentile(latencies, 95),
            "latency_ms_max": round(latencies[-1], 1) if latencies else None,
            "drops": len(self.drop_inputs),
            "drop_upload_errors": len(self.drop_errors),
            "tasks_expected": len(self.api_task_ids) + len(self.drop_inputs),
            "tasks_terminal": sum(t["status"] in TERMINAL for t in all_tasks),
            "tasks_success": sum(t["status"] == "success" for t in all_tasks),
            "api_tasks_lost": len(self.lost_api_tasks()),
            "api_tasks_unexpected": len(self.unexpected_api_tasks()),
            "drops_not_exactly_one_terminal_task": len(self.drops_not_once()),
            "drain_seconds": None if self.drain_seconds is None else round(self.drain_seconds, 1),
        }

    def accounted_for(self) -> bool:
        figures = self.figures()
        return (
            figures["answered_code_0"] == self.burst.create_tasks
            and not self.drop_errors
            and not self.lost_api_tasks()
            and not self.unexpected_api_tasks()
            and not self.drops_not_once()
            and self.drain_seconds is not None
        )


def run_burst(info: Mapping[str, object], burst: Burst = Burst()) -> LoadReport:
    """Fire the burst at the local mode described by `info` (LocalStack.describe() or its ready file)."""
    api_host = urlsplit(str(info["api_url"])).hostname
    aws_host = urlsplit(str(info["aws_endpoint_url"])).hostname
    if api_host != "127.0.0.1" or aws_host != "127.0.0.1":
        raise ValueError("the load test only targets local mode on 127.0.0.1")
    bucket = str(info["input_bucket"])
    run = uuid.uuid4().hex[:8]
    s3 = emulator_client(info, "s3", Config(max_pool_connections=burst.drops + 1))
    report = LoadReport(burst)
    with _tiny_clip() as clip:
        # Top level: an input for create_task, not a drop.
        api_key = f"load-{run}.mp4"
        s3.upload_file(clip, bucket, api_key)
        report.api_input = f"s3://{bucket}/{api_key}"
        drop_keys = [drop_key(TEMPLATE, f"load-{run}/drop-{i:03d}.mp4") for i in range(burst.drops)]
        report.drop_inputs = [f"s3://{bucket}/{key}" for key in drop_keys]

        client = local_client(info, timeout=burst.request_timeout_seconds)
        start = threading.Barrier(burst.create_tasks + burst.drops)

        def create(index: int) -> Outcome:
            start.wait()
            output = f"load-{run}/api-{index:03d}.mp4"
            return _create_task(lambda: client.create_task(report.api_input, output, template_name=TEMPLATE))

        def drop(key: str) -> str | None:
            start.wait()
            try:
                s3.upload_file(clip, bucket, key)
            except Exception as exc:  # noqa: BLE001 - counted, and the run reports it
                return f"{key}: {exc}"
            return None

        with ThreadPoolExecutor(max_workers=burst.create_tasks + burst.drops) as pool:
            created = [pool.submit(create, i) for i in range(burst.create_tasks)]
            dropped = [pool.submit(drop, key) for key in drop_keys]
            report.outcomes = [f.result() for f in created]
            report.drop_errors = [error for f in dropped if (error := f.result())]

    last_sent = max(o.sent_at for o in report.outcomes)
    _wait_for_tasks(info, report, last_sent, burst.drain_timeout_seconds)
    return report


def emulator_client(info: Mapping[str, object], service: str, config: Config | None = None) -> Any:
    """A client of local mode's AWS endpoint, which takes any credentials (these exist nowhere else)."""
    make_client: Any = boto3.client  # one helper for both services: boto3's overloads want a literal name
    return make_client(
        service,
        endpoint_url=str(info["aws_endpoint_url"]),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator's, not a secret
        config=config,
    )


def _create_task(call: Callable[[], dict[str, Any]]) -> Outcome:
    sent_at = time.monotonic()
    outcome = Outcome(sent_at=sent_at, seconds=0.0)
    try:
        outcome.task_id = str(call()["task_id"])
        outcome.http_status, outcome.code = 200, 0
    except ApiError as exc:
        outcome.http_status, outcome.code = exc.http_status, exc.code
    except TransportError as exc:
        outcome.transport_error = str(exc)
        outcome.reset = _is_reset(exc)
    outcome.seconds = time.monotonic() - sent_at
    return outcome


def _is_reset(error: BaseException) -> bool:
    """A connection the server reset or dropped (urllib wraps it in URLError; http.client raises it bare)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
            return True
        reason = getattr(seen, "reason", None)
        if isinstance(reason, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _wait_for_tasks(info: Mapping[str, object], report: LoadReport, last_sent: float, timeout: float) -> None:
    """Poll the task table (a test's view) until every expected task is terminal, or the deadline passes."""
    dynamodb = emulator_client(info, "dynamodb")
    inputs = {report.api_input, *report.drop_inputs}
    deadline = last_sent + timeout
    while True:
        report.tasks_by_input = _tasks_of(dynamodb, str(info["task_table"]), inputs)
        if _all_terminal(report):
            report.drain_seconds = time.monotonic() - last_sent
            return
        if time.monotonic() > deadline:
            return
        time.sleep(1.0)


def _all_terminal(report: LoadReport) -> bool:
    return not report.lost_api_tasks() and not report.drops_not_once()


def _tasks_of(dynamodb: Any, table: str, inputs: set[str]) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression="task_id, #input, #status",
        ExpressionAttributeNames={"#input": "input", "#status": "status"},
    )
    for page in pages:
        for item in page["Items"]:
            task = {k: str(next(iter(v.values()))) for k, v in item.items()}
            if task.get("input") in inputs:
                found.setdefault(task["input"], []).append(task)
    return found


def _percentile(sorted_values: list[float], percent: int) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return round(sorted_values[0], 1)
    return round(statistics.quantiles(sorted_values, n=100, method="inclusive")[percent - 1], 1)


@contextmanager
def _tiny_clip() -> Iterator[str]:
    """A 1 s 160x90 clip, so the queue of encodes the burst makes drains quickly."""
    with tempfile.TemporaryDirectory(prefix="transcoder-load-") as folder:
        yield generate_clip(os.path.join(folder, "tiny.mp4"), seconds=1, size="160x90", rate=25)


def main(argv: list[str]) -> int:
    """`python -m bench.load [STATE_FILE]`: the burst against a running `make local`; its figures as JSON."""
    import argparse

    from localmode.__main__ import STATE_FILE

    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("state_file", nargs="?", default=str(STATE_FILE), help="local mode's ready file")
    parser.add_argument("--create-tasks", type=int, default=Burst.create_tasks)
    parser.add_argument("--drops", type=int, default=Burst.drops)
    args = parser.parse_args(argv)
    info = json.loads(Path(args.state_file).read_text())
    report = run_burst(info, Burst(create_tasks=args.create_tasks, drops=args.drops))
    print(json.dumps(report.figures(), indent=2))
    return 0 if report.accounted_for() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
