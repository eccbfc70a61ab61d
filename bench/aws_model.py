"""Wall time and cost on AWS of a chunked transcode, modelled from measured stage costs: pure arithmetic.

The pipeline modelled (one Lambda invocation per state unless said):
Download (ffprobe of the input through a presigned URL) → Plan (frame index of the whole source over HTTP,
chunk plan, items JSON to S3) → Parallel[ Distributed Map (one invocation per chunk: ffmpeg reads its own
range of the source, encodes video only, uploads its chunk) ; Audio (one invocation over the whole
source) ] → Join (downloads chunks and audio, stream copy, uploads the output) → Upload (S3 CopyObject).

What is measured on this machine (bench/aws_measure.py) comes in as `Measured`: CPU seconds of each ffmpeg
or ffprobe run pinned to one core, and the bytes each read and wrote. Everything else is a published
figure, cited where it is defined below (and in README.md, "Measured figures"); prices are transcoder.pricing's
defaults, cited there:

- vCPUs per memory: "At 1,769 MB, a function has the equivalent of one vCPU"
  https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
- Lambda prices (us-east-1): x86 $0.0000166667, arm64 $0.0000133334 per GB-s, $0.20 per 1M requests; duration
  includes the initialization code https://aws.amazon.com/lambda/pricing/
- warm invoke: an initialized function responds "in double-digit milliseconds"
  https://aws.amazon.com/lambda/pricing/ (Provisioned Concurrency section) — taken as 0.1 s per invoke
- cold start: "varies from under 100 ms to over 1 second"
  https://docs.aws.amazon.com/lambda/latest/operatorguide/execution-environments.html — taken as 1 s
- Lambda scaling: 1,000 execution environments every 10 seconds per function
  https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html
- Distributed Map overhead: a 100-item map of no-op children took 7+ s from MapRunStarted to the parent
  continuing https://repost.aws/questions/QUn5oKgcnjRTemt39V9hdtyw/why-is-step-function-s-distributed-map-slow
- Step Functions Standard: $0.025 per 1,000 state transitions https://aws.amazon.com/step-functions/pricing/;
  a Distributed Map is charged one transition per child workflow execution it starts, besides the child's own
  states https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html
- S3: "one concurrent request for each 85-90 MB/s of desired network throughput"; first-byte latency "roughly
  100-200 milliseconds" https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html — taken as 85 MB/s per
  connection and 0.2 s per request
- S3 Standard requests (us-east-1): PUT/COPY/POST/LIST $0.005 per 1,000, GET $0.0004 per 1,000
  https://aws.amazon.com/s3/pricing/
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from transcoder.costs import TRANSITIONS, TRANSITIONS_PER_CHUNK
from transcoder.pricing import DEFAULT_PRICES, MB_PER_VCPU

Architecture = Literal["x86_64", "arm64"]

PARENT_TRANSITIONS = TRANSITIONS["chunks"]
"""States a chunked task's execution enters (infra/constructs/pipeline.py; transcoder.costs counts them)."""
CHILD_TRANSITIONS = TRANSITIONS_PER_CHUNK
"""Per chunk: the child execution the Distributed Map starts, and its EncodeChunk Task."""
UPLOAD_PART_BYTES = 8 * 1024 * 1024
UPLOAD_THREADS = 10
"""boto3's upload_file defaults (TransferConfig: multipart_chunksize 8 MiB, max_concurrency 10): Join's upload
of the output is one PUT per part, ten at a time."""


@dataclass(frozen=True)
class Published:
    """Latencies, throughputs and prices from AWS's documentation and published measurements (module docstring)."""

    mb_per_vcpu: int = MB_PER_VCPU
    lambda_price_per_gb_second: dict[str, float] = field(
        default_factory=lambda: {
            "x86_64": DEFAULT_PRICES.lambda_gb_second_x86_64,
            "arm64": DEFAULT_PRICES.lambda_gb_second_arm64,
        }
    )
    lambda_price_per_request: float = DEFAULT_PRICES.lambda_request
    invoke_seconds: float = 0.1
    cold_start_seconds: float = 1.0
    lambda_scale_environments: int = 1000
    lambda_scale_period_seconds: float = 10.0
    map_run_overhead_seconds: float = 7.0
    transition_price: float = DEFAULT_PRICES.state_transition
    s3_bytes_per_second: float = 85e6
    s3_first_byte_seconds: float = 0.2
    s3_put_price: float = DEFAULT_PRICES.s3_put_request
    s3_get_price: float = DEFAULT_PRICES.s3_get_request


@dataclass(frozen=True)
class Deployment:
    """What the model needs of the deployment (bench/aws_measure.py reads it from DeploymentSettings)."""

    architecture: Architecture
    chunk_memory_mb: int
    map_max_concurrency: int
    step_memory_mb: int
    """Download, Plan and Upload run at it (infra/constructs/workers.py)."""
    join_memory_mb: int
    """EncodeAudio and Join run at it."""
    join_fetch_threads: int
    """Chunk files Join fetches at once (transcoder.pipeline.join.DOWNLOAD_THREADS): their first bytes overlap;
    their bytes are modelled at one connection's throughput, as Lambda's network bandwidth is not documented."""


