"""`ecs:runTask.sync` in local mode: the Fargate worker's entry point as a local child process.

moto 5.2.5's Step Functions interpreter (StateTaskServiceEcs) calls moto's own ECS RunTask with the state's
parameters and then polls DescribeTasks until the task is STOPPED; moto's ECS never runs a container nor
stops a task, and it takes the success of any stopped task. So the two methods that talk to ECS are replaced
here: RunTask starts `python -m worker` (the image's ENTRYPOINT) with the environment of the template's task
definition and the state's container overrides, and the .sync wait polls that process. As on AWS, a task
whose essential container exits non-zero fails the state with States.TaskFailed and, as the cause, ECS's
description of the stopped task (StopCode, StoppedReason, Containers[].ExitCode), so the definition's own
Retry and Catch run as they do there. A stopped execution (cancel_task) stops the process like ECS StopTask:
SIGTERM, then SIGKILL after the container's stop timeout.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from botocore.response import StreamingBody
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk import (
    StateTaskServiceAwsSdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs import (
    StateTaskServiceEcs,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from localmode.template import ACCOUNT, REGION

ROOT = Path(__file__).resolve().parents[1]
WORKER_COMMAND: Final = ("-m", "worker")
"""The image's ENTRYPOINT (Dockerfile), run by this interpreter with functions/ on its path, as /app is there."""
DEFAULT_STOP_TIMEOUT_SECONDS: Final = 30
"""ECS's default between SIGTERM and SIGKILL when the container definition sets no StopTimeout."""


@dataclass(frozen=True)
class LocalTaskDefinition:
    """What local mode needs of an AWS::ECS::TaskDefinition of the template: its one container."""

    arn: str
    family: str
    """A RunTask names its task definition by either (CDK's EcsRunTask passes the family)."""
    container_name: str
    environment: dict[str, str]
    stop_timeout_seconds: int = DEFAULT_STOP_TIMEOUT_SECONDS


