"""Print the figures of targets.md as JSON. Method: see each figure's `method`.

make bench                 # everything (about 19 minutes on 2 cores)
make bench BENCH_ARGS=--quick   # skip the 10-minute input; chunked and aws_model take a 30 s input, not 120 s
make bench BENCH_ARGS="--only local_load"   # one figure (cold_start, package, cost, overhead, local_load, chunked,
                                            # aws_model)
make bench BENCH_ARGS="--only chunked --chunk-seconds 10 --chunk-seconds 30"   # chunked at other lengths
make bench BENCH_ARGS="--only aws_model"   # modelled AWS wall time and cost of chunked 10 and 60 min tasks
make bench BENCH_ARGS="--only worker_overhead"   # the Fargate worker's path (local mode's child process) vs ffmpeg
make bench BENCH_ARGS="--only cost_estimate"   # estimated_cost ÷ cost of tasks run through local mode
make bench BENCH_ARGS="--only runner_cost"   # cost per output minute on Lambda and on Fargate, x86_64 and arm64
"""

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.aws_measure import aws_model_figures
from bench.chunked import measure_chunked
from bench.cold_start import api_cold_start
from bench.cost_estimate import measure_cost_estimates, runner_cost_per_output_minute
from bench.load import Burst, run_burst
from bench.overhead import bare_encode, measure_overhead
from infra.settings import DeploymentSettings
from localmode.media import generate_clip
from localmode.ports import free_port
from localmode.process import local_mode_process
from localmode.stack import LocalStack, use_static_ffmpeg
from transcoder.media.chunk_plan import DEFAULT_CHUNK_SECONDS
from transcoder.pricing import DEFAULT_PRICES, MB_PER_VCPU, Architecture
from transcoder.templates import find_builtin

ROOT = Path(__file__).resolve().parents[1]


def api_package_mb() -> dict[str, Any]:
    """Unzipped size of the API function's bundled code asset (it has no layers)."""
    from infra.bundling import bundle_functions

    with tempfile.TemporaryDirectory() as out:
        bundle_functions(out, "x86_64")
        size = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    return {
        "figure": "API Lambda package",
        "megabytes": round(size / 1e6, 2),
        "target_mb": 30,
        "method": "bundled code asset of the API function (code + locked dependencies, x86_64), unzipped",
    }


def cpu_seconds_per_output_minute(scratch: str) -> float:
    """CPU seconds (user+sys) of the 720p encode of a 30 s 1080p30 clip, per output minute."""
    source = generate_clip(os.path.join(scratch, "1080p.mp4"), seconds=30, size="1920x1080", rate=30)
    template = find_builtin(name="MP4_264_720p")
    if template is None:
        raise LookupError("built-in template MP4_264_720p is missing")
    timed = bare_encode(source, template, os.path.join(scratch, "720p.mp4"))
    return timed.cpu_seconds * 60 / 30


def cost_per_output_minute(
    cpu_per_minute: float, memory_mb: int = 3008, architecture: Architecture = "x86_64"
) -> dict[str, Any]:
    """CPU-seconds per output minute of 1080p → 720p H.264, priced as Lambda at the configured memory."""
    vcpus = memory_mb / MB_PER_VCPU
    price = DEFAULT_PRICES.lambda_gb_second(architecture)
    dollars = cpu_per_minute / vcpus * memory_mb / 1024 * price
    return {
        "figure": "cost per output minute (model)",
        "dollars": round(dollars, 5),
        "cpu_seconds_per_output_minute": round(cpu_per_minute, 2),
        "target_dollars": 0.003,
        "method": (
            f"CPU seconds (user+sys) of the 720p encode of a 30 s 1080p30 clip, per output minute, spread over the "
            f"{vcpus:.2f} vCPUs of a {memory_mb} MB {architecture} Lambda at "
            f"${price}/GB-s; assumes ffmpeg keeps those vCPUs busy"
        ),
    }


def local_load(scratch: str) -> dict[str, Any]:
    """Local mode under a burst of signed create_task calls and dropped files, from another process."""
    burst = Burst()
    with local_mode_process(Path(scratch)) as (info, _):
        report = run_burst(info, burst)
    return {
        "figure": "local mode under load",
        **report.figures(),
        "all_answered_and_accounted_for": report.accounted_for(),
        "method": (
            f"python -m localmode run on 127.0.0.1 in its own process; at once, {burst.create_tasks} signed "
            f"create_task calls (one connection each, transcoder_client) and {burst.drops} files dropped into the "
            "input bucket, input a 1 s 160x90 clip; latency is each call's send → answer; tasks read from the task "
            "table until all terminal; drain is last request sent → every task terminal"
        ),
    }


