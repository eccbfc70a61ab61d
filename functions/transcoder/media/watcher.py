"""Stopping a running ffmpeg once its result is no longer wanted (its task was cancelled, ended or deleted)."""

import logging
import subprocess
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

logger = logging.getLogger(__name__)

KeepGoing = Callable[[], bool]
"""Asked while the process runs; False: stop it, its result would be thrown away."""

CHECK_INTERVAL_SECONDS = 2.0
TERMINATE_GRACE_SECONDS = 3.0
"""How long ffmpeg gets after SIGTERM before SIGKILL: one blocked in a network read may never see SIGTERM."""


class EncodeStopped(Exception):
    """The process was stopped because its result is no longer wanted."""


def stop_process(process: "subprocess.Popen[Any]", grace_seconds: float = TERMINATE_GRACE_SECONDS) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Watcher:
    """Asks `keep_going` every `interval` seconds, in a thread of its own, and stops the process on a no.

    A thread, not the loop that reads ffmpeg's progress: an input that stalls prints no progress, and
    the question must still be asked.
    """

    def __init__(
        self,
        process: "subprocess.Popen[Any]",
        keep_going: KeepGoing,
        *,
        interval: float = CHECK_INTERVAL_SECONDS,
        grace_seconds: float = TERMINATE_GRACE_SECONDS,
    ) -> None:
        self._process = process
        self._keep_going = keep_going
        self._interval = interval
        self._grace_seconds = grace_seconds
        self._finished = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="encode-watcher", daemon=True)

    @property
    def stopped(self) -> bool:
        """True once the process was stopped because `keep_going` said no."""
        return self._stopped.is_set()

    def __enter__(self) -> "Watcher":
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._finished.set()
        # A check under way finishes first, so `stopped` is final once the block is left.
        self._thread.join()

    def _watch(self) -> None:
        while not self._finished.wait(self._interval):
            if self._process.poll() is not None:
                return
            if not self._still_wanted():
                self._stopped.set()
                stop_process(self._process, self._grace_seconds)
                return

    def _still_wanted(self) -> bool:
        try:
            return self._keep_going()
        except Exception:
            logger.warning("checking whether the encode is still wanted failed; asking again", exc_info=True)
            return True
