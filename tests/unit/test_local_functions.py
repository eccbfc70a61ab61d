"""Local mode runs a Distributed Map's item function in several environments at once, and every other function
in one, as Lambda does; the functions that may run in parallel are read from the state machine's definition."""

import threading
from typing import Any

import pytest

from localmode.emulator import distributed_item_functions
from localmode.functions import FunctionRegistry, LocalContext, LocalFunction

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"
WAIT_SECONDS = 10.0
"""Bounds every wait on another thread: reached only when the test fails."""
ABSENT_SECONDS = 1.0
"""How long an invocation that must wait for an environment is watched not to start."""


def _task(name: str, **fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FUNCTION + name, **fields}


def _map(mode: str | None, states: dict[str, Any], start: str, **fields: Any) -> dict[str, Any]:
    processor: dict[str, Any] = {"StartAt": start, "States": states}
    if mode:
        processor["ProcessorConfig"] = {"Mode": mode, "ExecutionType": "STANDARD"}
    return {"Type": "Map", "ItemProcessor": processor, **fields}


DEFINITION: dict[str, Any] = {
    "StartAt": "Download",
    "States": {
        "Download": _task("download", Next="Encoded"),
        "Encoded": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Chunks",
                    "States": {
                        "Chunks": _map(
                            "DISTRIBUTED",
                            {
                                "EncodeChunk": _task(
                                    "chunk", End=True, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Record"}]
                                ),
                                "Record": _task("record-chunk-failure", Next="Failed"),
                                "Failed": {"Type": "Fail"},
                                "Upload": {"Type": "Task", "Resource": "arn:aws:states:::s3:putObject", "End": True},
                                "Variants": _map(
                                    "INLINE", {"Variant": _task("variant", End=True)}, "Variant", End=True
                                ),
                            },
                            "EncodeChunk",
                            End=True,
                        )
                    },
                },
                {
                    "StartAt": "Renditions",
                    "States": {
                        "Renditions": _map("INLINE", {"Rendition": _task("rendition", End=True)}, "Rendition", End=True)
                    },
                },
                {
                    "StartAt": "Legacy",
                    "States": {
                        "Legacy": {
                            "Type": "Map",
                            "Iterator": {"StartAt": "Old", "States": {"Old": _task("legacy-item", End=True)}},
                            "End": True,
                        }
                    },
                },
            ],
            "Next": "Join",
        },
        "Join": _task("join", End=True),
    },
}


def test_only_the_functions_a_distributed_map_runs_for_its_items_are_found() -> None:
    assert distributed_item_functions(DEFINITION) == {
        FUNCTION + "chunk",
        FUNCTION + "record-chunk-failure",
        FUNCTION + "variant",  # an inline map inside an item runs once per item, in parallel too
    }


def test_a_definition_without_a_distributed_map_has_none() -> None:
    inline_only = {"StartAt": "Items", "States": {"Items": _map("INLINE", {"Item": _task("item", End=True)}, "Item")}}
    assert distributed_item_functions(inline_only) == set()


class Gate:
    """Handlers that stay inside their invocation until released, counting how many are inside at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.inside = 0
        self.most_inside = 0
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.results: list[tuple[bytes, str | None]] = []

    def hold(self, function_name: str) -> str:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.entered.release()
        try:
            if not self.release.wait(WAIT_SECONDS):
                raise TimeoutError("never released")
        finally:
            with self._lock:
                self.inside -= 1
        return function_name


def handle(event: Gate, context: LocalContext) -> str:
    """The functions' handler (`module.attribute`, imported by the registry as a template's handler is)."""
    return event.hold(context.function_name)


def fail(event: Gate, context: LocalContext) -> str:
    raise RuntimeError("this invocation fails")


def _registry() -> FunctionRegistry:
    registry = FunctionRegistry()
    for name in ("chunk", "other"):
        registry.add(LocalFunction(name, FUNCTION + name, f"{__name__}.handle", timeout_seconds=60, memory_mb=128))
    return registry


def _invoke_in_threads(registry: FunctionRegistry, name: str, gate: Gate, count: int) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=lambda: gate.results.append(registry.invoke(name, gate)), daemon=True)
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(WAIT_SECONDS)
        assert not thread.is_alive()


def test_an_item_function_runs_its_invocations_at_once() -> None:
    registry = _registry()
    registry.allow_parallel(FUNCTION + "chunk", 3)
    gate = Gate()
    threads = _invoke_in_threads(registry, "chunk", gate, 3)
    # All three are inside their handler together: none has been released yet.
    for _ in range(3):
        assert gate.entered.acquire(timeout=WAIT_SECONDS), "an invocation waited for another to end"
    assert gate.inside == 3
    gate.release.set()
    _join(threads)
    assert gate.most_inside == 3
    assert gate.results == [(b'"chunk"', None)] * 3


def test_an_item_function_runs_no_more_than_its_environments() -> None:
    registry = _registry()
    registry.allow_parallel(FUNCTION + "chunk", 2)
    gate = Gate()
    threads = _invoke_in_threads(registry, "chunk", gate, 3)
    for _ in range(2):
        assert gate.entered.acquire(timeout=WAIT_SECONDS)
    assert not gate.entered.acquire(timeout=ABSENT_SECONDS), "a third invocation ran beside two"
    gate.release.set()
    assert gate.entered.acquire(timeout=WAIT_SECONDS), "the third invocation never ran"
    _join(threads)
    assert gate.most_inside == 2


def test_other_functions_stay_one_invocation_at_a_time() -> None:
    registry = _registry()
    registry.allow_parallel(FUNCTION + "chunk", 3)
    gate, chunk_gate = Gate(), Gate()
    threads = _invoke_in_threads(registry, "other", gate, 2)
    assert gate.entered.acquire(timeout=WAIT_SECONDS)
    # While `other` is busy, the item function still runs: environments are per function.
    chunk_threads = _invoke_in_threads(registry, "chunk", chunk_gate, 1)
    assert chunk_gate.entered.acquire(timeout=WAIT_SECONDS)
    assert not gate.entered.acquire(timeout=ABSENT_SECONDS), "a second invocation of `other` ran beside the first"
    gate.release.set()
    chunk_gate.release.set()
    assert gate.entered.acquire(timeout=WAIT_SECONDS), "the second invocation never ran"
    _join(threads + chunk_threads)
    assert gate.most_inside == 1
    assert gate.results == [(b'"other"', None)] * 2


def test_a_failed_invocation_gives_its_environment_back() -> None:
    registry = FunctionRegistry()
    registry.add(LocalFunction("broken", FUNCTION + "broken", f"{__name__}.fail", timeout_seconds=60, memory_mb=128))
    outcomes: list[tuple[bytes, str | None]] = []

    def invoke_three_times() -> None:
        for _ in range(3):
            outcomes.append(registry.invoke("broken", Gate()))

    # One environment: were it not given back, the second invocation would wait for it for good.
    invoking = threading.Thread(target=invoke_three_times, daemon=True)
    invoking.start()
    _join([invoking])
    assert [error for _, error in outcomes] == ["Unhandled"] * 3
    assert all(b"this invocation fails" in payload for payload, _ in outcomes)


def test_allowing_an_unknown_function_is_refused() -> None:
    with pytest.raises(KeyError, match="no local function"):
        _registry().allow_parallel(FUNCTION + "missing", 2)
