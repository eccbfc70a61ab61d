"""Run one ffmpeg encode, reporting progress, honouring a deadline, and stopping when no longer wanted."""

import subprocess
import threading
from collections import deque
from collections.abc import Callable

from transcoder.errors import TranscodeFailed, TranscodeTimedOut
from transcoder.media.binaries import ffmpeg_path
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.sources import redact
from transcoder.media.watcher import CHECK_INTERVAL_SECONDS, EncodeStopped, KeepGoing, Watcher, stop_process

ProgressCallback = Callable[[float], None]
"""Called with the fraction (0 to 1) of the source encoded so far."""


def run_encode(
    plan: EncodePlan,
    source: str,
    destination: str,
    *,
    duration: float,
    timeout_seconds: float,
    on_progress: ProgressCallback | None = None,
    logo: str | None = None,
    keep_going: KeepGoing = lambda: True,
    check_interval: float = CHECK_INTERVAL_SECONDS,
) -> None:
    """Encode `source` to `destination` with `plan` (see run_ffmpeg for what it raises)."""
    run_ffmpeg(
        plan.command(ffmpeg_path(), source, destination, logo),
        source=source,
        duration=duration,
        timeout_seconds=timeout_seconds,
        on_progress=on_progress,
        logo=logo,
        keep_going=keep_going,
        check_interval=check_interval,
    )


def run_ffmpeg(
    command: list[str],
    *,
    source: str,
    duration: float,
    timeout_seconds: float,
    on_progress: ProgressCallback | None = None,
    logo: str | None = None,
    keep_going: KeepGoing = lambda: True,
    check_interval: float = CHECK_INTERVAL_SECONDS,
) -> None:
    """Run one ffmpeg `command` reading `source` (and `logo`), whose output lasts `duration` seconds.

    Raises EncodeStopped when `keep_going` (asked every `check_interval` seconds) said no and ffmpeg
    was stopped; TranscodeTimedOut past the deadline; TranscodeFailed when ffmpeg fails. Neither
    presigned URL reaches an error message.
    """
    command = list(command)
    # `-progress pipe:1` prints key=value lines; out_time_us tells how far the encode is.
    command[1:1] = ["-progress", "pipe:1", "-nostats", "-loglevel", "error"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr_tail: deque[str] = deque(maxlen=20)
    drain = threading.Thread(target=lambda: stderr_tail.extend(process.stderr or []), daemon=True)
    drain.start()
    timed_out = threading.Event()

    def stop_at_deadline() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout_seconds, stop_at_deadline)
    timer.start()
    watcher = Watcher(process, keep_going, interval=check_interval)
    try:
        with watcher:
            for line in process.stdout or []:
                if on_progress and duration > 0 and line.startswith("out_time_us="):
                    value = line.partition("=")[2].strip()
                    if value.isdigit():
                        on_progress(min(1.0, int(value) / 1_000_000 / duration))
            returncode = process.wait()
    finally:
        timer.cancel()
        # Whatever ended the loop (a failed progress write too), no ffmpeg outlives the call.
        stop_process(process)
        drain.join(timeout=5)
    if watcher.stopped:
        raise EncodeStopped("the encode was stopped: its result is no longer wanted")
    if returncode != 0:
        if timed_out.is_set():
            raise TranscodeTimedOut(f"transcoding did not finish within {timeout_seconds:.0f} s")
        detail = redact(" ".join(line.strip() for line in stderr_tail if line.strip()), source)
        # The logo's URL is presigned too: its signature must not reach the task's message either.
        detail = (detail.replace(logo, "logo") if logo else detail)[-400:]
        raise TranscodeFailed(f"ffmpeg exited with code {returncode}: {detail or 'no error output'}")
