"""Measure the stage costs of a chunked 1080p → 720p transcode here, and model it on AWS (bench/aws_model.py).

Every step runs what the pipeline runs: `probe` (Download), `probe_keyframes` (Plan), each chunk's
`chunk_command`, `audio_command` (all reading the generated 1080p sample through an HTTP URL with byte
ranges, as they read S3 through a presigned URL) and `join_command` (on local files, as Join downloads
first). CPU is user+system seconds of the child processes and of this one (getrusage: Plan parses the frame
index in Python), each ffmpeg pinned to one core with `taskset` as in bench/chunked.py, so the figure is one
core's time even when other work shares the machine.
GETs are counted by the serving process (bench/http_source.py); bytes read are each process's own count
(`Statistics: N bytes read` in the report ffmpeg and ffprobe write when FFREPORT is set, at verbose level),
collected through wrappers of the two binaries: the pipeline's own functions run unchanged.
"""

import itertools
import os
import re
import resource
import shlex
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.aws_model import Deployment, Estimate, Measured, Published, estimate
from bench.chunked import TEMPLATE, one_core
from bench.http_source import served
from infra.settings import DeploymentSettings
from localmode.media import generate_clip
from localmode.stack import static_ffmpeg
from transcoder.media.chunk_plan import SourceFrames
from transcoder.media.chunk_run import chunked_steps, plan_for
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.probe import probe
from transcoder.templates import find_builtin

TARGETS_SECONDS = {600.0: 60.0, 3600.0: 90.0}
"""Source length → modelled wall-time target (docs/targets.md)."""
COST_TARGET_DOLLARS = 0.003
_BYTES_READ = re.compile(r"Statistics: (\d+) bytes read")


@dataclass(frozen=True)
class Run:
    cpu_seconds: float
    wall_seconds: float
    read_bytes: int


class Reports:
    """ffmpeg and ffprobe wrappers that write each run's verbose report (FFREPORT) into one folder."""

    def __init__(self, folder: Path, ffmpeg: str, ffprobe: str) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.ffmpeg = self._wrapper("ffmpeg", ffmpeg)
        self.ffprobe = self._wrapper("ffprobe", ffprobe)

    def _wrapper(self, name: str, binary: str) -> str:
        # One report per process ($$ is the pid ffmpeg keeps after exec); level 40 is verbose.
        report = f"file={self.folder}/%p-$$.log:level=40"
        script = self.folder.parent / f"{name}-reporting"
        script.write_text(f'#!/bin/sh\nFFREPORT="{report}"\nexport FFREPORT\nexec {shlex.quote(binary)} "$@"\n')
        script.chmod(0o755)
        return str(script)

    def take_bytes_read(self) -> int:
        """Bytes the processes reported reading since the last call; their reports are then removed."""
        total = 0
        for report in self.folder.glob("*.log"):
            total += bytes_read(report.read_text(errors="replace"))
            report.unlink()
        return total

    def measured(self, action: Callable[[], object]) -> Run:
        """CPU of the processes `action` runs and of this one (the frame index is parsed here, as in Plan)."""
        self.take_bytes_read()
        before, started = _cpu_seconds(), time.perf_counter()
        action()
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - before
        return Run(cpu, wall, self.take_bytes_read())


def _cpu_seconds() -> float:
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            del os.environ[name]
        else:
            os.environ[name] = previous


