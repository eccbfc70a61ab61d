"""Pipeline overhead: local mode create_task → success, over one bare ffmpeg doing the same encode."""

import os
import resource
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import boto3

from localmode.access import local_client
from localmode.stack import LocalStack, static_ffmpeg
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


def pipeline_task(stack: LocalStack, input_url: str, output: str, template: Template) -> float:
    """Seconds from sending create_task to the end of the task's execution.

    The client polls query_task gently (every 250 ms), because polling shares the machine with ffmpeg;
    the end is the execution's stopDate, which comes just after the Upload step wrote `success`.
    """
    client = local_client(stack.describe())
    started = time.time()
    task_id = client.create_task(input_url, output, template_name=template.name)["task_id"]
    final = client.wait(task_id, interval=0.25, timeout=3600)
    if final["status"] != "success":
        raise RuntimeError(f"benchmark task failed: {final}")
    machine_arn = stack.environment["STATE_MACHINE_ARN"]
    execution_arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{task_id}"
    sfn = boto3.client("stepfunctions", endpoint_url=stack.aws_url)
    while "stopDate" not in (execution := sfn.describe_execution(executionArn=execution_arn)):
        time.sleep(0.05)  # success is written inside Upload, a moment before the execution ends
    return execution["stopDate"].timestamp() - started


def measure_overhead(stack: LocalStack, source: str, label: str, runs: int, template_name: str) -> dict[str, Any]:
    template = find_builtin(name=template_name)
    if template is None:
        raise LookupError(f"built-in template {template_name} is missing")
    key = f"bench-{label}.mp4"  # top level: an input for create_task, not a dropped file
    boto3.client("s3", endpoint_url=stack.aws_url).upload_file(source, stack.input_bucket, key)
    input_url = f"s3://{stack.input_bucket}/{key}"
    pipeline_seconds: list[float] = []
    bare_seconds: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        # Alternate the two, so that the machine's noise falls on both alike.
        for run in range(runs):
            pipeline_seconds.append(pipeline_task(stack, input_url, f"bench/{label}-{run}", template))
            bare_seconds.append(bare_encode(source, template, os.path.join(scratch, "bare.mp4")).wall_seconds)
    pipeline_median, bare_median = statistics.median(pipeline_seconds), statistics.median(bare_seconds)
    return {
        "input": label,
        "template": template_name,
        "runs": runs,
        "pipeline_seconds_median": round(pipeline_median, 3),
        "bare_ffmpeg_seconds_median": round(bare_median, 3),
        "ratio": round(pipeline_median / bare_median, 3),
        "pipeline_seconds": [round(s, 3) for s in pipeline_seconds],
        "bare_ffmpeg_seconds": [round(s, 3) for s in bare_seconds],
    }
