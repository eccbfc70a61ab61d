"""How a task ends when its execution ended without ending it (transcoder.reconcile): the rule's and the sweep's
decisions, without AWS."""

import pytest

from transcoder.reconcile import (
    ExecutionEnd,
    ExecutionState,
    Limits,
    OpenTask,
    duration_text,
    ending_for,
    failed_message,
    stuck_reason,
)

LIMITS = Limits(execution_timeout_seconds=12 * 3600, stuck_pending_seconds=900, stuck_grace_seconds=600)
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("seconds", "text"), [(43200, "12 h"), (3600, "1 h"), (5400, "90 min"), (900, "15 min"), (45, "45 s"), (1, "1 s")]
)
def test_duration_text(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_timed_out_ends_3002_naming_the_state_machines_timeout() -> None:
    ending = ending_for(ExecutionEnd(task_id="t", status="TIMED_OUT"), LIMITS)
    assert ending is not None
    assert ending.err_code == 3002
    assert ending.message == "the task's execution exceeded the state machine's timeout of 12 h"


def test_aborted_ends_9001_whatever_the_stopper_said() -> None:
    ending = ending_for(ExecutionEnd(task_id="t", status="ABORTED", error="Oops", cause="ops stopped it"), LIMITS)
    assert ending is not None
    assert (ending.err_code, ending.message) == (9001, "the task's execution was stopped outside the service")


@pytest.mark.parametrize("status", ["SUCCEEDED", "RUNNING", "PENDING_REDRIVE", ""])
def test_other_statuses_end_nothing(status: str) -> None:
    assert ending_for(ExecutionEnd(task_id="t", status=status), LIMITS) is None


def test_failed_ends_9000_with_the_error_and_the_causes_first_sentence() -> None:
    cause = (
        "An error occurred while executing the state 'Runner' (entered at the event id #12). Invalid path "
        '\'$.plan.runner\': the input was {"input": {"url": "https://media.example/v.mp4?X-Amz-Signature=abc"}}'
    )
    ending = ending_for(ExecutionEnd(task_id="t", status="FAILED", error="States.Runtime", cause=cause), LIMITS)
    assert ending is not None
    assert ending.err_code == 9000
    assert ending.message == (
        "internal error (States.Runtime): the task's execution failed outside the pipeline's error handling: "
        "An error occurred while executing the state 'Runner' (entered at the event id #12); "
        "the service's logs have the details"
    )


def test_failed_keeps_only_the_type_of_a_lambda_error_and_no_url_secret() -> None:
    lambda_cause = '{"errorType": "KeyError", "errorMessage": "secret-token-123", "stackTrace": ["x"]}'
    message = failed_message("KeyError", lambda_cause)
    assert "secret-token-123" not in message
    assert "(KeyError)" in message and ": KeyError;" in message
    url_cause = "Fetching https://user:pw@host/x?sig=abcdef failed"
    redacted = failed_message("States.Runtime", url_cause)
    assert "pw@" not in redacted and "abcdef" not in redacted
    assert "https://REDACTED@host/x?REDACTED" in redacted


def test_failed_without_error_or_cause_still_says_what_happened() -> None:
    assert failed_message("", "") == (
        "internal error (unknown): the task's execution failed outside the pipeline's error handling; "
        "the service's logs have the details"
    )


def test_a_long_cause_is_cut() -> None:
    message = failed_message("States.Runtime", "x" * 5000)
    assert len(message) < 400 and "…" in message


def _task(status: str, age: float) -> OpenTask:
    return OpenTask(task_id="t", status=status, create_time=int(NOW - age))


def test_pending_without_execution_is_left_alone_until_the_bound() -> None:
    assert stuck_reason(_task("pending", 899), None, NOW, LIMITS) is None
    assert stuck_reason(_task("pending", 900), None, NOW, LIMITS) == (
        "the task stayed pending for 15 min and its execution never started"
    )


def test_started_task_without_execution_is_stuck() -> None:
    reason = stuck_reason(_task("running", 4000), None, NOW, LIMITS)
    assert reason == "the task was left running and its execution does not exist"


@pytest.mark.parametrize("status", ["pending", "downloading", "running", "uploading"])
def test_running_execution_within_its_timeout_is_left_alone(status: str) -> None:
    execution = ExecutionState(status="RUNNING", start_time=NOW - 11 * 3600)
    assert stuck_reason(_task(status, 11 * 3600), execution, NOW, LIMITS) is None


def test_execution_running_past_timeout_and_grace_is_stuck() -> None:
    within = ExecutionState(status="RUNNING", start_time=NOW - 12 * 3600 - 599)
    assert stuck_reason(_task("running", 13 * 3600), within, NOW, LIMITS) is None
    past = ExecutionState(status="RUNNING", start_time=NOW - 13 * 3600)
    assert stuck_reason(_task("running", 13 * 3600), past, NOW, LIMITS) == (
        "the task's execution has been running for 13 h, past the state machine's timeout of 12 h"
    )


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED", "SUCCEEDED"])
def test_ended_execution_leaves_the_rule_its_grace_then_is_stuck(status: str) -> None:
    recent = ExecutionState(status=status, start_time=NOW - 4000, stop_time=NOW - 599)
    assert stuck_reason(_task("running", 4000), recent, NOW, LIMITS) is None
    old = ExecutionState(status=status, start_time=NOW - 4000, stop_time=NOW - 1200)
    assert stuck_reason(_task("uploading", 4000), old, NOW, LIMITS) == (
        f"the task was left uploading after its execution ended {status} 20 min ago"
    )


def test_limits_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTION_TIMEOUT_SECONDS", "43200")
    monkeypatch.setenv("STUCK_PENDING_SECONDS", "120")
    monkeypatch.setenv("STUCK_GRACE_SECONDS", "300")
    assert Limits.from_environment() == Limits(43200, 120, 300)


@pytest.mark.parametrize(
    ("setting", "value", "needle"),
    [
        ("sweep_interval_minutes", 0, "sweep_interval_minutes must be between 1 and 1440"),
        ("sweep_interval_minutes", 1441, "sweep_interval_minutes must be between 1 and 1440"),
        ("stuck_pending_seconds", 59, "stuck_pending_seconds must be between 60"),
        ("stuck_grace_seconds", 8 * 86400, "stuck_grace_seconds must be between 60"),
    ],
)
def test_sweep_settings_are_validated(setting: str, value: int, needle: str) -> None:
    from infra.settings import DeploymentSettings

    with pytest.raises(ValueError, match=needle):
        DeploymentSettings(**{setting: value})
    assert DeploymentSettings().sweep_interval_minutes == 10
