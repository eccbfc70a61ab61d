"""The load test's accounting: what counts as a reset, a lost task, a duplicate."""

import urllib.error

from bench.load import Burst, LoadReport, Outcome, _is_reset, drop_key
from transcoder_client import TransportError

API_INPUT = "s3://in/load-1.mp4"
DROPS = [f"s3://in/{drop_key('MP4_264_360p', f'load-1/drop-{i}.mp4')}" for i in range(2)]


def _report(tasks: dict[str, list[dict[str, str]]], task_ids: list[str | None]) -> LoadReport:
    report = LoadReport(Burst(create_tasks=len(task_ids), drops=len(DROPS)), api_input=API_INPUT, drop_inputs=DROPS)
    report.outcomes = [
        Outcome(sent_at=0.0, seconds=0.1, http_status=200, code=0, task_id=task_id)
        if task_id
        else Outcome(sent_at=0.0, seconds=0.1, transport_error="reset", reset=True)
        for task_id in task_ids
    ]
    report.tasks_by_input = tasks
    report.drain_seconds = 1.0
    return report


def _task(task_id: str, input_url: str, status: str = "success") -> dict[str, str]:
    return {"task_id": task_id, "input": input_url, "status": status}


def test_everything_terminal_once_is_accounted_for() -> None:
    tasks = {API_INPUT: [_task("a", API_INPUT), _task("b", API_INPUT)], **{d: [_task(d, d)] for d in DROPS}}
    report = _report(tasks, ["a", "b"])
    assert report.accounted_for()
    figures = report.figures()
    assert (figures["requests"], figures["answered_code_0"], figures["connection_resets"]) == (2, 2, 0)
    assert (figures["tasks_expected"], figures["tasks_terminal"], figures["tasks_success"]) == (4, 4, 4)


def test_a_reset_a_lost_task_a_stray_task_and_a_twice_dropped_file_are_each_counted() -> None:
    tasks = {
        API_INPUT: [_task("a", API_INPUT, "running"), _task("stray", API_INPUT)],
        DROPS[0]: [_task("d1", DROPS[0]), _task("d2", DROPS[0])],
    }
    report = _report(tasks, ["a", None])
    assert not report.accounted_for()
    assert report.lost_api_tasks() == ["a"]  # answered, never terminal
    assert report.unexpected_api_tasks() == ["stray"]
    assert report.drops_not_once() == {DROPS[0]: 2, DROPS[1]: 0}
    figures = report.figures()
    assert (figures["connection_resets"], figures["answered"]) == (1, 1)
    assert figures["http_statuses"] == {"200": 1, "no answer": 1}


def test_a_connection_reset_wrapped_by_urllib_and_the_client_counts_as_a_reset() -> None:
    try:
        try:
            raise urllib.error.URLError(ConnectionResetError(104, "Connection reset by peer"))
        except urllib.error.URLError as error:
            raise TransportError("POST /api/create_task: reset") from error
    except TransportError as wrapped:
        assert _is_reset(wrapped)
    assert not _is_reset(TransportError("timed out"))
