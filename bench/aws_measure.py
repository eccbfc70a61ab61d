"""Measure the stage costs of a chunked 1080p → 720p transcode here, and model it on AWS (bench/aws_model.py).

Every step runs what the pipeline runs: `probe` (Download), `probe_keyframes` (Plan), each chunk's
`chunk_command`, `audio_command` and `join_command`, on a generated 1080p sample. CPU is user+system
seconds of the child processes (getrusage), each ffmpeg pinned to one core with `taskset` as in
bench/chunked.py, so the figure is one core's time even when other work shares the machine. Bytes read are
the children's `rchar` from /proc/self/io (Linux): what each would fetch from S3 through its presigned URL.
"""

import itertools
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.aws_model import Deployment, Estimate, Measured, Published, estimate
from bench.chunked import TEMPLATE, one_core
from infra.settings import DeploymentSettings
from localmode.media import generate_clip
from localmode.stack import static_ffmpeg
from transcoder.media.chunk_plan import DEFAULT_CHUNK_SECONDS, SourceFrames
from transcoder.media.chunk_run import chunked_steps, plan_for
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.probe import probe
from transcoder.templates import find_builtin

TARGETS_SECONDS = {600.0: 60.0, 3600.0: 90.0}
"""Source length → modelled wall-time target (docs/targets.md)."""
COST_TARGET_DOLLARS = 0.003


@dataclass(frozen=True)
class Run:
    cpu_seconds: float
    wall_seconds: float
    read_bytes: int


def _read_bytes() -> int:
    """Bytes read so far by this process and its reaped children (the kernel's rchar)."""
    with open("/proc/self/io", encoding="ascii") as counters:
        for line in counters:
            name, _, value = line.partition(":")
            if name == "rchar":
                return int(value)
    raise RuntimeError("/proc/self/io has no rchar: the AWS model measures bytes read on Linux only")


def _measured(action: Callable[[], object]) -> Run:
    before, read_before = resource.getrusage(resource.RUSAGE_CHILDREN), _read_bytes()
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    after, read_after = resource.getrusage(resource.RUSAGE_CHILDREN), _read_bytes()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(cpu, wall, read_after - read_before)


