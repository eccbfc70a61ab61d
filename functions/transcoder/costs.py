"""What a task will cost (the Plan's estimate) and whether its cap allows it; the shared counts of what it bills.

The estimate prices, with transcoder.pricing, what each runner uses:
- Lambda: each step's invocation (Download, Plan, the encode, Upload; for chunks every EncodeChunk, EncodeAudio
  and Join), its duration modelled below x the step's memory x the architecture's GB-second price, plus the
  request;
- Fargate: the worker's wall time x its vCPUs and memory (and disk over 20 GB), at least one minute;
- Step Functions: the state transitions the runner's path passes through (`transitions`);
- S3: the requests the steps make (`s3_requests`).

Encode time comes from CPU seconds per second of media (`encode_cpu_per_second`), a pixel-rate model fitted
to encodes measured on one core here (README, "What a task costs"), spread over the vCPUs the function's memory
buys (1,769 MB is one vCPU), as bench/aws_model.py models the chunked path. The transitions and requests are
what `cost` is charged too (`overhead_cost`): they are counted, not measured.
"""

import math
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transcoder.cost_cap import exceeds
from transcoder.errors import CostOverCap
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.info import MediaInfo
from transcoder.pricing import MB_PER_VCPU, Architecture, Prices

if TYPE_CHECKING:
    # Only the type: importing the pipeline package loads its steps, whose table models read their names from
    # the environment at import (the bench imports this module before local mode has set it).
    from transcoder.pipeline.payloads import Runner

DECODE_CPU_PER_MEGAPIXEL = 0.0027
"""One-core CPU seconds per million source pixels decoded (and scaled) by the encode: H.264 sources."""
ENCODE_CPU_PER_MEGAPIXEL = {"libx264": 0.0077, "libx265": 0.026}
"""One-core CPU seconds per million output pixels encoded at the templates' preset (veryfast)."""
DEFAULT_ENCODE_CPU_PER_MEGAPIXEL = 0.026
AUDIO_CPU_PER_SECOND = 0.0083
"""AAC of a stereo source: 0.99 CPU-s for 120 s (README, "The AWS model")."""
STEP_SECONDS = {"download": 0.6, "plan": 0.4, "encode": 0.5, "join": 0.3, "upload": 0.4}
"""Each step's fixed time besides its encode and transfers: status writes, a probe, its S3 calls, the start of
ffmpeg (measured in local mode here; README)."""
S3_BYTES_PER_SECOND = 85e6
"""One S3 connection's throughput (bench/aws_model.py cites it): Join's downloads, Upload's copy."""
PART_BYTES = 8 * 1024 * 1024
"""boto3's multipart part size: one PUT per part of an uploaded output."""

TRANSITIONS = {"lambda": 6, "fargate": 8, "chunks": 10}
"""States a task's execution enters on each runner's path to success (infra/constructs/pipeline.py):
lambda: Download, Plan, Runner, Transcode, Upload, TaskSucceeded; fargate: Download, Plan, Runner,
TranscodeOnFargate, TranscodeReadResult, TranscodeHandOnResult, Upload, TaskSucceeded; chunks: Download, Plan,
Runner, EncodeChunked, EncodeChunks, HasAudio, EncodeAudio (or NoAudio), Join, Upload, TaskSucceeded."""
TRANSITIONS_PER_CHUNK = 2
"""The child execution a Distributed Map starts per item, and its EncodeChunk state
(https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html)."""
REFUSED_TRANSITIONS = 4
"""A task refused at Plan: Download, Plan, RecordFailure, TaskFailed."""