def _pinned(command: list[str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(one_core([command[0], "-loglevel", "error", *command[1:]]), check=True)

    return run


def bytes_read(log: str) -> int:
    """What ffmpeg or ffprobe read from its inputs, from its verbose log (0 when it opened none)."""
    return sum(int(n) for n in _BYTES_READ.findall(log))


def frames_like(sample: SourceFrames, seconds: float) -> SourceFrames:
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


def measure_sample(
    scratch: str, sample_seconds: float, chunk_seconds: float
) -> tuple[Measured, EncodePlan, KeyframeIndex, dict[str, Any]]:
    template = find_builtin(name=TEMPLATE)
    if template is None:
        raise LookupError(f"built-in template {TEMPLATE} is missing")
    reports = Reports(Path(scratch, "aws-reports"), *static_ffmpeg())
    name = f"aws-{sample_seconds:g}s-1080p.mp4"
    source = generate_clip(os.path.join(scratch, name), seconds=sample_seconds, size="1920x1080")
    work = os.path.join(scratch, "aws-chunks")
    os.makedirs(work, exist_ok=True)
    joined = os.path.join(scratch, "aws-joined.mp4")
    with served(source) as (url, counts), _environment("FFPROBE_PATH", reports.ffprobe):
        probed: list[Any] = []
        header, header_gets = reports.measured(lambda: probed.append(probe(url))), counts.take().gets
        plan = plan_encode(template, probed[0])
        indexed: list[KeyframeIndex] = []
        index_run, index_gets = reports.measured(lambda: indexed.append(probe_keyframes(url))), counts.take().gets
        index = indexed[0]
        chunks = plan_for(plan, index, chunk_seconds)
        steps = chunked_steps(plan, index, url, joined, work, chunks, ffmpeg=reports.ffmpeg)
        chunk_runs = []
        for command in steps.chunk_commands:
            chunk_runs.append((reports.measured(_pinned(command)), counts.take().gets))
        if steps.audio_command is None:
            raise ValueError("the sample has audio: the audio step must exist")
        audio_run, audio_gets = reports.measured(_pinned(steps.audio_command)), counts.take().gets
    join_run = reports.measured(_pinned(steps.join_command))
    measured = Measured(
        sample_seconds=float(index.frames.duration),
        source_bytes=os.path.getsize(source),
        header_probe_cpu_seconds=header.cpu_seconds,
        header_probe_read_bytes=header.read_bytes,
        header_probe_requests=header_gets,
        index_probe_cpu_seconds=index_run.cpu_seconds,
        index_probe_read_bytes=index_run.read_bytes,
        index_probe_requests=index_gets,
        chunk_cpu_seconds=[run.cpu_seconds for run, _ in chunk_runs],
        chunk_read_bytes=[run.read_bytes for run, _ in chunk_runs],
        chunk_requests=[gets for _, gets in chunk_runs],
        chunk_bytes=[sum(os.path.getsize(path) for path in files) for files in steps.chunk_files],
        audio_cpu_seconds=audio_run.cpu_seconds,
        audio_read_bytes=audio_run.read_bytes,
        audio_requests=audio_gets,
        audio_bytes=os.path.getsize(steps.audio_command[-1]),
        join_cpu_seconds=join_run.cpu_seconds,
        output_bytes=os.path.getsize(joined),
    )
    walls = {
        "header_probe": round(header.wall_seconds, 2),
        "index_probe": round(index_run.wall_seconds, 2),
        "chunks": [round(run.wall_seconds, 2) for run, _ in chunk_runs],
        "audio": round(audio_run.wall_seconds, 2),
        "join": round(join_run.wall_seconds, 2),
    }
    frames = [chunk.frames for chunk in steps.chunks]
    fps = [n / run.cpu_seconds for n, (run, _) in zip(frames, chunk_runs, strict=True) if run.cpu_seconds]
    extra = {"wall_seconds_here": walls, "chunk_fps_per_core": round(statistics.median(fps), 1)}
    return measured, plan, index, extra


def deployment_of(settings: DeploymentSettings) -> Deployment:
    # Imported here: the pipeline's modules bind their tables' names from the environment at import, which
    # the overhead figure's in-process local mode sets only when it starts.
    from transcoder.pipeline.join import DOWNLOAD_THREADS

    return Deployment(
        architecture=settings.architecture,
        chunk_memory_mb=settings.chunk_memory_mb,
        map_max_concurrency=settings.map_max_concurrency,
        step_memory_mb=settings.step_memory_mb,
        join_memory_mb=settings.join_memory_mb,
        join_fetch_threads=DOWNLOAD_THREADS,
    )


def aws_model_figures(scratch: str, sample_seconds: float) -> list[dict[str, Any]]:
    """The two figures at the default settings (DeploymentSettings()), from a sample measured now."""
    defaults = DeploymentSettings()
    measured, plan, index, extra = measure_sample(scratch, sample_seconds, defaults.chunk_seconds)
    deployment, published = deployment_of(defaults), Published()
    # What-ifs beside the defaults: chunks at one vCPU (ffmpeg's threads gain nothing from 1.7), and the
    # other steps, single-threaded, given a whole vCPU instead of 0.58.
    at_one_vcpu = replace(deployment, chunk_memory_mb=published.mb_per_vcpu)
    steps_at_one_vcpu = replace(deployment, step_memory_mb=published.mb_per_vcpu, join_memory_mb=published.mb_per_vcpu)
    tasks: list[tuple[float, Estimate, Estimate, Estimate]] = []
    for seconds in TARGETS_SECONDS:
        like_sample = KeyframeIndex(frames_like(index.frames, seconds), None)
        chunks = len(plan_for(plan, like_sample, defaults.chunk_seconds))
        tasks.append(
            (
                seconds,
                estimate(measured, seconds, chunks, deployment, published),
                estimate(measured, seconds, chunks, at_one_vcpu, published),
                estimate(measured, seconds, chunks, steps_at_one_vcpu, published),
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
        "join_memory_mb": deployment.join_memory_mb,
        "join_fetch_threads": deployment.join_fetch_threads,
        "chunk_seconds": defaults.chunk_seconds,
    }
    seconds_figure = {
        "figure": "aws_model_seconds",
        "sample": sample,
        "settings": settings,
        "tasks": [_task_seconds(seconds, *models) for seconds, *models in tasks],
        "measured_here": {
            "chunks_in_sample": len(measured.chunk_cpu_seconds),
            "chunk_cpu_seconds_one_core": [round(s, 2) for s in measured.chunk_cpu_seconds],
            "chunk_fps_per_core": extra["chunk_fps_per_core"],
            "index_probe_cpu_seconds": round(measured.index_probe_cpu_seconds, 2),
            "index_probe_read_mb": round(measured.index_probe_read_bytes / 1e6, 1),
            "gets": {
                "header_probe": measured.header_probe_requests,
                "index_probe": measured.index_probe_requests,
                "chunks": list(measured.chunk_requests),
                "audio": measured.audio_requests,
            },
            "chunk_read_mb": [round(n / 1e6, 2) for n in measured.chunk_read_bytes],
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
            "from S3 streamed (slower of compute and bytes at 85 MB/s, 0.2 s first byte per GET counted here); every "
            "function cold (1 s) plus 0.1 s per invoke; 7 s Distributed Map overhead; map and audio in parallel"
        ),
    }
    cost_figure = {
        "figure": "chunked_cost_per_output_minute",
        "target_dollars": COST_TARGET_DOLLARS,
        "tasks": [_task_cost(seconds, model, published) for seconds, model, *_ in tasks],
        "method": (
            "the same model's invocations: billed duration (initialization included) times memory at the Lambda price "
            "for each architecture (same durations on arm64: not measured there), $0.20 per 1M requests, Standard "
            "state transitions (10 in the parent, 2 per chunk: the child execution and its Task), S3 PUT/COPY and GET "
            "requests; us-east-1 prices; S3 storage of the work files for their 2-day retention is left out"
        ),
    }
    return [seconds_figure, cost_figure]


def _task_seconds(
    seconds: float, model: Estimate, chunks_one_vcpu: Estimate, steps_one_vcpu: Estimate
) -> dict[str, Any]:
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
        "wall_seconds_with_1769_mb_chunks": round(chunks_one_vcpu.wall_seconds, 1),
        "wall_seconds_with_1769_mb_steps": round(steps_one_vcpu.wall_seconds, 1),
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
