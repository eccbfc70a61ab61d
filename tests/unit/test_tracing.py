"""The Tracer as it runs on Lambda: an X-Ray SDK sending to a daemon address, here a UDP socket of the test."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
STEP = """
import sys
from handlers.tracing import traced_task_step

@traced_task_step
def step(event, context):
    return {"url": "https://example.com/out.mp4?X-Amz-Signature=secret"}

print(step({"task_id": sys.argv[1]}, None))
"""


def _entities(packets: list[bytes]) -> list[dict[str, Any]]:
    """The segment documents the SDK sent: each packet is a header line, then one JSON document."""
    return [json.loads(packet.decode().split("\n", 1)[1]) for packet in packets]


def _run_traced_step(task_id: str) -> list[dict[str, Any]]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(10)
        environment = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
        environment.update(
            PYTHONPATH=f"{ROOT / 'functions'}{os.pathsep}{ROOT}",
            AWS_LAMBDA_FUNCTION_NAME="download",
            LAMBDA_TASK_ROOT=str(ROOT),
            _X_AMZN_TRACE_ID=TRACE_HEADER,
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon.getsockname()[1]}",
        )
        done = subprocess.run(
            [sys.executable, "-c", STEP, task_id], env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        packets = [daemon.recv(65536)]
        daemon.settimeout(0.5)
        try:
            while True:
                packets.append(daemon.recv(65536))
        except TimeoutError:
            pass
    return _entities(packets)


def test_a_traced_step_is_a_subsegment_of_the_lambda_trace_annotated_with_its_task() -> None:
    entities = _run_traced_step("01jtaskidforatrace0000000")
    handler = [e for e in entities if e["name"] == "## step"]
    assert len(handler) == 1, entities
    assert handler[0]["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"
    assert handler[0]["parent_id"] == "53995c3f42cd8ad8"
    assert handler[0]["annotations"]["task_id"] == "01jtaskidforatrace0000000"
    # Responses are not recorded: a step's result can hold a presigned URL.
    assert "X-Amz-Signature" not in json.dumps(entities)
