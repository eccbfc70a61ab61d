"""Local mode in a process of its own, started and stopped as a user does: for the end-to-end tests and the bench."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localmode.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 180.0


@contextmanager
def local_mode_process(
    folder: Path,
    environment: Mapping[str, str] | None = None,
    start_timeout: float = START_TIMEOUT_SECONDS,
    context: Mapping[str, str] | None = None,
) -> Iterator[tuple[dict[str, Any], "subprocess.Popen[bytes]"]]:
    """`python -m localmode run` on free ports; its ready file's description and the process.

    `context` are deployment settings as the command line takes them (`--context name=value`, value as text).

    Its output goes to `folder/local.log` (the banner included), its description to `folder/ready.json`.
    Stopped with Ctrl-C (SIGINT), as a user stops it: it must exit 0 within 30 s, or this raises.
    """
    ready_file, log_path = folder / "ready.json", folder / "local.log"
    child_environment = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT / 'client'}:{ROOT}",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        **(environment or {}),
    }
    command = [sys.executable, "-m", "localmode", "run", "--ready-file", str(ready_file)]
    command += ["--api-port", str(free_port()), "--aws-port", str(free_port())]
    for name, value in (context or {}).items():
        command += ["--context", f"{name}={value}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=child_environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + start_timeout
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"local mode did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield json.loads(ready_file.read_text()), process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    if code != 0:
        raise RuntimeError(f"local mode exited {code}:\n{log_path.read_text()[-3000:]}")