def chunked(scratch: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Chunked encode vs single pass on a generated 1080p H.264 input (120 s; 30 s with --quick)."""
    seconds = 30 if args.quick else 120
    source = generate_clip(os.path.join(scratch, f"chunked-{seconds}s-1080p.mp4"), seconds=seconds, size="1920x1080")
    return [measure_chunked(source, scratch, length) for length in args.chunk_seconds or [DEFAULT_CHUNK_SECONDS]]


def aws_model(scratch: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """aws_model_seconds and the chunked cost per output minute, modelled from a 120 s 1080p sample (30 s: --quick)."""
    return aws_model_figures(scratch, sample_seconds=30 if args.quick else 120)


FIGURES = (
    "cold_start", "package", "cost", "runner_cost", "overhead", "worker_overhead", "local_load", "chunked",
    "aws_model", "cost_estimate",
)  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 10-minute input; chunked on 30 s, not 120 s")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side for the 30 s input")
    parser.add_argument("--long-runs", type=int, default=3, help="runs of each side for the 10-minute input")
    parser.add_argument("--only", choices=FIGURES, action="append", help="measure only this figure (repeatable)")
    parser.add_argument(
        "--chunk-seconds",
        type=float,
        action="append",
        help=f"chunk length of the chunked figures (repeatable; default {DEFAULT_CHUNK_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    wanted = set(args.only or FIGURES)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    use_static_ffmpeg()

    figures: list[dict[str, Any]] = []
    if "cold_start" in wanted:
        figures.append(api_cold_start())
    if "package" in wanted:
        figures.append(api_package_mb())
    with tempfile.TemporaryDirectory(prefix="transcoder-bench-") as scratch:
        if wanted & {"cost", "runner_cost"}:
            cpu_per_minute = cpu_seconds_per_output_minute(scratch)
            if "cost" in wanted:
                figures.append(cost_per_output_minute(cpu_per_minute))
            if "runner_cost" in wanted:
                figures.append(runner_cost_per_output_minute(cpu_per_minute, DeploymentSettings()))
        if "cost_estimate" in wanted:
            figures.extend(measure_cost_estimates(scratch))
        if "overhead" in wanted:
            figures.extend(_overheads(scratch, args))
        if "worker_overhead" in wanted:
            figures.extend(_worker_overheads(scratch, args))
        if "chunked" in wanted:
            figures.extend(chunked(scratch, args))
        if "aws_model" in wanted:
            figures.extend(aws_model(scratch, args))
        if "local_load" in wanted:
            # After the others: its 250 encodes would otherwise share the machine with their timings.
            figures.append(local_load(scratch))
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "figures": figures,
    }
    print(json.dumps(report, indent=2))
    return 0


def _overheads(scratch: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = []
    stack = LocalStack(api_port=0, aws_port=free_port(), log_level="ERROR").start()
    try:
        inputs = [("30s-720p", 30.0, args.runs, 1.10)]
        if not args.quick:
            inputs.append(("10min-720p", 600.0, args.long_runs, 1.03))
        for label, seconds, runs, target in inputs:
            source = generate_clip(os.path.join(scratch, f"{label}.mp4"), seconds=seconds, size="1280x720")
            result = measure_overhead(stack.describe(), source, label, runs, "MP4_264_360p")
            figures.append(
                {
                    "figure": "pipeline overhead",
                    **result,
                    "target_ratio": target,
                    "method": (
                        "local mode: from sending POST /api/create_task to the stopDate of the task's execution "
                        "(query_task polled every 250 ms until success), over the same ffmpeg argument list run "
                        "directly on the local file; the two alternate, medians compared"
                    ),
                }
            )
    finally:
        stack.stop()
    return figures


def _worker_overheads(scratch: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The worker's path: every task of a local mode started with `lambda_max_output_mib=1` goes to the worker.

    Local mode runs `ecs:runTask.sync` as `python -m worker`, the image's entry point, in a child process: the
    figure is what the worker adds to ffmpeg (its start, staging the input, the upload, the states around it),
    not Fargate's own start (30-60 s to pull and start an image on AWS, which README's "Fargate worker" gives).
    """
    figures: list[dict[str, Any]] = []
    folder = Path(scratch) / "worker-local"
    folder.mkdir()
    with local_mode_process(folder, context={"lambda_max_output_mib": "1"}) as (info, _):
        inputs = [("30s-720p", 30.0, args.runs)]
        if not args.quick:
            inputs.append(("10min-720p", 600.0, args.long_runs))
        for label, seconds, runs in inputs:
            source = Path(scratch) / f"{label}.mp4"
            if not source.exists():  # the Lambda path's figure may have made it
                generate_clip(str(source), seconds=seconds, size="1280x720")
            result = measure_overhead(info, str(source), f"worker-{label}", runs, "MP4_264_360p", runner="fargate")
            figures.append(
                {
                    "figure": "worker path overhead",
                    **result,
                    "method": (
                        "local mode in its own process with --context lambda_max_output_mib=1 (the Plan sends "
                        "every task to the Fargate worker, run as `python -m worker`); from sending POST "
                        "/api/create_task to the stopDate of the task's execution, over the same ffmpeg argument "
                        "list run directly on the local file; the two alternate, medians compared"
                    ),
                }
            )
    return figures


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
