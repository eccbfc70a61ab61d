"""Showing a task's progress while waiting: a tqdm bar on a terminal, one line per change otherwise.

tqdm is the client's `progress` extra (`pip install './client[progress]'`); without it, or when stderr
is a file or a pipe (CI logs, `2>log`), the status lines are what is shown.
"""

import importlib.util
import sys
import time
from types import TracebackType
from typing import Any, TextIO

HAVE_TQDM = importlib.util.find_spec("tqdm") is not None
STATUS_WIDTH = len("downloading")
"""The longest status: the bar stays in place as the status changes."""


class TaskProgress:
    """A callback for Client.wait: shows status and progress (0-100) of one task on `stream`."""

    def __init__(self, task_id: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.task_id = task_id
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._bar: Any = None
        self._last: tuple[str, int] | None = None
        self._started = time.monotonic()
        if enabled and HAVE_TQDM and self.stream.isatty():
            from tqdm import tqdm  # only when a bar is drawn: the `progress` extra may not be installed

            # The status goes in the description: tqdm's {postfix} always starts with ", ".
            self._bar = tqdm(
                total=100,
                desc=self._label("pending"),
                file=self.stream,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}",
            )

    def __call__(self, task: dict[str, Any]) -> None:
        status, progress = str(task.get("status", "?")), int(task.get("progress") or 0)
        if not self.enabled or (status, progress) == self._last:
            return
        self._last = (status, progress)
        if self._bar is not None:
            self._bar.set_description_str(self._label(status), refresh=False)
            self._bar.update(progress - self._bar.n)
        else:
            elapsed = time.monotonic() - self._started
            line = f"{self.task_id} {elapsed:6.1f} s  {status:<{STATUS_WIDTH}} {progress:3d}%"
            print(line, file=self.stream, flush=True)

    def _label(self, status: str) -> str:
        return f"{self.task_id} {status:<{STATUS_WIDTH}}"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "TaskProgress":
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