@dataclass
class LocalWorkerTask:
    """One RunTask: the worker process, described as ECS describes a task."""

    cluster_arn: str
    definition: LocalTaskDefinition
    process: subprocess.Popen[bytes]
    overrides: dict[str, Any]
    task_arn: str = field(default_factory=lambda: f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/local/{uuid.uuid4().hex}")
    stopped_by_request: bool = False

    def stop(self) -> None:
        """As ECS StopTask: SIGTERM, then SIGKILL once the stop timeout has passed."""
        if self.process.poll() is not None:
            return
        self.stopped_by_request = True
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=self.definition.stop_timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def description(self) -> dict[str, Any]:
        """DescribeTasks' task, PascalCase as Step Functions passes it on."""
        exit_code = self.process.poll()
        stopped = exit_code is not None
        container: dict[str, Any] = {"Name": self.definition.container_name, "LastStatus": "STOPPED"}
        if exit_code is not None:
            # A process killed by a signal has no exit code of its own; Docker reports 128 + the signal.
            container["ExitCode"] = exit_code if exit_code >= 0 else 128 - exit_code
        description: dict[str, Any] = {
            "TaskArn": self.task_arn,
            "ClusterArn": self.cluster_arn,
            "TaskDefinitionArn": self.definition.arn,
            "LaunchType": "FARGATE",
            "StartedBy": "AWS Step Functions",
            "LastStatus": "STOPPED" if stopped else "RUNNING",
            "Overrides": self.overrides,
            "Containers": [container if stopped else {"Name": self.definition.container_name, "LastStatus": "RUNNING"}],
        }
        if stopped:
            description["StopCode"] = "UserInitiated" if self.stopped_by_request else "EssentialContainerExited"
            description["StoppedReason"] = (
                "Task stopped by user" if self.stopped_by_request else "Essential container in task exited"
            )
        return description

    @property
    def failed(self) -> bool:
        return self.process.poll() not in (None, 0)


class LocalWorkers:
    """The template's task definitions, and the worker processes started for them."""

    def __init__(self) -> None:
        self._definitions: dict[str, LocalTaskDefinition] = {}
        self._tasks: dict[str, LocalWorkerTask] = {}
        self._lock = threading.Lock()

    def add(self, definition: LocalTaskDefinition) -> None:
        self._definitions[definition.arn] = self._definitions[definition.family] = definition

    def run_task(self, parameters: dict[str, Any]) -> LocalWorkerTask:
        """RunTask with the state's parameters (Step Functions' PascalCase)."""
        definition = self._definitions[parameters["TaskDefinition"]]
        overrides = parameters.get("Overrides", {})
        environment = dict(definition.environment)
        # Local mode's own environment comes from the same template, plus its overrides (the emulator's
        # endpoint and keys, TRUSTED_INPUT_NETWORKS): it wins over the task definition's, as for the handlers.
        environment.update(os.environ)
        for container in overrides.get("ContainerOverrides", []):
            if container.get("Name") == definition.container_name:
                environment.update({pair["Name"]: pair["Value"] for pair in container.get("Environment", [])})
        environment["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), environment.get("PYTHONPATH", "")])
        process = subprocess.Popen([sys.executable, *WORKER_COMMAND], cwd=ROOT, env=environment)
        task = LocalWorkerTask(parameters.get("Cluster", ""), definition, process, overrides)
        with self._lock:
            self._tasks[task.task_arn] = task
        return task

    def task(self, task_arn: str) -> LocalWorkerTask:
        with self._lock:
            return self._tasks[task_arn]

    def tasks(self) -> list[LocalWorkerTask]:
        with self._lock:
            return list(self._tasks.values())

    def stop_all(self) -> None:
        with self._lock:
            running = list(self._tasks.values())
        for task in running:
            task.stop()


def route_ecs_to_local_workers(workers: LocalWorkers) -> None:
    """Run the interpreter's `ecs:runTask(.sync)` states as local worker processes (moto 5.2.5's classes)."""
    original_eval = StateTaskServiceEcs._eval_service_task

    def eval_service_task(
        self: StateTaskServiceEcs,
        env: Environment,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> None:
        if self._get_boto_service_action() != "run_task":
            original_eval(self, env, resource_runtime_part, normalised_parameters, state_credentials)
            return
        task = workers.run_task(normalised_parameters)
        env.stack.append({"Tasks": [task.description()], "Failures": []})

    def build_sync_resolver(
        self: StateTaskServiceEcs,
        env: Environment,
        resource_runtime_part: Any,
        normalised_parameters: dict[str, Any],
        state_credentials: Any,
    ) -> Any:
        submitted: dict[str, Any] = env.stack.pop()
        task = workers.task(submitted["Tasks"][0]["TaskArn"])
        _stop_with_execution(env, task)

        def resolve() -> dict[str, Any] | None:
            if task.process.poll() is None:
                return None
            if task.failed:
                raise _task_failed(env, self, task.description())
            return task.description()

        return resolve

    StateTaskServiceEcs._eval_service_task = eval_service_task  # type: ignore[method-assign]
    StateTaskServiceEcs._build_sync_resolver = build_sync_resolver  # type: ignore[method-assign]


def read_sdk_bodies_as_text() -> None:
    """An `aws-sdk:s3:getObject` state gets the object's Body as text on AWS; moto 5.2.5 leaves it a stream.

    The worker's result is read back that way (infra/constructs/fargate_worker.py, `States.StringToJson($.Body)`).
    """
    original = StateTaskServiceAwsSdk._eval_service_task
    if getattr(original, "reads_bodies", False):
        return

    def eval_service_task(self: StateTaskServiceAwsSdk, env: Environment, **arguments: Any) -> None:
        original(self, env=env, **arguments)
        response = env.stack[-1]
        if isinstance(response, dict):
            for key, value in response.items():
                if isinstance(value, StreamingBody):
                    response[key] = value.read().decode()

    eval_service_task.reads_bodies = True  # type: ignore[attr-defined]
    StateTaskServiceAwsSdk._eval_service_task = eval_service_task  # type: ignore[method-assign,assignment]


def _stop_with_execution(env: Environment, task: LocalWorkerTask) -> None:
    """Step Functions stops a .sync task when its execution stops (cancel_task, a timeout)."""

    def watch() -> None:
        while task.process.poll() is None:
            if not env.is_running():
                task.stop()
                return
            time.sleep(0.5)

    threading.Thread(target=watch, name=f"stop-with-execution-{task.task_arn}", daemon=True).start()


def _task_failed(env: Environment, state: StateTaskServiceEcs, description: dict[str, Any]) -> FailureEventException:
    """What Step Functions raises for a stopped task whose essential container exited non-zero."""
    error = StatesErrorNameType.StatesTaskFailed.to_name()
    return FailureEventException(
        FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item] # moto builds it the same way
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error,
                    cause=json.dumps(description),
                    resource=state._get_sfn_resource(),
                    resourceType=state._get_sfn_resource_type(),
                )
            ),
        )
    )
