"""A burst against local mode, as many clients at once: 200 signed create_task calls and 50 dropped files.

Every connection is answered (the old http.server front, with its listen backlog of 5, reset some of
them) and every task is accounted for: none lost, none duplicated, all terminal.
"""

import json
from pathlib import Path

import pytest

from bench.load import Burst, run_burst
from tests.e2e.conftest import start_local

pytestmark = pytest.mark.e2e

# Bounded: the burst is a fixed count and the tasks' drain has a deadline, well inside the test's timeout.
BURST = Burst(create_tasks=200, drops=50, request_timeout_seconds=180, drain_timeout_seconds=180)


@pytest.mark.timeout(420)
def test_burst_of_200_create_tasks_and_50_drops_is_answered_and_accounted_for(tmp_path: Path) -> None:
    # Its own local mode: 250 tasks would crowd the shared one's queue and its task lists.
    with start_local(tmp_path) as local:
        report = run_burst(json.loads(local.state_file.read_text()), BURST)
    figures = report.figures()
    print(json.dumps(figures, indent=2))  # the run's figures, shown with -s or on failure
    assert figures["connection_resets"] == 0, figures
    assert figures["other_transport_errors"] == 0, [o.transport_error for o in report.outcomes if o.transport_error]
    assert figures["http_statuses"] == {"200": 200}, figures
    assert figures["answered_code_0"] == 200, figures
    assert report.drop_errors == []
    assert report.lost_api_tasks() == [], "create_task answered these ids; no terminal task has them"
    assert report.unexpected_api_tasks() == [], "tasks of the API input that no answer returned"
    assert report.drops_not_once() == {}, "dropped files that did not become exactly one terminal task"
    assert figures["tasks_terminal"] == figures["tasks_expected"] == 250
    assert figures["tasks_success"] == 250, figures
    assert report.drain_seconds is not None
