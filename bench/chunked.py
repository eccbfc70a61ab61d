"""Chunked encode against a single pass of the same plan: CPU, PSNR and bitrate, measured side by side.

CPU is the children's user+system time (getrusage(RUSAGE_CHILDREN) deltas) of every ffmpeg/ffprobe the
path runs: for the chunked side the frame index probe (the only "split": chunks seek into the source
themselves), every chunk encode, the audio encode and the join. Each side runs pinned to one core with
`taskset` when it exists, as one Lambda vCPU runs a chunk.
"""

import os
import re
import resource
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localmode.stack import static_ffmpeg
from transcoder.media.chunk_run import chunked_steps, plan_for
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.keyframes import KeyframeIndex, probe_keyframes
from transcoder.media.probe import probe
from transcoder.templates import find_builtin

TEMPLATE = "MP4_264_720p"


@dataclass(frozen=True)
class Cost:
    cpu_seconds: float
    wall_seconds: float


def _measured(action: Callable[[], object]) -> Cost:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    action()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Cost((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall)


def one_core(command: list[str]) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", "0", *command] if taskset else command


def _run(command: list[str]) -> None:
    subprocess.run(one_core([command[0], "-loglevel", "error", *command[1:]]), check=True)


def _runner(commands: list[list[str]]) -> Callable[[], None]:
    def run_all() -> None:
        for command in commands:
            _run(command)

    return run_all


def psnr_db(output: str, source: str, plan: EncodePlan) -> float:
    """Average PSNR of `output` against the source scaled to the output's size (ffmpeg's psnr filter)."""
    ffmpeg, _ = static_ffmpeg()
    graph = f"[1:v]scale={plan.width}:{plan.height},setsar=1[ref];[0:v][ref]psnr"
    stderr = subprocess.run(
        [ffmpeg, "-i", output, "-i", source, "-lavfi", graph, "-f", "null", "-"], capture_output=True, text=True
    ).stderr
    match = re.search(r"PSNR .*average:([0-9.]+)", stderr)
    if not match:
        raise RuntimeError(f"no PSNR in ffmpeg's output:\n{stderr[-1000:]}")
    return float(match.group(1))


def video_bytes(path: str) -> int:
    _, ffprobe = static_ffmpeg()
    output = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=size", "-of", "csv=p=0", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sum(int(line) for line in output.split() if line.isdigit())


def measure_chunked(source: str, scratch: str, chunk_seconds: float) -> dict[str, Any]:
    template = find_builtin(name=TEMPLATE)
    if template is None:
        raise LookupError(f"built-in template {TEMPLATE} is missing")
    ffmpeg, _ = static_ffmpeg()
    media = probe(source)
    video = media.video
    if video is None:
        raise ValueError(f"{source} has no video")
    plan = plan_encode(template, media)
    single = os.path.join(scratch, "single.mp4")
    single_cost = _measured(lambda: _run(plan.command(ffmpeg, source, single)))

    work = os.path.join(scratch, f"chunks-{chunk_seconds:g}")
    os.makedirs(work, exist_ok=True)
    indexed: list[KeyframeIndex] = []
    probe_cost = _measured(lambda: indexed.append(probe_keyframes(source)))
    index = indexed[0]
    chunks = plan_for(plan, index, chunk_seconds)
    joined = os.path.join(scratch, f"chunked-{chunk_seconds:g}.mp4")
    steps = chunked_steps(plan, index, source, joined, work, chunks, ffmpeg=ffmpeg)
    stages = {"chunk_encodes": steps.chunk_commands}
    if steps.audio_command is not None:
        stages["audio"] = [steps.audio_command]
    stages["join"] = [steps.join_command]  # last: it reads what the others wrote
    stage_costs = {name: _measured(_runner(commands)) for name, commands in stages.items()}
    chunked_cpu = probe_cost.cpu_seconds + sum(cost.cpu_seconds for cost in stage_costs.values())

    single_psnr, chunked_psnr = psnr_db(single, source, plan), psnr_db(joined, source, plan)
    single_bytes, chunked_bytes = video_bytes(single), video_bytes(joined)
    return {
        "figure": "chunked encode vs single pass",
        "input": f"{media.duration:.0f} s {video.width}x{video.height} {video.fps:g} fps H.264, {TEMPLATE}",
        "chunk_seconds": chunk_seconds,
        "chunks": len(chunks),
        "chunked_cpu_overhead": round(chunked_cpu / single_cost.cpu_seconds, 3),
        "chunked_psnr_delta_db": round(chunked_psnr - single_psnr, 3),
        "chunked_bitrate_delta": round(chunked_bytes / single_bytes - 1, 4),
        "single_pass_cpu_seconds": round(single_cost.cpu_seconds, 2),
        "chunked_cpu_seconds": {
            "index_probe": round(probe_cost.cpu_seconds, 2),
            **{name: round(cost.cpu_seconds, 2) for name, cost in stage_costs.items()},
        },
        "wall_seconds_one_core": {
            "single_pass": round(single_cost.wall_seconds, 1),
            "index_probe": round(probe_cost.wall_seconds, 2),
            **{name: round(cost.wall_seconds, 2) for name, cost in stage_costs.items()},
        },
        "psnr_db": {"single_pass": round(single_psnr, 3), "chunked": round(chunked_psnr, 3)},
        "targets": {"chunked_cpu_overhead": 1.10, "chunked_psnr_delta_db": -0.1, "chunked_bitrate_delta": 0.05},
        "method": (
            "the same plan_encode arguments run once whole and as chunks (frame index probe, video-only chunks "
            "snapped to source keyframes, audio once, concat join by copy), each process pinned to one core with "
            "taskset; CPU is user+sys of the child processes (getrusage); PSNR of each output against the source "
            "scaled to 720p (ffmpeg psnr filter); bitrate from the video packets' bytes"
        ),
    }
