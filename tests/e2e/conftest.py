"""Local mode as a user starts it: `python -m localmode run` in its own process, on free ports."""

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from mypy_boto3_s3 import S3Client

from localmode.access import local_client
from localmode.media import generate_clip
from localmode.process import local_mode_process
from transcoder_client import Client

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 120
OWN_PART = "accounts/default/"
"""Where the output bucket keeps the objects of local mode's own account (`default`, dropped files too)."""


@dataclass
class Local:
    api_url: str
    aws_url: str
    input_bucket: str
    output_bucket: str
    work_bucket: str
    task_table: str
    access_key_id: str
    secret_access_key: str
    state_file: Path
    """The running local mode's description (`transcoder --state-file <state_file>`)."""
    s3: S3Client
    client: Client
    """Signed with local mode's key (localmode.access)."""
    process: subprocess.Popen[bytes]

    def upload(self, path: Path | str, key: str) -> str:
        self.s3.upload_file(str(path), self.input_bucket, key)
        return f"s3://{self.input_bucket}/{key}"

    def tasks_for_input(self, input_url: str) -> list[dict[str, Any]]:
        """Tasks whose input is `input_url`, read from the emulator's table (a test's view, not the API)."""
        dynamodb = boto3.client("dynamodb", endpoint_url=self.aws_url)
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=self.task_table,
            FilterExpression="#input = :input",
            ExpressionAttributeNames={"#input": "input"},
            ExpressionAttributeValues={":input": {"S": input_url}},
        )
        return [{k: next(iter(v.values())) for k, v in item.items()} for page in pages for item in page["Items"]]

    def wait_for_drop(self, key: str, timeout: float = 120) -> dict[str, Any]:
        """The task a dropped file became, once terminal."""
        input_url = f"s3://{self.input_bucket}/{key}"
        deadline = time.monotonic() + timeout
        while not (found := self.tasks_for_input(input_url)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no task for {input_url}")
            time.sleep(0.2)
        assert len(found) == 1, found
        return self.client.wait(found[0]["task_id"], interval=0.1, timeout=timeout)

    def run_task(self, input_url: str, output: str, template_name: str = "MP4_264_360p") -> dict[str, Any]:
        task_id = self.client.create_task(input_url, output, template_name=template_name)["task_id"]
        return self.client.wait(task_id, interval=0.1, timeout=300)


@contextmanager
def start_local(
    folder: Path, extra_environment: dict[str, str] | None = None, context: dict[str, str] | None = None
) -> Iterator[Local]:
    """Local mode in its own process, as a user starts it; stopped with Ctrl-C, which must exit cleanly.

    `context`: deployment settings by name, passed as `--context name=value` (e.g. {"max_input_seconds": "60"}).
    """
    # test_storages' foreign S3-compatible endpoint listens on loopback: the operator trusts it.
    environment = {"TRUSTED_INPUT_NETWORKS": "127.0.0.1/32", **(extra_environment or {})}
    started = local_mode_process(folder, environment, start_timeout=START_TIMEOUT_SECONDS, context=context)
    with started as (info, process):
        ready_file = folder / "ready.json"
        s3 = boto3.client("s3", endpoint_url=info["aws_endpoint_url"])
        yield Local(
            api_url=info["api_url"],
            aws_url=info["aws_endpoint_url"],
            input_bucket=info["input_bucket"],
            output_bucket=info["output_bucket"],
            work_bucket=info["work_bucket"],
            task_table=info["task_table"],
            access_key_id=info["access_key_id"],
            state_file=ready_file,
            secret_access_key=info["secret_access_key"],
            s3=s3,
            client=local_client(info),
            process=process,
        )


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    with start_local(tmp_path_factory.mktemp("local")) as started:
        yield started


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = {
        "720p": generate_clip(str(folder / "720p.mp4"), seconds=4, size="1280x720", rate=30),
        "silent": generate_clip(str(folder / "silent.mp4"), seconds=3, size="960x540", rate=25, audio=False),
        "portrait": generate_clip(str(folder / "portrait.mp4"), seconds=2, size="720x1280", rate=30),
    }
    return {name: Path(path) for name, path in made.items()}


@pytest.fixture(scope="session")
def real_video() -> Path:
    """A real camera clip (MIT, Debian's python3-hug-doc), fetched by `make media`."""
    path = Path(os.environ.get("REAL_VIDEO", ROOT / ".cache" / "media" / "movie.mp4"))
    if not path.exists():
        subprocess.run(["make", "-C", str(ROOT), "media"], check=True)
    return path
