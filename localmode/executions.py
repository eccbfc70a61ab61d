"""Step Functions' "Execution Status Change" events, locally: moto's interpreter emits none, so each execution's
end is announced here, in the shape AWS documents, to the template's rules (localmode.rules.EventRules).

moto also reflects a StopExecution only once the state that was running returns (a Lambda step can take minutes);
Step Functions aborts at once and the Lambda runs on unwatched. So a stop sets the execution ABORTED when it is
made, as DescribeExecution shows it on AWS, and is announced then.
"""

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend import execution as moto_execution

from localmode.rules import EventRules
from localmode.template import ACCOUNT, REGION

DETAIL_TYPE = "Step Functions Execution Status Change"
_ANNOUNCED = "_local_status_announced"
_routes: list[EventRules] = []
_announcing = threading.Lock()


def status_change_event(
    *,
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    status: str,
    start_date: datetime,
    stop_date: datetime | None,
    input_text: str,
    output_text: str | None = None,
    error: str | None = None,
    cause: str | None = None,
) -> dict[str, Any]:
    """The event Step Functions sends the default bus when an execution's status changes (its detail is what
    DescribeExecution returns: dates in epoch milliseconds, input and output as JSON text, null when absent)."""
    stopped = stop_date or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.states",
        "account": ACCOUNT,
        "time": stopped.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": state_machine_arn,
            "name": name,
            "status": status,
            "startDate": _millis(start_date),
            "stopDate": _millis(stop_date) if stop_date else None,
            "input": input_text,
            "output": output_text,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if output_text is not None else None,
            "error": error or None,
            "cause": cause or None,
        },
    }


def _millis(moment: datetime) -> int:
    # moto dates a stop with a naive UTC time.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _event_of(execution: Any) -> dict[str, Any]:
    status = ExecutionStatus(execution.exec_status).value
    output = json.dumps(execution.output, separators=(",", ":")) if status == "SUCCEEDED" else None
    return status_change_event(
        execution_arn=execution.exec_arn,
        state_machine_arn=execution.state_machine_arn,
        name=execution.name,
        status=status,
        start_date=execution.start_date,
        stop_date=execution.stop_date,
        input_text=json.dumps(execution.input_data, separators=(",", ":")),
        output_text=output,
        error=execution.error,
        cause=execution.cause,
    )


def _announce(execution: Any) -> None:
    """Once per execution: its end, to every route's matching rules."""
    with _announcing:
        if getattr(execution, _ANNOUNCED, False):
            return
        setattr(execution, _ANNOUNCED, True)
    event = _event_of(execution)
    for rules in _routes:
        rules.put(event)


def route_execution_ends(rules: EventRules) -> None:
    """Announce every execution's end to `rules` (moto's executions of this process, from now on)."""
    _routes[:] = [rules]
    communication = moto_execution.BaseExecutionWorkerCommunication
    if getattr(communication.terminated, "announces", False):
        return
    terminated, stop = communication.terminated, moto_execution.Execution.stop

    def announcing_terminated(self: Any) -> None:
        terminated(self)
        _announce(self.execution)

    def stopping_at_once(self: Any, stop_date: datetime, error: str | None, cause: str | None) -> None:
        stop(self, stop_date, error, cause)
        environment = self.exec_worker.env if self.exec_worker else None
        stopped = environment is not None and isinstance(environment.program_state(), ProgramStopped)
        if stopped and self.exec_status == ExecutionStatus.RUNNING:
            self.exec_status, self.stop_date = ExecutionStatus.ABORTED, stop_date
            self.error, self.cause = error or None, cause or None
            _announce(self)

    announcing_terminated.announces = True  # type: ignore[attr-defined]
    communication.terminated = announcing_terminated  # type: ignore[method-assign]
    moto_execution.Execution.stop = stopping_at_once  # type: ignore[method-assign]