@dataclass(frozen=True)
class Sizes:
    """What the deployment gives each runner (infra.settings.DeploymentSettings, as the environment)."""

    architecture: Architecture = "x86_64"
    step_memory_mb: int = 1024
    transcode_memory_mb: int = 3008
    chunk_memory_mb: int = 3008
    join_memory_mb: int = 1769
    worker_cpu: int = 4096
    worker_memory_mib: int = 8192
    worker_storage_gib: int = 100

    @classmethod
    def from_env(cls) -> "Sizes":
        defaults = cls()
        architecture = os.environ.get("ARCHITECTURE", defaults.architecture)
        return cls(
            architecture="arm64" if architecture == "arm64" else "x86_64",
            step_memory_mb=int(os.environ.get("STEP_MEMORY_MB", defaults.step_memory_mb)),
            transcode_memory_mb=int(os.environ.get("TRANSCODE_MEMORY_MB", defaults.transcode_memory_mb)),
            chunk_memory_mb=int(os.environ.get("CHUNK_MEMORY_MB", defaults.chunk_memory_mb)),
            join_memory_mb=int(os.environ.get("JOIN_MEMORY_MB", defaults.join_memory_mb)),
            worker_cpu=int(os.environ.get("WORKER_CPU", defaults.worker_cpu)),
            worker_memory_mib=int(os.environ.get("WORKER_MEMORY_MIB", defaults.worker_memory_mib)),
            worker_storage_gib=int(os.environ.get("WORKER_EPHEMERAL_STORAGE_GIB", defaults.worker_storage_gib)),
        )


@dataclass(frozen=True)
class Estimate:
    runner: "Runner"
    lambda_dollars: float
    fargate_dollars: float
    requests_dollars: float
    """Step Functions transitions and S3 requests: what `overhead_cost` charges the task."""

    @property
    def total(self) -> float:
        return self.lambda_dollars + self.fargate_dollars + self.requests_dollars


def vcpus(memory_mb: int) -> float:
    return memory_mb / MB_PER_VCPU


def _output_pixel_rate(plan: EncodePlan, media: MediaInfo) -> float:
    rate = float(plan.output_rate) if plan.output_rate else (media.video.fps if media.video else 30.0)
    sizes = [(int(w), int(h)) for w, h in re.findall(r"scale=(\d+):(\d+),setsar=1\[v\d+\]", plan.ladder_graph or "")]
    return sum(w * h for w, h in sizes or [(plan.width, plan.height)]) * rate


def encode_cpu_per_second(plan: EncodePlan, media: MediaInfo) -> float:
    """One-core CPU seconds the video encode spends per second of media (module docstring)."""
    if not (plan.video_args or plan.variant_names) or media.video is None:
        return 0.0
    source = media.video.width * media.video.height * (media.video.fps or 30.0)
    arguments = " ".join([*plan.video_args, *(a for args in plan.variant_video_args for a in args)])
    codec = next((name for name in ENCODE_CPU_PER_MEGAPIXEL if name in arguments), "")
    per_output = ENCODE_CPU_PER_MEGAPIXEL.get(codec, DEFAULT_ENCODE_CPU_PER_MEGAPIXEL)
    return (source * DECODE_CPU_PER_MEGAPIXEL + _output_pixel_rate(plan, media) * per_output) / 1e6


def transitions(runner: "Runner", chunks: int) -> int:
    return TRANSITIONS[runner] + (TRANSITIONS_PER_CHUNK * chunks if runner == "chunks" else 0)


def s3_requests(runner: "Runner", chunks: int, output_bytes: int) -> tuple[int, int]:
    """(PUT/COPY/LIST-priced requests, GET-priced requests) of a task's path to success."""
    parts = max(1, math.ceil(output_bytes / PART_BYTES))
    # Download's probe (a few ranged GETs), the encode's read of the source, Upload's CopyObject.
    puts, gets = 1, 4
    if runner == "lambda":
        return puts + parts, gets
    if runner == "fargate":
        # The staged payload and the worker's result: each written once and read once.
        return puts + parts + 2, gets + 2
    # Plan's items file; per chunk its read of the source (2 GETs) and its file; the audio; the map's ItemReader
    # and ResultWriter; Join's reads of every chunk and the audio, and its upload of the output.
    return puts + 1 + chunks + 1 + 3 + parts, gets + 3 + 2 * chunks + 1 + 1 + (chunks + 1)


