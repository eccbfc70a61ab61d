"""The metrics an operator watches: one EMF line per event, few dimensions, ids only as metadata."""

from typing import Any

import pytest

from tests.emf import metric_lines, named
from transcoder import metric_names as names
from transcoder import metrics
from transcoder.models import TaskModel
from transcoder.status import Status


def _task(status: Status = Status.PENDING, template: str = "MP4_264_360p", **fields: Any) -> TaskModel:
    return TaskModel(
        task_id="01abc",
        account_id="acct-1",
        status=status.value,
        create_time=1_000,
        template_name=template,
        **fields,
    )


def test_a_created_task_counts_under_its_template_and_in_total(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.task_created(_task())
    [line] = metric_lines(capsys.readouterr().out)
    assert (line.name, line.value, line.unit) == (names.TASKS_CREATED, 1, "Count")
    assert line.dimension_sets == [
        {"service": "transcoder"},
        {"service": "transcoder", "template": "MP4_264_360p"},
    ]
    # Ids are metadata of the line, never a dimension: one metric per task id would be unbounded.
    assert (line.fields["task_id"], line.fields["account_id"]) == ("01abc", "acct-1")
    assert all("task_id" not in s and "account_id" not in s for s in line.dimension_sets)


def test_an_accounts_own_template_is_one_custom_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.task_created(_task(template="my-very-own-template-42"))
    [line] = metric_lines(capsys.readouterr().out)
    assert line.dimension_sets[1] == {"service": "transcoder", "template": "custom"}


def test_a_task_created_failed_counts_created_and_failed(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.task_created(_task(Status.FAIL, err_code=1002, finish_time=1_000))
    out = capsys.readouterr().out
    assert [line.name for line in metric_lines(out)] == [names.TASKS_CREATED, names.TASKS_FAILED, names.TASK_DURATION]
    [failed] = named(out, names.TASKS_FAILED)
    assert {"service": "transcoder", "err_code": "1002", "template": "MP4_264_360p"} in failed.dimension_sets


def test_start_delay_only_when_a_pending_task_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.task_moved(_task(Status.PENDING), Status.DOWNLOADING, err_code=0, at=1_007)
    metrics.task_moved(_task(Status.DOWNLOADING), Status.DOWNLOADING, err_code=0, at=1_009)  # a retried step
    metrics.task_moved(_task(Status.DOWNLOADING), Status.RUNNING, err_code=0, at=1_010)
    lines = metric_lines(capsys.readouterr().out)
    assert [(line.name, line.value, line.unit) for line in lines] == [(names.TASK_START_DELAY, 7, "Seconds")]


@pytest.mark.parametrize(
    ("target", "err_code", "counted", "dimensions"),
    [
        (Status.SUCCESS, 0, names.TASKS_SUCCEEDED, {"template": "MP4_264_360p"}),
        (Status.FAIL, 2002, names.TASKS_FAILED, {"err_code": "2002", "template": "MP4_264_360p"}),
        (Status.CANCELLED, 5001, names.TASKS_CANCELLED, {"template": "MP4_264_360p"}),
    ],
)
def test_an_ending_counts_by_status_and_times_create_to_end(
    capsys: pytest.CaptureFixture[str], target: Status, err_code: int, counted: str, dimensions: dict[str, str]
) -> None:
    metrics.task_moved(_task(Status.UPLOADING), target, err_code=err_code, at=1_042)
    out = capsys.readouterr().out
    [count] = named(out, counted)
    assert {"service": "transcoder", **dimensions} in count.dimension_sets
    [duration] = named(out, names.TASK_DURATION)
    assert (duration.value, duration.unit) == (42, "Seconds")
    assert duration.dimension_sets[1] == {"service": "transcoder", "status": target.value}


def test_failures_are_also_counted_by_err_code_alone(capsys: pytest.CaptureFixture[str]) -> None:
    """What the internal-error alarm reads: TasksFailed by err_code, whatever the template."""
    metrics.task_moved(_task(Status.RUNNING), Status.FAIL, err_code=9000, at=1_001)
    [failed] = named(capsys.readouterr().out, names.TASKS_FAILED)
    assert {"service": "transcoder", "err_code": "9000"} in failed.dimension_sets


def test_encode_speed_is_media_seconds_per_wall_second(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.encode_speed("EncodeChunk", task_id="01abc", media_seconds=30.0, wall_seconds=12.0)
    metrics.encode_speed("Transcode", task_id="01abc", media_seconds=0.0, wall_seconds=1.0)  # nothing encoded
    [line] = metric_lines(capsys.readouterr().out)
    assert (line.name, line.value) == (names.ENCODE_SPEED, 2.5)
    assert line.dimension_sets[1] == {"service": "transcoder", "step": "EncodeChunk"}


def test_namespace_comes_from_the_environment_with_the_services_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(names.NAMESPACE_ENV, raising=False)
    metrics.callback_delivered("01abc")
    monkeypatch.setenv(names.NAMESPACE_ENV, "Elsewhere")
    metrics.callback_delivered("01abc")
    assert [line.namespace for line in metric_lines(capsys.readouterr().out)] == [names.NAMESPACE, "Elsewhere"]


def test_disabled_metrics_write_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode's console stays quiet unless asked (POWERTOOLS_METRICS_DISABLED)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.task_created(_task())
    assert metric_lines(capsys.readouterr().out) == []
