"""The template's Lambda functions, run in-process: what moto would otherwise run in Docker."""

import dataclasses
import importlib
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transcoder.lazy import load_pending

Handler = Callable[[dict[str, Any], Any], Any]
_IMPORTING = threading.Lock()


@dataclass
class LocalContext:
    """The parts of Lambda's context object the handlers and Powertools use."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.function_version = "$LATEST"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class LocalFunction:
    name: str
    arn: str
    handler_path: str
    """As in the template, `module.attribute`."""
    timeout_seconds: int
    memory_mb: int
    environments: int = 1
    """How many invocations may run at once: one, as a single Lambda execution environment, unless the
    function runs a Distributed Map's items (`FunctionRegistry.allow_parallel`)."""

    def handler(self) -> Handler:
        module_name, _, attribute = self.handler_path.rpartition(".")
        with _IMPORTING:
            handler: Handler = getattr(importlib.import_module(module_name), attribute)
            # All functions share this process's threads, and LazyLoader is thread-safe only from Python 3.12:
            # what a handler imports lazily runs here, under one lock, before any invocation can touch it.
            load_pending()
        return handler

    def context(self) -> LocalContext:
        return LocalContext(self.name, self.memory_mb, self.arn, self.timeout_seconds)


class FunctionRegistry:
    """Each function is one execution environment: like Lambda's, it serves one invocation at a time.

    Handlers keep per-invocation state in module globals (Powertools' resolver holds the current
    event), which is safe on Lambda and must stay safe here, where all functions share one process.
    """

    def __init__(self) -> None:
        self._functions: dict[str, LocalFunction] = {}
        self._environments: dict[str, threading.Semaphore] = {}

    def add(self, function: LocalFunction) -> None:
        self._functions[function.name] = function
        self._environments[function.name] = threading.Semaphore(function.environments)

    def allow_parallel(self, arn: str, environments: int) -> None:
        """Let the function of `arn` run `environments` invocations at once (a map's items, as on Lambda, where
        each runs in its own environment); its handler must keep no per-invocation state in module globals."""
        for function in self._functions.values():
            if function.arn == arn:
                self.add(dataclasses.replace(function, environments=environments))
                return
        raise KeyError(f"no local function has the ARN {arn}")

    def __contains__(self, name: str) -> bool:
        return name in self._functions

    def by_handler(self, handler_path: str) -> LocalFunction:
        return next(f for f in self._functions.values() if f.handler_path == handler_path)

    def invoke(self, name: str, event: Any) -> tuple[bytes, str | None]:
        """Run the handler; returns the payload and, on error, Lambda's `Unhandled` marker."""
        function = self._functions[name]
        try:
            with self._environments[name]:
                result = function.handler()(event, function.context())
        except Exception as exc:  # noqa: BLE001 - reported exactly as Lambda reports it
            error = {
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_tb(exc.__traceback__),
            }
            return json.dumps(error).encode(), "Unhandled"
        return json.dumps(result).encode(), None
