"""Status transition rules (api.md, "Statuses"), checked against an independent table."""

import itertools

import pytest

from transcoder.status import TERMINAL, Status, allowed_predecessors, is_terminal


def can_move(current: Status, target: Status) -> bool:
    """The rule as the repository applies it: a conditional write from the allowed predecessors."""
    return current in allowed_predecessors(target)


P, D, R, U, S, F, C = (
    Status.PENDING,
    Status.DOWNLOADING,
    Status.RUNNING,
    Status.UPLOADING,
    Status.SUCCESS,
    Status.FAIL,
    Status.CANCELLED,
)

# Written out by hand from api.md: rows are the current status, the set is every allowed target.
# Forward moves (including skips) and re-writing the same non-terminal status are allowed;
# success only from uploading; fail/cancelled from any non-terminal; nothing from a terminal.
EXPECTED_TARGETS: dict[Status, set[Status]] = {
    P: {P, D, R, U, F, C},
    D: {D, R, U, F, C},
    R: {R, U, F, C},
    U: {U, S, F, C},
    S: set(),
    F: set(),
    C: set(),
}
ALL_PAIRS = list(itertools.product(list(Status), repeat=2))


def test_expected_table_covers_every_status() -> None:
    assert set(EXPECTED_TARGETS) == set(Status)
    assert len(Status) == 7


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_can_move_matches_expected_table(current: Status, target: Status) -> None:
    assert can_move(current, target) is (target in EXPECTED_TARGETS[current])


@pytest.mark.parametrize("target", list(Status))
def test_allowed_predecessors_matches_expected_table(target: Status) -> None:
    expected = {current for current, targets in EXPECTED_TARGETS.items() if target in targets}
    assert set(allowed_predecessors(target)) == expected


def test_terminal_statuses() -> None:
    assert {S, F, C} == TERMINAL
    assert [s for s in Status if is_terminal(s)] == [S, F, C]


@pytest.mark.parametrize("terminal", [S, F, C])
def test_terminal_never_changes_not_even_to_itself(terminal: Status) -> None:
    assert not any(can_move(terminal, target) for target in Status)


@pytest.mark.parametrize("status", [P, D, R, U])
def test_same_non_terminal_status_may_be_rewritten(status: Status) -> None:
    assert can_move(status, status)


def test_never_backwards() -> None:
    order = [P, D, R, U, S]
    for i, current in enumerate(order):
        for earlier in order[:i]:
            assert not can_move(current, earlier), f"{current} -> {earlier}"


def test_success_only_from_uploading() -> None:
    assert [s for s in Status if can_move(s, S)] == [U]


@pytest.mark.parametrize("target", [F, C])
def test_fail_and_cancel_from_any_non_terminal(target: Status) -> None:
    assert {s for s in Status if can_move(s, target)} == {P, D, R, U}


def test_status_values_are_the_contract_strings() -> None:
    assert [s.value for s in Status] == [
        "pending",
        "downloading",
        "running",
        "uploading",
        "success",
        "fail",
        "cancelled",
    ]