def _pinned(command: list[str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(one_core([command[0], "-loglevel", "error", *command[1:]]), check=True)

    return run


def _synthetic_frames(sample: SourceFrames, seconds: float) -> SourceFrames:
    """A source of `seconds` with the sample's frame rate and keyframe spacing, for the plan's chunk count."""
    frames = sample.frame_pts
    step = statistics.median(b - a for a, b in itertools.pairwise(frames))
    positions = {pts: i for i, pts in enumerate(frames)}
    gop = statistics.median(positions[b] - positions[a] for a, b in itertools.pairwise(sample.keyframe_pts))
    count = round(seconds / float(step * sample.time_base))
    pts = [frames[0] + round(i * step) for i in range(count)]
    return SourceFrames(
        time_base=sample.time_base,
        origin=sample.origin,
        frame_pts=pts,
        keyframe_pts=pts[:: int(gop)],
        end_pts=pts[-1] + round(step),
    )


def measure_sample(scratch: str, sample_seconds: float) -> tuple[Measured, EncodePlan, KeyframeIndex, dict[str, Any]]:
    template = find_builtin(name=TEMPLATE)
    if template is None:
        raise LookupError(f"built-in template {TEMPLATE} is missing")
    ffmpeg, _ = static_ffmpeg()
    source = generate_clip(
        os.path.join(scratch, f"aws-{sample_seconds:g}s-1080p.mp4"), seconds=sample_seconds, size="1920x1080"
    )
    probed: list[Any] = []
    header = _measured(lambda: probed.append(probe(source)))
    plan = plan_encode(template, probed[0])
    indexed: list[KeyframeIndex] = []
    index_run = _measured(lambda: indexed.append(probe_keyframes(source)))
    index = indexed[0]

    work = os.path.join(scratch, "aws-chunks")
    os.makedirs(work, exist_ok=True)
    joined = os.path.join(scratch, "aws-joined.mp4")
    steps = chunked_steps(
        plan, index, source, joined, work, plan_for(plan, index, DEFAULT_CHUNK_SECONDS), ffmpeg=ffmpeg
    )
    chunk_runs = [_measured(_pinned(command)) for command in steps.chunk_commands]
    chunk_files = [command[-1] for command in steps.chunk_commands]
    if steps.audio_command is None:
        raise ValueError("the sample has audio: the audio step must exist")
    audio_run = _measured(_pinned(steps.audio_command))
    join_run = _measured(_pinned(steps.join_command))
    frames = [chunk.frames for chunk in steps.chunks]
    measured = Measured(
        sample_seconds=float(index.frames.duration),
        source_bytes=os.path.getsize(source),
        header_probe_cpu_seconds=header.cpu_seconds,
        header_probe_read_bytes=header.read_bytes,
        index_probe_cpu_seconds=index_run.cpu_seconds,
        index_probe_read_bytes=index_run.read_bytes,
        chunk_cpu_seconds=[run.cpu_seconds for run in chunk_runs],
        chunk_read_bytes=[run.read_bytes for run in chunk_runs],
        chunk_bytes=[os.path.getsize(path) for path in chunk_files],
        audio_cpu_seconds=audio_run.cpu_seconds,
        audio_read_bytes=audio_run.read_bytes,
        audio_bytes=os.path.getsize(steps.audio_command[-1]),
        join_cpu_seconds=join_run.cpu_seconds,
        output_bytes=os.path.getsize(joined),
    )
    walls = {
        "header_probe": round(header.wall_seconds, 2),
        "index_probe": round(index_run.wall_seconds, 2),
        "chunks": [round(run.wall_seconds, 2) for run in chunk_runs],
        "audio": round(audio_run.wall_seconds, 2),
        "join": round(join_run.wall_seconds, 2),
    }
    fps_per_core = [n / run.cpu_seconds for n, run in zip(frames, chunk_runs, strict=True) if run.cpu_seconds]
    extra = {"wall_seconds_here": walls, "chunk_fps_per_core": round(statistics.median(fps_per_core), 1)}
    return measured, plan, index, extra


def deployment_from_settings() -> Deployment:
    """Memory and architecture as deployed by default; chunk memory and concurrency are the model's constants."""
    settings = DeploymentSettings()
    return Deployment(
        architecture=settings.architecture,
        step_memory_mb=settings.step_memory_mb,
        ffmpeg_memory_mb=settings.transcode_memory_mb,
    )


def aws_model_figures(scratch: str, sample_seconds: float) -> list[dict[str, Any]]:
    measured, plan, index, extra = measure_sample(scratch, sample_seconds)
    deployment, published = deployment_from_settings(), Published()
    tasks: list[tuple[float, Estimate, Estimate]] = []
    for seconds in TARGETS_SECONDS:
        chunks = len(
            plan_for(plan, KeyframeIndex(_synthetic_frames(index.frames, seconds), None), DEFAULT_CHUNK_SECONDS)
        )
        at_one_vcpu = Deployment(
            architecture=deployment.architecture,
            chunk_memory_mb=published.mb_per_vcpu,
            map_max_concurrency=deployment.map_max_concurrency,
            step_memory_mb=deployment.step_memory_mb,
            ffmpeg_memory_mb=deployment.ffmpeg_memory_mb,
        )
        tasks.append(
            (
                seconds,
                estimate(measured, seconds, chunks, deployment, published),
                estimate(measured, seconds, chunks, at_one_vcpu, published),
            )
        )
    sample = (
        f"{measured.sample_seconds:.0f} s 1920x1080 30 fps H.264 (ffmpeg testsrc2, "
        f"{measured.source_bytes * 8 / measured.sample_seconds / 1e6:.1f} Mbit/s) → {TEMPLATE}"
    )
    settings = {
        "architecture": deployment.architecture,
        "chunk_memory_mb": deployment.chunk_memory_mb,
        "chunk_vcpus": round(deployment.chunk_memory_mb / published.mb_per_vcpu, 2),
        "map_max_concurrency": deployment.map_max_concurrency,
        "step_memory_mb": deployment.step_memory_mb,
        "audio_and_join_memory_mb": deployment.ffmpeg_memory_mb,
        "chunk_seconds": DEFAULT_CHUNK_SECONDS,
    }
    seconds_figure = {
        "figure": "aws_model_seconds",
        "sample": sample,
        "settings": settings,
        "tasks": [_task_seconds(seconds, model, one_vcpu) for seconds, model, one_vcpu in tasks],
        "measured_here": {
            "chunks_in_sample": len(measured.chunk_cpu_seconds),
            "chunk_cpu_seconds_one_core": [round(s, 2) for s in measured.chunk_cpu_seconds],
            "chunk_fps_per_core": extra["chunk_fps_per_core"],
            "index_probe_cpu_seconds": round(measured.index_probe_cpu_seconds, 2),
            "index_probe_read_mb": round(measured.index_probe_read_bytes / 1e6, 1),
            "audio_cpu_seconds": round(measured.audio_cpu_seconds, 2),
            "audio_read_mb": round(measured.audio_read_bytes / 1e6, 1),
            "join_cpu_seconds": round(measured.join_cpu_seconds, 2),
            "source_mb": round(measured.source_bytes / 1e6, 1),
            "output_mb": round(measured.output_bytes / 1e6, 1),
            **extra,
        },
        "published": {
            "invoke_seconds": published.invoke_seconds,
            "cold_start_seconds": published.cold_start_seconds,
            "map_run_overhead_seconds": published.map_run_overhead_seconds,
            "s3_mb_per_second_per_connection": published.s3_bytes_per_second / 1e6,
            "s3_first_byte_seconds": published.s3_first_byte_seconds,
        },
        "method": (
            "bench/aws_model.py: each stage's one-core CPU seconds and bytes read, measured here on the sample "
            "(chunks as planned at the default chunk length, each ffmpeg pinned to one core), scaled linearly to the "
            "task's length (a chunk's cost does not scale: the slowest measured chunk stands for each); video encode "
            "time ÷ the chunk function's vCPUs (memory ÷ 1,769 MB), single-threaded steps at min(1, vCPUs); reads "
            "from S3 streamed (slower of compute and bytes at 85 MB/s, 0.2 s first byte per request); every "
            "function cold (1 s) plus 0.1 s per invoke; 7 s Distributed Map overhead; map and audio in parallel"
        ),
    }
    cost_figure = {
        "figure": "chunked_cost_per_output_minute",
        "target_dollars": COST_TARGET_DOLLARS,
        "tasks": [_task_cost(seconds, model, published) for seconds, model, _ in tasks],
        "method": (
            "the same model's invocations: billed duration (initialization included) times memory at the Lambda price "
            "for each architecture (same durations on arm64: not measured there), $0.20 per 1M requests, Standard "
            "state transitions (8 in the parent, 2 per chunk: the child execution and its Task), S3 PUT/COPY and GET "
            "requests; us-east-1 prices; S3 storage of the work files for their 2-day retention is left out"
        ),
    }
    return [seconds_figure, cost_figure]


def _task_seconds(seconds: float, model: Estimate, one_vcpu: Estimate) -> dict[str, Any]:
    stages = {stage.name: round(stage.wall_seconds, 2) for stage in model.stages}
    serial = sum(stages[name] for name in ("download", "plan", "join", "upload"))
    return {
        "source_minutes": seconds / 60,
        "chunks": model.chunks,
        "waves": model.waves,
        "wall_seconds": round(model.wall_seconds, 1),
        "target_seconds": TARGETS_SECONDS[seconds],
        "stages_seconds": {
            "download": stages["download"],
            "plan": stages["plan"],
            "parallel": {"map": stages["chunks"], "audio": stages["audio"]},
            "join": stages["join"],
            "upload": stages["upload"],
        },
        "serial_seconds": round(serial, 1),
        "wall_seconds_with_1769_mb_chunks": round(one_vcpu.wall_seconds, 1),
    }


def _task_cost(seconds: float, model: Estimate, published: Published) -> dict[str, Any]:
    return {
        "source_minutes": seconds / 60,
        "dollars_per_output_minute": {
            architecture: round(model.cost_per_output_minute(published, architecture), 5)
            for architecture in ("x86_64", "arm64")
        },
        "task_dollars_x86_64": {name: round(value, 5) for name, value in model.costs(published, "x86_64").items()},
        "transitions": model.transitions,
        "lambda_gb_seconds": round(sum(s.billed_seconds * s.memory_mb / 1024 for s in model.stages), 1),
    }
