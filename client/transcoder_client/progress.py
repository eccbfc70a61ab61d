"""Showing a task's progress while waiting: a tqdm bar on a terminal, one line per change otherwise.

tqdm is the `cli` extra (kept out of the Lambda bundle); without it, or when stderr is a file or a pipe
(CI logs, `2>log`), the status lines are what is shown.
"""

import importlib.util
import sys
import time
from types import TracebackType
from typing import Any, TextIO

HAVE_TQDM = importlib.util.find_spec("tqdm") is not None


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
            from tqdm import tqdm  # only when a bar is drawn: the `cli` extra may not be installed

            self._bar = tqdm(
                total=100,
                desc=task_id,
                file=self.stream,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {postfix} [{elapsed}]",
                postfix="pending",
            )

    def __call__(self, task: dict[str, Any]) -> None:
        status, progress = str(task.get("status", "?")), int(task.get("progress") or 0)
        if not self.enabled or (status, progress) == self._last:
            return
        self._last = (status, progress)
        if self._bar is not None:
            self._bar.set_postfix_str(status, refresh=False)
            self._bar.update(progress - self._bar.n)
        else:
            elapsed = time.monotonic() - self._started
            print(f"{self.task_id} {elapsed:6.1f} s  {status:<11} {progress:3d}%", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> "TaskProgress":
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