def overhead_cost(prices: Prices, runner: "Runner", chunks: int, output_bytes: int) -> float:
    """Step Functions transitions and S3 requests of the runner's path: estimated and billed alike."""
    puts, gets = s3_requests(runner, chunks, output_bytes)
    return prices.requests(transitions=transitions(runner, chunks), s3_puts=puts, s3_gets=gets)


def refused_cost(prices: Prices) -> float:
    """What a task refused at Plan passes through besides its invocations: 4 transitions, the probe's GETs."""
    return prices.requests(transitions=REFUSED_TRANSITIONS, s3_puts=0, s3_gets=4)


def estimate(
    *,
    runner: "Runner",
    plan: EncodePlan,
    media: MediaInfo,
    chunks: int,
    output_bytes: int,
    sizes: Sizes,
    prices: Prices,
) -> Estimate:
    """The task's cost on `runner` (module docstring), in dollars."""
    arch = sizes.architecture
    video_cpu = encode_cpu_per_second(plan, media) * media.duration
    audio_cpu = AUDIO_CPU_PER_SECOND * media.duration if plan.has_audio else 0.0
    copy_seconds = output_bytes / S3_BYTES_PER_SECOND
    # ffmpeg streams the source from S3 while it works: the slower of the two (bench/aws_model.py does the same).
    source_seconds = media.size_bytes / S3_BYTES_PER_SECOND

    def invocation(seconds: float, memory_mb: int) -> float:
        return prices.lambda_invocation(seconds, memory_mb, arch)

    step = sizes.step_memory_mb
    dollars = invocation(STEP_SECONDS["download"], step) + invocation(STEP_SECONDS["plan"], step)
    dollars += invocation(STEP_SECONDS["upload"] + copy_seconds, step)
    fargate = 0.0
    if runner == "lambda":
        memory = sizes.transcode_memory_mb
        encode = max((video_cpu + audio_cpu) / vcpus(memory), source_seconds) + STEP_SECONDS["encode"] + copy_seconds
        dollars += invocation(encode, memory)
    elif runner == "chunks":
        count = max(1, chunks)
        memory = sizes.chunk_memory_mb
        per_chunk = max(video_cpu / count / vcpus(memory), source_seconds / count) + STEP_SECONDS["encode"]
        dollars += count * invocation(per_chunk, memory)
        # Single-threaded work (AAC, stream copy) uses at most one vCPU.
        join_cpus = min(1.0, vcpus(sizes.join_memory_mb))
        if plan.has_audio:
            # The audio is read from the whole source (MP4 interleaves it with the video).
            audio = max(audio_cpu / join_cpus, source_seconds) + STEP_SECONDS["encode"]
            dollars += invocation(audio, sizes.join_memory_mb)
        dollars += invocation(STEP_SECONDS["join"] + 2 * copy_seconds, sizes.join_memory_mb)
    else:
        encode = max((video_cpu + audio_cpu) / (sizes.worker_cpu / 1024), source_seconds)
        seconds = encode + STEP_SECONDS["encode"] + copy_seconds
        fargate = prices.fargate_task(
            seconds,
            cpu_units=sizes.worker_cpu,
            memory_mib=sizes.worker_memory_mib,
            storage_gib=sizes.worker_storage_gib,
            architecture=arch,
        )
    return Estimate(
        runner=runner,
        lambda_dollars=dollars,
        fargate_dollars=fargate,
        requests_dollars=overhead_cost(prices, runner, chunks, output_bytes),
    )


def check_cap(estimated: float, max_cost: float | None) -> None:
    """Refuse a task whose estimate exceeds its cap (no cap: None or 0): the Plan's failure 2006."""
    if exceeds(estimated, max_cost):
        raise CostOverCap(
            f"the estimated cost ${estimated:.6f} exceeds max_cost ${float(max_cost or 0):.6f}: "
            "raise max_cost, or choose a smaller template"
        )
