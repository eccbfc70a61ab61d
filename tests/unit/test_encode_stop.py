"""Stopping a running encode that is no longer wanted, with the real static ffmpeg."""

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from localmode.media import generate_clip
from tests.processes import ffmpeg_children
from transcoder.media.encode import run_encode
from transcoder.media.encode_plan import plan_encode
from transcoder.media.probe import probe
from transcoder.media.watcher import EncodeStopped
from transcoder.templates import Template, VideoCodec

CHECK_SECONDS = 0.2
STOPPED_WITHIN_SECONDS = 6.0
"""After `keep_going` first says no: a check interval, SIGTERM, at most the 3 s grace and SIGKILL, on a busy machine."""


@pytest.fixture(scope="module")
def minute_clip(clip_dir: Path) -> str:
    return generate_clip(str(clip_dir / "minute.mp4"), seconds=60, size="640x360", rate=25)


class Cancel:
    """A `keep_going` that says no from `after` seconds on, and remembers when it first did."""

    def __init__(self, after: float) -> None:
        self._at = time.monotonic() + after
        self.said_no_at: float | None = None

    def __call__(self) -> bool:
        if time.monotonic() < self._at:
            return True
        self.said_no_at = self.said_no_at or time.monotonic()
        return False


def test_a_cancel_mid_encode_stops_ffmpeg_within_seconds(minute_clip: str, tmp_path: Path) -> None:
    source = probe(minute_clip)
    plan = plan_encode(Template(template_id="t", name="n", resolution="original", vcodec=VideoCodec.H265), source)
    progress: list[float] = []
    cancel = Cancel(after=1.5)

    with pytest.raises(EncodeStopped):
        run_encode(
            plan,
            minute_clip,
            str(tmp_path / "out.mp4"),
            duration=source.duration,
            timeout_seconds=600,
            on_progress=progress.append,
            keep_going=cancel,
            check_interval=CHECK_SECONDS,
        )

    ended = time.monotonic()
    assert cancel.said_no_at is not None
    assert ended - cancel.said_no_at < STOPPED_WITHIN_SECONDS
    assert progress, "the encode never started"
    assert progress[-1] < 0.9, "the encode ran to its end instead of stopping"
    assert ffmpeg_children() == []


@pytest.fixture
def stalled_input(tmp_path: Path, clip_with_audio: str) -> Iterator[str]:
    """A pipe that delivers the start of a clip, then nothing: an input whose source stalls."""
    fifo = tmp_path / "stalled.mp4"
    os.mkfifo(fifo)
    head = Path(clip_with_audio).read_bytes()[:4096]
    closed = threading.Event()

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(head)
            pipe.flush()
            closed.wait(60)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    yield str(fifo)
    closed.set()
    feeder.join(timeout=5)


def test_a_stalled_input_is_still_stopped(stalled_input: str, clip_with_audio: str, tmp_path: Path) -> None:
    # No progress line ever comes: only a check independent of progress can notice the cancel.
    plan = plan_encode(Template(template_id="t", name="n", resolution="160x120"), probe(clip_with_audio))
    progress: list[float] = []
    cancel = Cancel(after=1.0)

    with pytest.raises(EncodeStopped):
        run_encode(
            plan,
            stalled_input,
            str(tmp_path / "out.mp4"),
            duration=1.0,
            timeout_seconds=600,
            on_progress=progress.append,
            keep_going=cancel,
            check_interval=CHECK_SECONDS,
        )

    assert cancel.said_no_at is not None
    assert time.monotonic() - cancel.said_no_at < STOPPED_WITHIN_SECONDS
    assert progress == [] or progress[-1] == 0.0
    assert ffmpeg_children() == []


def test_a_failing_check_does_not_stop_the_encode(clip_with_audio: str, tmp_path: Path) -> None:
    checks = 0

    def unreachable() -> bool:
        nonlocal checks
        checks += 1
        raise ConnectionError("the task table is not reachable")

    source = probe(clip_with_audio)
    plan = plan_encode(Template(template_id="t", name="n", resolution="original", vcodec=VideoCodec.H265), source)
    destination = tmp_path / "out.mp4"
    run_encode(
        plan,
        clip_with_audio,
        str(destination),
        duration=source.duration,
        timeout_seconds=600,
        keep_going=unreachable,
        check_interval=0.01,
    )
    assert checks > 0
    assert probe(str(destination)).duration == pytest.approx(source.duration, abs=0.15)


def test_an_error_while_reporting_progress_leaves_no_ffmpeg_running(minute_clip: str, tmp_path: Path) -> None:
    def broken(fraction: float) -> None:
        raise RuntimeError("progress write failed")

    source = probe(minute_clip)
    plan = plan_encode(Template(template_id="t", name="n", resolution="360p"), source)
    with pytest.raises(RuntimeError, match="progress write failed"):
        run_encode(plan, minute_clip, str(tmp_path / "o.mp4"), duration=60, timeout_seconds=600, on_progress=broken)
    assert ffmpeg_children() == []