@dataclass(frozen=True)
class Measured:
    """Stage costs measured on a sample of `sample_seconds` of the source, each process on one core.

    `*_cpu_seconds` are user+system seconds (one core's time); `*_read_bytes` what the process read of the
    source through its URL and `*_requests` the GETs it sent for it (on AWS: from S3, through the presigned
    URL); `*_bytes` what it wrote.
    """

    sample_seconds: float
    source_bytes: int
    header_probe_cpu_seconds: float
    header_probe_read_bytes: int
    header_probe_requests: int
    index_probe_cpu_seconds: float
    index_probe_read_bytes: int
    index_probe_requests: int
    chunk_cpu_seconds: Sequence[float]
    chunk_read_bytes: Sequence[int]
    chunk_requests: Sequence[int]
    chunk_bytes: Sequence[int]
    audio_cpu_seconds: float
    audio_read_bytes: int
    audio_requests: int
    audio_bytes: int
    join_cpu_seconds: float
    output_bytes: int

    def __post_init__(self) -> None:
        per_chunk = (self.chunk_cpu_seconds, self.chunk_read_bytes, self.chunk_requests, self.chunk_bytes)
        if not self.chunk_cpu_seconds or len({len(values) for values in per_chunk}) != 1:
            raise ValueError("one CPU time, read size, GET count and output size per measured chunk, at least one")


@dataclass(frozen=True)
class Invocation:
    """One stage's Lambda invocations: wall time on the critical path and what is billed."""

    name: str
    memory_mb: int
    count: int
    wall_seconds: float
    """From the state's start to its end, as the workflow waits for it."""
    billed_seconds: float
    """Duration billed over all `count` invocations (initialization included)."""
    s3_puts: int
    s3_gets: int


@dataclass(frozen=True)
class Estimate:
    source_seconds: float
    chunks: int
    waves: int
    stages: list[Invocation]
    map_wall_seconds: float
    audio_wall_seconds: float
    transitions: int
    wall_seconds: float

    def stage(self, name: str) -> Invocation:
        return next(stage for stage in self.stages if stage.name == name)

    def costs(self, published: Published, architecture: Architecture) -> dict[str, float]:
        gb_seconds = sum(stage.billed_seconds * stage.memory_mb / 1024 for stage in self.stages)
        requests = sum(stage.count for stage in self.stages)
        puts = sum(stage.s3_puts for stage in self.stages)
        gets = sum(stage.s3_gets for stage in self.stages)
        parts = {
            "lambda_duration": gb_seconds * published.lambda_price_per_gb_second[architecture],
            "lambda_requests": requests * published.lambda_price_per_request,
            "step_functions_transitions": self.transitions * published.transition_price,
            "s3_requests": puts * published.s3_put_price + gets * published.s3_get_price,
        }
        return {**parts, "total": sum(parts.values())}

    def cost_per_output_minute(self, published: Published, architecture: Architecture) -> float:
        return self.costs(published, architecture)["total"] / (self.source_seconds / 60)


def vcpus(memory_mb: int, published: Published) -> float:
    return memory_mb / published.mb_per_vcpu


def on_lambda(one_core_seconds: float, memory_mb: int, published: Published, *, threaded: bool) -> float:
    """One core's CPU seconds run on a function of `memory_mb`.

    A threaded ffmpeg (video encode) keeps every vCPU share busy: time ÷ vCPUs. A single-threaded run (ffprobe,
    AAC, stream copy) cannot use more than one vCPU, but is slowed below one (1,024 MB is 0.58 vCPU).
    """
    share = vcpus(memory_mb, published)
    return one_core_seconds / (share if threaded else min(share, 1.0))


def transfer_seconds(nbytes: float, published: Published, *, requests: int = 1) -> float:
    """Bytes through one S3 connection, plus each request's first-byte latency."""
    return requests * published.s3_first_byte_seconds + nbytes / published.s3_bytes_per_second


def streamed_seconds(compute_seconds: float, nbytes: float, published: Published, *, requests: int = 1) -> float:
    """ffmpeg reading from a URL while it works: the slower of the two, after the first byte of each request."""
    return requests * published.s3_first_byte_seconds + max(compute_seconds, nbytes / published.s3_bytes_per_second)


