"""Deployment settings: typed, read from `cdk.json` context (or `-c key=value`), with defaults."""

import ipaddress
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from transcoder.pricing import DEFAULT_PRICES, Prices
from transcoder.template_rules import DEFAULT_LIMITS, OutputLimits

if TYPE_CHECKING:
    # Only a type here: importing constructs starts CDK's node runtime, which local mode checks settings without.
    import constructs

Architecture = Literal["x86_64", "arm64"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
CONTEXT_KEY = "transcoder"
DROP_PREFIX = "drop/"
"""The input bucket's folder whose new objects are drops: the notification's filter and the ingest's
DROP_PREFIX (transcoder.settings). Not a setting: users' scripts and docs name it."""


FARGATE_MEMORY_MIB: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
"""Fargate's CPU units → the memory sizes (MiB) it allows with them: the ECS task-size table (Linux)."""


@dataclass(frozen=True)
class DeploymentSettings:
    architecture: Architecture = "x86_64"
    api_memory_mb: int = 512
    step_memory_mb: int = 1024
    transcode_memory_mb: int = 3008
    """More memory buys more vCPUs for ffmpeg (1,769 MB is one vCPU)."""
    step_timeout_seconds: int = 900
    ephemeral_storage_mib: int = 10240
    presign_expiry_seconds: int = 86400
    max_input_bytes: int = 50 * 1024**3
    """No step stores the input: ffmpeg reads it by URL (each chunk its own range). The output is staged in
    /tmp of the Transcode (short inputs) or Join (chunked) function: it must fit `ephemeral_storage_mib`."""
    max_input_seconds: int = 4 * 3600
    """Longest input accepted (2003 beyond it). Inputs over `chunk_min_input_seconds` are encoded in chunks, each
    its own Lambda invocation, so the length is bounded by the Join step's time and disk, not by one encode."""
    chunk_seconds: float = 10.0
    """Target length of a chunk (cuts snap to the source's keyframes): at 10 s the chunks cost 1.015x the CPU of one
    pass and lose 0.013 dB (README, "Measured figures"); shorter chunks finish sooner but decode more."""
    chunk_min_input_seconds: float = 60.0
    """Inputs at most this long are encoded by one Lambda invocation; longer ones in chunks."""
    map_max_concurrency: int = 1000
    """Chunks encoded at once (the Distributed Map's MaxConcurrency): keep it under the account's Lambda
    concurrency (1,000 by default), leaving room for the API."""
    chunk_memory_mb: int = 3008
    """Memory of the chunk encoder (1,769 MB is one vCPU; 3,008 MB about 1.7)."""
    lambda_max_output_mib: int = 8192
    """An output estimated larger than this (MiB) is encoded on the Fargate worker: Transcode and Join hold the
    whole output in /tmp (`ephemeral_storage_mib`). Set it low (e.g. 1) to send every task to the worker."""
    join_memory_mb: int = 1769
    """Memory of EncodeAudio and Join, the chunked path's steps that handle the whole output: their ffmpeg work is
    single-threaded, so one full vCPU (1,769 MB); `make bench` models them at the step memory's 0.58 vCPU as a
    third of a 60-minute task's time."""
    log_retention_days: int = 30
    work_retention_days: int = 2
    retain_data: bool = True
    """Keep buckets and the task table when the stack is deleted."""
    extra_input_buckets: tuple[str, ...] = ()
    trusted_input_networks: tuple[str, ...] = ()
    """CIDRs that https:// inputs may come from besides the public internet (private ranges are refused)."""
    api_authorization: Literal["signature", "iam"] = "signature"
    """`signature`: the contract's access-key signature, checked by the API function; `iam`: API Gateway
    also requires SigV4-signed AWS callers in front of it."""
    max_output_pixels: int = DEFAULT_LIMITS.max_output_pixels
    """Largest output frame (width x height): bounds the Transcode function's memory (a 2 s clip upscaled
    to 7680x7680 took 4.3 GB); the default, 4096x2160, holds every 2160p frame of a UHD or DCI 4K master."""
    max_output_dimension: int = DEFAULT_LIMITS.max_output_dimension
    """Longest output side, in either orientation."""
    max_output_framerate: float = DEFAULT_LIMITS.max_output_framerate
    """Highest output frame rate; the default is the contract's own maximum (120)."""
    default_template: str = ""
    """Template of files dropped directly under `drop/` (`drop/<name.ext>`). Unset, such a drop ends as a
    `fail` task (1002) naming the missing template folder; `drop/<template_name>/…` never needs it."""

    worker_cpu: int = 4096
    """The Fargate worker's CPU units (1024 = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384."""
    worker_memory_mib: int = 8192
    """The worker's memory; Fargate allows only some sizes per CPU (FARGATE_MEMORY_MIB)."""
    worker_ephemeral_storage_gib: int = 100
    """The worker's disk for its output (and anything a step stages): 21 to 200 GiB."""
    worker_time_budget_seconds: int = 12 * 3600
    """How long one worker step may run (the ECS state's timeout adds a margin for the container's start)."""

    # No task stays non-terminal (infra/constructs/reconcile.py, transcoder.reconcile).
    sweep_interval_minutes: int = 10
    """How often the sweep looks for open tasks that no execution will end."""
    stuck_pending_seconds: int = 900
    """A task pending this long whose execution does not exist is ended by the sweep (9002)."""
    stuck_grace_seconds: int = 900
    """A task still open this long after its execution ended (or overran the state machine's timeout) is ended
    by the sweep (9002): the execution-end rule, which ends it with a specific code, gets this long first."""
    alarm_email: str = ""
    """Where the alarms' topic sends email (a subscription to confirm once); empty: the topic has no subscriber."""
    # Prices (USD) the Plan estimates with and `cost` is charged at (transcoder.pricing, where each default,
    # us-east-1's published on-demand price, is cited): set your region's, or your discounted, prices.
    price_lambda_gb_second_x86_64: float = DEFAULT_PRICES.lambda_gb_second_x86_64
    price_lambda_gb_second_arm64: float = DEFAULT_PRICES.lambda_gb_second_arm64
    price_lambda_request: float = DEFAULT_PRICES.lambda_request
    price_fargate_vcpu_hour_x86_64: float = DEFAULT_PRICES.fargate_vcpu_hour_x86_64
    price_fargate_gb_hour_x86_64: float = DEFAULT_PRICES.fargate_gb_hour_x86_64
    price_fargate_vcpu_hour_arm64: float = DEFAULT_PRICES.fargate_vcpu_hour_arm64
    price_fargate_gb_hour_arm64: float = DEFAULT_PRICES.fargate_gb_hour_arm64
    price_fargate_storage_gb_hour: float = DEFAULT_PRICES.fargate_storage_gb_hour
    """Fargate ephemeral storage beyond the 20 GB every task gets."""
    price_state_transition: float = DEFAULT_PRICES.state_transition
    price_s3_put_request: float = DEFAULT_PRICES.s3_put_request
    price_s3_get_request: float = DEFAULT_PRICES.s3_get_request

    def __post_init__(self) -> None:
        if self.architecture not in ("x86_64", "arm64"):
            raise ValueError(f"architecture must be x86_64 or arm64, not {self.architecture!r}")
        for name in ("api_memory_mb", "step_memory_mb", "transcode_memory_mb", "chunk_memory_mb", "join_memory_mb"):
            if not 128 <= getattr(self, name) <= 10240:
                raise ValueError(f"{name} must be between 128 and 10240")
        if not 1 <= self.step_timeout_seconds <= 900:
            raise ValueError("step_timeout_seconds must be between 1 and 900 (Lambda's limit)")
        if not 512 <= self.ephemeral_storage_mib <= 10240:
            raise ValueError("ephemeral_storage_mib must be between 512 and 10240")
        for cidr in self.trusted_input_networks:
            ipaddress.ip_network(cidr, strict=False)  # raises ValueError naming the bad value
        if self.api_authorization not in ("signature", "iam"):
            raise ValueError("api_authorization must be signature or iam")
        if self.work_retention_days < 1:
            raise ValueError("work_retention_days must be at least 1")
        if self.max_input_bytes < 1 or self.max_input_seconds < 1:
            raise ValueError("max_input_bytes and max_input_seconds must be positive")
        if not 2 <= self.chunk_seconds <= 300:
            raise ValueError("chunk_seconds must be between 2 and 300")
        if not 0 <= self.chunk_min_input_seconds <= 86400:
            raise ValueError("chunk_min_input_seconds must be between 0 and 86400")
        if not 1 <= self.lambda_max_output_mib <= 10240:
            raise ValueError("lambda_max_output_mib must be between 1 and 10240 (Lambda's largest /tmp)")
        if not 1 <= self.map_max_concurrency <= 10000:
            raise ValueError("map_max_concurrency must be between 1 and 10000 (the Distributed Map's limit)")
        if self.log_retention_days not in (1, 7, 14, 30, 90, 180, 365):
            raise ValueError("log_retention_days must be one of 1, 7, 14, 30, 90, 180, 365")
        self.output_limits()  # raises ValueError naming the setting out of range
        self._check_worker()
        self._check_sweep()
        if self.alarm_email and not _EMAIL.fullmatch(self.alarm_email):
            raise ValueError(f"alarm_email must be an email address, not {self.alarm_email!r}")
        self.prices()  # raises ValueError naming the price out of range
        if self.presign_expiry_seconds < 60 or self.presign_expiry_seconds > 604800:
            raise ValueError("presign_expiry_seconds must be between 60 and 604800 (7 days)")

    def _check_worker(self) -> None:
        if self.worker_cpu not in FARGATE_MEMORY_MIB:
            raise ValueError(f"worker_cpu must be one of {', '.join(map(str, FARGATE_MEMORY_MIB))}")
        allowed = FARGATE_MEMORY_MIB[self.worker_cpu]
        if self.worker_memory_mib not in allowed:
            step = allowed[1] - allowed[0]
            raise ValueError(
                f"worker_memory_mib must be {allowed[0]} to {allowed[-1]} in steps of {step} "
                f"for worker_cpu {self.worker_cpu}"
            )
        if not 21 <= self.worker_ephemeral_storage_gib <= 200:
            raise ValueError("worker_ephemeral_storage_gib must be between 21 and 200 (Fargate's limits)")
        if not 60 <= self.worker_time_budget_seconds <= 7 * 86400:
            raise ValueError("worker_time_budget_seconds must be between 60 and 604800 (7 days)")

    def _check_sweep(self) -> None:
        if not 1 <= self.sweep_interval_minutes <= 1440:
            raise ValueError("sweep_interval_minutes must be between 1 and 1440 (a day)")
        for name in ("stuck_pending_seconds", "stuck_grace_seconds"):
            if not 60 <= getattr(self, name) <= 7 * 86400:
                raise ValueError(f"{name} must be between 60 and 604800 (7 days)")

    def prices(self) -> Prices:
        return Prices(**{item.name: getattr(self, f"price_{item.name}") for item in fields(Prices)})

    def cost_environment(self) -> dict[str, str]:
        """What the Plan's estimate and the steps' charges read (transcoder.costs.Sizes, transcoder.pricing)."""
        return {
            "PRICES": self.prices().to_env(),
            "ARCHITECTURE": self.architecture,
            "STEP_MEMORY_MB": str(self.step_memory_mb),
            "TRANSCODE_MEMORY_MB": str(self.transcode_memory_mb),
            "CHUNK_MEMORY_MB": str(self.chunk_memory_mb),
            "JOIN_MEMORY_MB": str(self.join_memory_mb),
            "WORKER_CPU": str(self.worker_cpu),
            "WORKER_MEMORY_MIB": str(self.worker_memory_mib),
            "WORKER_EPHEMERAL_STORAGE_GIB": str(self.worker_ephemeral_storage_gib),
        }

    def output_limits(self) -> OutputLimits:
        return OutputLimits(
            max_output_pixels=self.max_output_pixels,
            max_output_dimension=self.max_output_dimension,
            max_output_framerate=self.max_output_framerate,
        )

    @classmethod
    def from_context(cls, scope: "constructs.Construct") -> "DeploymentSettings":
        raw: dict[str, Any] = scope.node.try_get_context(CONTEXT_KEY) or {}
        known = {f.name: f for f in fields(cls)}
        unknown = set(raw) - set(known)
        if unknown:
            raise ValueError(f"unknown {CONTEXT_KEY} settings in cdk.json context: {sorted(unknown)}")
        # JSON has no tuples: a list is a tuple setting's value.
        values: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value for name, value in raw.items()
        }
        return cls(**values)
