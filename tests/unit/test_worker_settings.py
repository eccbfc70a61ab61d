"""The Fargate worker's settings: only sizes Fargate accepts, and a bounded time budget."""

import json
from typing import Any

import pytest

from infra.settings import FARGATE_MEMORY_MIB, DeploymentSettings
from transcoder.pipeline.handoff import stopped_worker_message


@pytest.mark.parametrize(
    "changes",
    [
        {"worker_cpu": 256, "worker_memory_mib": 512},
        {"worker_cpu": 256, "worker_memory_mib": 2048},
        {"worker_cpu": 1024, "worker_memory_mib": 8192},
        {"worker_cpu": 16384, "worker_memory_mib": 122880},
        {"worker_ephemeral_storage_gib": 21},
        {"worker_ephemeral_storage_gib": 200},
        {"worker_time_budget_seconds": 60},
    ],
)
def test_sizes_fargate_accepts(changes: dict[str, Any]) -> None:
    DeploymentSettings(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"worker_cpu": 3000}, "worker_cpu must be one of"),
        ({"worker_cpu": 256, "worker_memory_mib": 1536}, "worker_memory_mib must be 512 to 2048"),
        ({"worker_cpu": 4096, "worker_memory_mib": 4096}, "for worker_cpu 4096"),
        ({"worker_cpu": 8192, "worker_memory_mib": 17408}, "in steps of 4096"),
        ({"worker_ephemeral_storage_gib": 20}, "between 21 and 200"),
        ({"worker_ephemeral_storage_gib": 201}, "between 21 and 200"),
        ({"worker_time_budget_seconds": 59}, "worker_time_budget_seconds"),
    ],
)
def test_sizes_fargate_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeploymentSettings(**changes)


def test_default_memory_fits_the_default_cpu() -> None:
    defaults = DeploymentSettings()
    assert defaults.worker_memory_mib in FARGATE_MEMORY_MIB[defaults.worker_cpu]


def _stopped(**fields: Any) -> str:
    return json.dumps({"LastStatus": "STOPPED", **fields})


@pytest.mark.parametrize(
    ("error", "cause", "message"),
    [
        (
            "States.TaskFailed",
            _stopped(
                StopCode="EssentialContainerExited",
                StoppedReason="OutOfMemoryError: Container killed due to memory usage",
                Containers=[{"Name": "Worker", "ExitCode": 137}],
            ),
            "the Fargate worker stopped before the step finished (OutOfMemoryError: Container killed due to memory "
            "usage, exit code 137)",
        ),
        (
            "States.TaskFailed",
            _stopped(StopCode="TaskFailedToStart"),
            "the Fargate worker stopped before the step finished (TaskFailedToStart)",
        ),
        ("States.TaskFailed", '{"errorMessage": "a Lambda error"}', None),
        ("States.TaskFailed", "not json", None),
        ("TranscodeFailed", _stopped(StopCode="EssentialContainerExited"), None),
    ],
)
def test_a_worker_stopped_from_outside_is_named(error: str, cause: str, message: str | None) -> None:
    assert stopped_worker_message(error, cause) == message