def estimate(
    measured: Measured,
    source_seconds: float,
    chunks: int,
    deployment: Deployment,
    published: Published | None = None,
) -> Estimate:
    """Model a task of `source_seconds` of the measured kind, cut into `chunks` by the chunk plan.

    Every function starts cold (a task after an idle period); later waves of the map start warm.
    Per-source-second figures (frame index, audio, join, bytes) scale linearly from the sample, the header
    probe's CPU does not; a chunk's cost does not depend on the source's length, so the slowest measured
    chunk stands for every chunk.
    """
    published = published or Published()
    scale = source_seconds / measured.sample_seconds
    start = published.invoke_seconds + published.cold_start_seconds

    def step(name: str, memory_mb: int, work_seconds: float, puts: int, gets: int) -> Invocation:
        return Invocation(
            name, memory_mb, 1, start + work_seconds, published.cold_start_seconds + work_seconds, puts, gets
        )

    download = step(
        "download",
        deployment.step_memory_mb,
        streamed_seconds(
            # Its CPU is ffprobe starting and parsing the moov: 0.02 CPU-s for a 60-min source as for a 20 s one
            # (measured once here, README), so it is not scaled; its bytes (the moov) are, generously.
            on_lambda(measured.header_probe_cpu_seconds, deployment.step_memory_mb, published, threaded=False),
            measured.header_probe_read_bytes * scale,
            published,
            requests=measured.header_probe_requests,
        ),
        puts=0,
        gets=measured.header_probe_requests,
    )
    plan = step(
        "plan",
        deployment.step_memory_mb,
        streamed_seconds(
            on_lambda(measured.index_probe_cpu_seconds * scale, deployment.step_memory_mb, published, threaded=False),
            measured.index_probe_read_bytes * scale,
            published,
            requests=measured.index_probe_requests,
        )
        + transfer_seconds(0, published),  # the items JSON: small, one PUT
        puts=1,
        gets=measured.index_probe_requests,
    )

    # A chunk reads its range of the source (its GETs), then PUTs its file.
    chunk_works = [
        streamed_seconds(
            on_lambda(cpu, deployment.chunk_memory_mb, published, threaded=True), read, published, requests=gets
        )
        + transfer_seconds(written, published)
        for cpu, read, gets, written in zip(
            measured.chunk_cpu_seconds,
            measured.chunk_read_bytes,
            measured.chunk_requests,
            measured.chunk_bytes,
            strict=True,
        )
    ]
    mean_chunk_gets = sum(measured.chunk_requests) / len(measured.chunk_requests)
    chunk_work = max(chunk_works)
    mean_chunk_work = sum(chunk_works) / len(chunk_works)
    waves = math.ceil(chunks / deployment.map_max_concurrency)
    first_wave = min(chunks, deployment.map_max_concurrency)
    # Lambda adds 1,000 environments per 10 s: a first wave wider than that waits for the next refill.
    scale_out = (first_wave - 1) // published.lambda_scale_environments * published.lambda_scale_period_seconds
    map_wall = (
        published.map_run_overhead_seconds
        + scale_out
        + published.cold_start_seconds
        + waves * (published.invoke_seconds + chunk_work)
    )
    chunk_stage = Invocation(
        "chunks",
        deployment.chunk_memory_mb,
        chunks,
        map_wall,
        chunks * mean_chunk_work + first_wave * published.cold_start_seconds,
        s3_puts=chunks + 3,  # one file per chunk; ResultWriter's manifest and result files
        s3_gets=math.ceil(mean_chunk_gets * chunks) + 1,  # the chunks' reads; ItemReader's items JSON
    )
    audio = step(
        "audio",
        deployment.join_memory_mb,
        streamed_seconds(
            on_lambda(measured.audio_cpu_seconds * scale, deployment.join_memory_mb, published, threaded=False),
            measured.audio_read_bytes * scale,
            published,
            requests=measured.audio_requests,
        )
        + transfer_seconds(measured.audio_bytes * scale, published),
        puts=1,
        gets=measured.audio_requests,
    )
    joined_bytes = measured.output_bytes * scale
    fetched = chunks + 1
    fetch_rounds = math.ceil(fetched / deployment.join_fetch_threads)
    parts = max(1, math.ceil(joined_bytes / UPLOAD_PART_BYTES))
    join = step(
        "join",
        deployment.join_memory_mb,
        transfer_seconds(0, published)  # the items JSON
        + transfer_seconds(joined_bytes, published, requests=fetch_rounds)  # chunks + audio ≈ the output's bytes
        + on_lambda(measured.join_cpu_seconds * scale, deployment.join_memory_mb, published, threaded=False)
        # multipart: create and complete, then the parts UPLOAD_THREADS at a time
        + transfer_seconds(joined_bytes, published, requests=2 + math.ceil(parts / UPLOAD_THREADS)),
        puts=parts + 2,
        gets=fetched + 1,  # the chunks and the audio; the items JSON
    )
    upload = step("upload", deployment.step_memory_mb, transfer_seconds(joined_bytes, published), puts=1, gets=0)

    audio_wall = audio.wall_seconds
    stages = [download, plan, chunk_stage, audio, join, upload]
    wall = download.wall_seconds + plan.wall_seconds + max(map_wall, audio_wall) + join.wall_seconds
    wall += upload.wall_seconds
    transitions = PARENT_TRANSITIONS + CHILD_TRANSITIONS * chunks
    return Estimate(
        source_seconds=source_seconds,
        chunks=chunks,
        waves=waves,
        stages=stages,
        map_wall_seconds=map_wall,
        audio_wall_seconds=audio_wall,
        transitions=transitions,
        wall_seconds=wall,
    )
