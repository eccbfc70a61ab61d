"""Pipeline overhead: local mode create_task → success, over one bare ffmpeg doing the same encode."""

import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mypy_boto3_stepfunctions import SFNClient

from localmode.access import emulator_client, local_client
from localmode.stack import static_ffmpeg
from transcoder.media.encode_plan import plan_encode
from transcoder.media.probe import probe
from transcoder.templates import Template, find_builtin


@dataclass(frozen=True)
class Timed:
    wall_seconds: float
    cpu_seconds: float


def bare_encode(source: str, template: Template, destination: str) -> Timed:
    """The same argument list the Transcode step builds, run directly on local files."""
    ffmpeg, _ = static_ffmpeg()
    command = plan_encode(template, probe(source)).command(ffmpeg, source, destination)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([*command[:1], "-loglevel", "error", *command[1:]], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu)


def pipeline_task(
    local: Mapping[str, Any], input_url: str, output: str, template: Template, runner: str | None = None
) -> float:
    """Seconds from sending create_task to the end of the task's execution, in the local mode `local` describes
    (LocalStack.describe() or a `python -m localmode run` ready file).

    The client polls query_task gently (every 250 ms), because polling shares the machine with ffmpeg;
    the end is the execution's stopDate, which comes just after the Upload step wrote `success`.
    `runner`: the runner the Plan must have chosen, so that a figure never measures another path than it names.
    """
    client = local_client(local)
    started = time.time()
    task_id = client.create_task(input_url, output, template_name=template.name)["task_id"]
    final = client.wait(task_id, interval=0.25, timeout=3600)
    if final["status"] != "success":
        raise RuntimeError(f"benchmark task failed: {final}")
    if runner is not None and final.get("plan", {}).get("runner") != runner:
        raise RuntimeError(f"benchmark task ran on {final.get('plan')}, not the {runner} runner it measures")
    machine_arn = str(local["state_machine_arn"])
    execution_arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{task_id}"
    sfn: SFNClient = emulator_client(local, "stepfunctions")
    while "stopDate" not in (execution := sfn.describe_execution(executionArn=execution_arn)):
        time.sleep(0.05)  # success is written inside Upload, a moment before the execution ends
    return execution["stopDate"].timestamp() - started


def measure_overhead(
    local: Mapping[str, Any], source: str, label: str, runs: int, template_name: str, runner: str | None = None
) -> dict[str, Any]:
    template = find_builtin(name=template_name)
    if template is None:
        raise LookupError(f"built-in template {template_name} is missing")
    key = f"bench-{label}.mp4"  # top level: an input for create_task, not a dropped file
    input_bucket = str(local["input_bucket"])
    emulator_client(local, "s3").upload_file(source, input_bucket, key)
    input_url = f"s3://{input_bucket}/{key}"
    pipeline_seconds: list[float] = []
    bare_seconds: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        # Alternate the two, so that the machine's noise falls on both alike.
        for run in range(runs):
            pipeline_seconds.append(pipeline_task(local, input_url, f"bench/{label}-{run}", template, runner))
            bare_seconds.append(bare_encode(source, template, os.path.join(scratch, "bare.mp4")).wall_seconds)
    pipeline_median, bare_median = statistics.median(pipeline_seconds), statistics.median(bare_seconds)
    return {
        "input": label,
        "template": template_name,
        "runner": runner or "as planned",
        "runs": runs,
        "pipeline_seconds_median": round(pipeline_median, 3),
        "bare_ffmpeg_seconds_median": round(bare_median, 3),
        "ratio": round(pipeline_median / bare_median, 3),
        "pipeline_seconds": [round(s, 3) for s in pipeline_seconds],
        "bare_ffmpeg_seconds": [round(s, 3) for s in bare_seconds],
    }
