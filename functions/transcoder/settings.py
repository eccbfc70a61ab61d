"""Run-time settings, read from the environment the CDK app (or local mode) gives each function."""

import os
from dataclasses import dataclass
from functools import cache

from transcoder.template_rules import DEFAULT_LIMITS, OutputLimits


@dataclass(frozen=True)
class Settings:
    task_table: str
    input_bucket: str
    output_bucket: str
    work_bucket: str
    state_machine_arn: str
    region: str
    presign_expiry_seconds: int
    max_input_bytes: int
    max_input_seconds: float
    chunk_seconds: float
    chunk_min_input_seconds: float
    """Inputs longer than this are encoded in chunks of about `chunk_seconds`; shorter ones in one pass."""
    lambda_max_output_bytes: int
    """An output estimated larger than this is encoded on the Fargate worker (pipeline/runner.py)."""
    readable_buckets: frozenset[str]
    """Buckets of this account that task inputs may come from."""
    default_template: str
    """Template of files dropped directly under the drop prefix; empty: such files fail (1002)."""
    drop_prefix: str
    """The input bucket's folder whose new objects are drops (infra.settings.DROP_PREFIX); other keys are not."""
    output_limits: OutputLimits = DEFAULT_LIMITS
    """What one task may produce: templates beyond it are refused (1002), outputs beyond it fail (2003)."""


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"environment variable {name} is not set")
    return value


@cache
def settings() -> Settings:
    input_bucket = _env("INPUT_BUCKET")
    extra = [b.strip() for b in _env("EXTRA_INPUT_BUCKETS", "").split(",") if b.strip()]
    return Settings(
        task_table=_env("TASK_TABLE"),
        input_bucket=input_bucket,
        output_bucket=_env("OUTPUT_BUCKET"),
        work_bucket=_env("WORK_BUCKET"),
        state_machine_arn=_env("STATE_MACHINE_ARN", ""),
        region=_env("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
        presign_expiry_seconds=int(_env("PRESIGN_EXPIRY_SECONDS", "86400")),
        max_input_bytes=int(_env("MAX_INPUT_BYTES", str(50 * 1024**3))),
        max_input_seconds=float(_env("MAX_INPUT_SECONDS", str(4 * 3600))),
        chunk_seconds=float(_env("CHUNK_SECONDS", "10")),
        chunk_min_input_seconds=float(_env("CHUNK_MIN_INPUT_SECONDS", "60")),
        lambda_max_output_bytes=int(_env("LAMBDA_MAX_OUTPUT_MIB", "8192")) * 1024**2,
        readable_buckets=frozenset([input_bucket, *extra]),
        default_template=_env("DEFAULT_TEMPLATE", ""),
        drop_prefix=_drop_prefix(_env("DROP_PREFIX")),
        output_limits=OutputLimits(
            max_output_pixels=int(_env("MAX_OUTPUT_PIXELS", str(DEFAULT_LIMITS.max_output_pixels))),
            max_output_dimension=int(_env("MAX_OUTPUT_DIMENSION", str(DEFAULT_LIMITS.max_output_dimension))),
            max_output_framerate=float(_env("MAX_OUTPUT_FRAMERATE", str(DEFAULT_LIMITS.max_output_framerate))),
        ),
    )


def _drop_prefix(value: str) -> str:
    # An empty prefix would make every upload a drop: the noise this setting exists to end.
    if not value.endswith("/") or value.startswith("/"):
        raise RuntimeError(f"DROP_PREFIX must be a folder such as 'drop/', not {value!r}")
    return value
