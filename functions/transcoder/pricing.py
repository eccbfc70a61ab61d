"""What the AWS services a task uses cost, per unit: one place for the estimate, the bill and the bench.

Defaults are the published on-demand prices of us-east-1 (USD), each cited below. They are deployment
settings (infra.settings.DeploymentSettings `price_*`), passed to the functions as one JSON environment
variable, PRICES, so an operator in another region (or with a discount) sets theirs.
"""

import json
import math
import os
from dataclasses import asdict, dataclass, fields
from functools import cache
from typing import Literal

Architecture = Literal["x86_64", "arm64"]

PRICES_ENV = "PRICES"
MB_PER_VCPU = 1769
"""A Lambda function gets one vCPU's worth of CPU at 1,769 MB, proportionally below and above:
https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"""
FARGATE_INCLUDED_STORAGE_GIB = 20
"""Every Fargate task gets 20 GB of ephemeral storage without charge; more is billed per GB-hour
(https://aws.amazon.com/fargate/pricing/)."""
FARGATE_MINIMUM_SECONDS = 60
"""Fargate bills from the image pull until the task ends, rounded up to the second
(https://aws.amazon.com/fargate/pricing/), with a one-minute minimum (as stated at
https://www.vantage.sh/blog/fargate-pricing)."""


@dataclass(frozen=True)
class Prices:
    """USD per unit. Field names are the settings' names without their `price_` prefix."""

    # https://aws.amazon.com/lambda/pricing/ (us-east-1, "Duration" and "Requests"): the first pricing tier,
    # per GB-second of duration (billed in 1 ms increments) and per request.
    lambda_gb_second_x86_64: float = 0.0000166667
    lambda_gb_second_arm64: float = 0.0000133334
    lambda_request: float = 0.20 / 1_000_000
    # https://aws.amazon.com/fargate/pricing/ (us-east-1, Linux/X86 and Linux/ARM, per vCPU-hour and per
    # GB-hour of memory; the page renders the rates by region in the browser: the figures as transcribed at
    # https://www.vantage.sh/blog/fargate-pricing, and $0.000011244 per vCPU-second = $0.04048 per hour on
    # https://aws.amazon.com/ecs/pricing/'s Fargate example).
    fargate_vcpu_hour_x86_64: float = 0.04048
    fargate_gb_hour_x86_64: float = 0.004445
    fargate_vcpu_hour_arm64: float = 0.03238
    fargate_gb_hour_arm64: float = 0.00356
    # Ephemeral storage over the included 20 GB, per GB-hour (same pages).
    fargate_storage_gb_hour: float = 0.000111
    # https://aws.amazon.com/step-functions/pricing/: Standard workflows, $0.025 per 1,000 state transitions.
    state_transition: float = 0.025 / 1000
    # https://aws.amazon.com/s3/pricing/ (S3 Standard, us-east-1): PUT, COPY, POST, LIST $0.005 per 1,000
    # requests; GET and the other reads $0.0004 per 1,000.
    s3_put_request: float = 0.005 / 1000
    s3_get_request: float = 0.0004 / 1000

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1000:
                raise ValueError(f"price_{item.name} must be a number of dollars from 0 to 1000, not {value!r}")

    def lambda_gb_second(self, architecture: Architecture) -> float:
        return self.lambda_gb_second_arm64 if architecture == "arm64" else self.lambda_gb_second_x86_64

    def lambda_invocation(self, seconds: float, memory_mb: int, architecture: Architecture) -> float:
        """One invocation: its duration, rounded up to the millisecond as Lambda bills it, and its request."""
        billed = math.ceil(max(0.0, seconds) * 1000) / 1000
        return billed * memory_mb / 1024 * self.lambda_gb_second(architecture) + self.lambda_request

    def fargate_task(
        self, seconds: float, *, cpu_units: int, memory_mib: int, storage_gib: int, architecture: Architecture
    ) -> float:
        """One Fargate task running `seconds`: per second, rounded up, at least a minute."""
        hours = max(FARGATE_MINIMUM_SECONDS, math.ceil(max(0.0, seconds))) / 3600
        vcpu, memory = (
            (self.fargate_vcpu_hour_arm64, self.fargate_gb_hour_arm64)
            if architecture == "arm64"
            else (self.fargate_vcpu_hour_x86_64, self.fargate_gb_hour_x86_64)
        )
        extra_storage = max(0, storage_gib - FARGATE_INCLUDED_STORAGE_GIB)
        per_hour = cpu_units / 1024 * vcpu + memory_mib / 1024 * memory + extra_storage * self.fargate_storage_gb_hour
        return hours * per_hour

    def requests(self, *, transitions: int, s3_puts: int, s3_gets: int) -> float:
        return transitions * self.state_transition + s3_puts * self.s3_put_request + s3_gets * self.s3_get_request

    def to_env(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_env(cls, value: str) -> "Prices":
        """Prices from PRICES (JSON; unset or empty: the defaults). A name not a price is refused."""
        if not value.strip():
            return cls()
        given = json.loads(value)
        known = {item.name for item in fields(cls)}
        if not isinstance(given, dict) or set(given) - known:
            raise ValueError(f"{PRICES_ENV} must be a JSON object of prices ({', '.join(sorted(known))})")
        return cls(**given)


DEFAULT_PRICES = Prices()


@cache
def prices() -> Prices:
    """The deployment's prices, from the environment the CDK app gives each function."""
    return Prices.from_env(os.environ.get(PRICES_ENV, ""))
