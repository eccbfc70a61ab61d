"""Cost figures: the Plan's estimate against what tasks were charged in local mode, and each runner's price of
an output minute (Lambda and Fargate, x86_64 and arm64), from the same measured CPU seconds."""

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.settings import DeploymentSettings
from localmode.access import emulator_client, local_client
from localmode.media import generate_clip
from localmode.process import local_mode_process
from transcoder.pricing import MB_PER_VCPU, Architecture

TARGET_RATIO = (0.8, 1.2)


@dataclass(frozen=True)
class Case:
    runner: str
    seconds: float
    size: str = "1280x720"
    template: str = "MP4_264_360p"


LOCAL_SETTINGS: list[tuple[dict[str, str], list[Case]]] = [
    # cdk.json's settings: up to chunk_min_input_seconds (60 s) in one Lambda.
    ({}, [Case("lambda", 30)]),
    # Longer in 10 s chunks, one at a time: on Lambda each chunk's function has the 1.70 vCPUs of its 3,008 MB to
    # itself; locally, chunks side by side would share this machine's cores and be billed their waits.
    ({"map_max_concurrency": "1"}, [Case("chunks", 90)]),
    # Every output over 1 MiB on the worker.
    ({"lambda_max_output_mib": "1"}, [Case("fargate", 30)]),
]


def measure_cost_estimates(scratch: str) -> list[dict[str, Any]]:
    """Tasks run through local mode on generated inputs; estimated_cost and cost read from query_task."""
    figures: list[dict[str, Any]] = []
    for number, (context, cases) in enumerate(LOCAL_SETTINGS):
        # One local mode per set of settings, each its own process: moto's state is per process.
        folder = Path(scratch) / f"cost-local-{number}"
        folder.mkdir()
        with local_mode_process(folder, context=context) as (info, _):
            for case in cases:
                figure = _run_case(info, case, scratch)
                print(json.dumps(figure), file=sys.stderr, flush=True)  # a later failure keeps this one
                figures.append(figure)
    return figures


def _run_case(info: dict[str, Any], case: Case, scratch: str) -> dict[str, Any]:
    clip = os.path.join(scratch, f"cost-{case.seconds:g}s-{case.size}.mp4")
    source = generate_clip(clip, seconds=case.seconds, size=case.size)
    key = f"bench-cost-{case.runner}.mp4"
    emulator_client(info, "s3").upload_file(source, str(info["input_bucket"]), key)
    client = local_client(info)
    created = client.create_task(
        f"s3://{info['input_bucket']}/{key}", f"bench/cost-{case.runner}", template_name=case.template
    )
    task_id = created["task_id"]
    client.wait(task_id, interval=0.5, timeout=3600)
    _wait_for_execution_end(info, task_id)  # the last step's charge lands as its invocation ends
    task = client.query_task(task_id)
    if task["status"] != "success":
        raise RuntimeError(f"benchmark task failed: {task}")
    ratio = task["estimated_cost"] / task["cost"] if task["cost"] else float("inf")
    return {
        "figure": "cost estimate",
        "runner": task["plan"].get("runner"),
        "chunks": task["plan"].get("chunks", 0),
        "input": f"{case.seconds:g} s {case.size} 30 fps H.264 + AAC → {case.template}",
        "estimated_cost": round(task["estimated_cost"], 7),
        "cost": round(task["cost"], 7),
        "ratio": round(ratio, 3),
        "target_ratio": list(TARGET_RATIO),
        "within_target": TARGET_RATIO[0] <= ratio <= TARGET_RATIO[1],
        "method": (
            "python -m localmode run in its own process: create_task, wait for the execution to end, then "
            "query_task's estimated_cost (the Plan's model, transcoder/costs.py) ÷ cost (each step's handler wall "
            "time, rounded up to 1 ms, x its function's memory x the GB-second price, plus the request; the worker's "
            "wall time x its vCPUs and memory, at least a minute; the transitions and S3 requests as estimated). "
            "Local functions do not get the vCPUs their memory buys on Lambda: this 2-core machine is shared by "
            "every invocation (and by other sessions)"
        ),
    }


def _wait_for_execution_end(info: dict[str, Any], task_id: str) -> None:
    execution_arn = str(info["state_machine_arn"]).replace(":stateMachine:", ":execution:") + f":{task_id}"
    sfn = emulator_client(info, "stepfunctions")
    deadline = time.monotonic() + 60
    while "stopDate" not in sfn.describe_execution(executionArn=execution_arn) and time.monotonic() < deadline:
        time.sleep(0.1)


def runner_cost_per_output_minute(cpu_per_minute: float, settings: DeploymentSettings) -> dict[str, Any]:
    """The encode of an output minute priced on each runner, both architectures (targets.md; issue 11)."""
    prices = settings.prices()
    lambda_vcpus = settings.transcode_memory_mb / MB_PER_VCPU
    worker_vcpus = settings.worker_cpu / 1024
    rows: dict[str, dict[str, float]] = {}
    architectures: tuple[Architecture, ...] = ("x86_64", "arm64")
    for architecture in architectures:
        lambda_seconds = cpu_per_minute / lambda_vcpus
        on_lambda = lambda_seconds * settings.transcode_memory_mb / 1024 * prices.lambda_gb_second(architecture)
        worker_seconds = cpu_per_minute / worker_vcpus

        def on_worker(seconds: float, arch: Architecture = architecture) -> float:
            return prices.fargate_task(
                seconds,
                cpu_units=settings.worker_cpu,
                memory_mib=settings.worker_memory_mib,
                storage_gib=settings.worker_ephemeral_storage_gib,
                architecture=arch,
            )

        # Per minute of a long task (the one-minute minimum spread thin); a task shorter than the minimum pays it.
        per_minute = on_worker(3600) / (3600 / worker_seconds)
        minimum = on_worker(0)
        rows[architecture] = {
            "lambda_dollars": round(on_lambda, 6),
            "fargate_dollars": round(per_minute, 6),
            "fargate_task_minimum_dollars": round(minimum, 6),
            "fargate_cheaper_from_output_minutes": round(minimum / on_lambda, 1),
        }
    return {
        "figure": "cost per output minute by runner (model)",
        "cpu_seconds_per_output_minute": round(cpu_per_minute, 2),
        **rows,
        "method": (
            "the CPU seconds of `cost` (1080p30 → 720p H.264, one output minute) on a "
            f"{settings.transcode_memory_mb} MB Lambda ({lambda_vcpus:.2f} vCPUs, per GB-second) and on the Fargate "
            f"worker ({worker_vcpus:g} vCPUs, {settings.worker_memory_mib} MiB, "
            f"{settings.worker_ephemeral_storage_gib} GiB disk: per vCPU-hour, GB-hour, storage GB-hour over 20 GB), "
            "both assuming ffmpeg keeps every vCPU busy; prices: transcoder/pricing.py's "
            "us-east-1 defaults (https://aws.amazon.com/lambda/pricing/, https://aws.amazon.com/fargate/pricing/). "
            "Fargate bills per second with a one-minute minimum, from the image pull on (not modelled): below "
            "`fargate_cheaper_from_output_minutes` of output a task pays the minimum and Lambda is cheaper"
        ),
    }
