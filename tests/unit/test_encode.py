"""run_encode with the real static ffmpeg on small clips."""

import dataclasses
import time
from pathlib import Path

import pytest

from localmode.media import probe_file
from transcoder.errors import TranscodeFailed, TranscodeTimedOut
from transcoder.media.encode import run_encode
from transcoder.media.encode_plan import plan_encode
from transcoder.media.probe import probe
from transcoder.templates import Template, VideoCodec


def small_template(vcodec: VideoCodec = VideoCodec.H264) -> Template:
    return Template(template_id="t", name="n", resolution="160x120", vcodec=vcodec)


@pytest.mark.parametrize("vcodec", [VideoCodec.H264, VideoCodec.H265])
def test_encode_produces_the_planned_output(clip_with_audio: str, tmp_path: Path, vcodec: VideoCodec) -> None:
    source = probe(clip_with_audio)
    plan = plan_encode(small_template(vcodec), source)
    assert (plan.width, plan.height) == (160, 120)
    destination = tmp_path / "out.mp4"
    progress: list[float] = []

    run_encode(
        plan,
        clip_with_audio,
        str(destination),
        duration=source.duration,
        timeout_seconds=60,
        on_progress=progress.append,
    )

    assert destination.stat().st_size > 0
    result = probe(str(destination))
    assert result.video is not None
    assert (result.video.width, result.video.height) == (160, 120)
    assert result.video.codec == ("h264" if vcodec is VideoCodec.H264 else "hevc")
    assert result.audio is not None
    assert result.duration == pytest.approx(source.duration, abs=0.15)
    checked = probe_file(str(destination))
    assert checked.format_name.startswith("mov,mp4")
    assert checked.frame_count == pytest.approx(30, abs=2)
    assert progress, "on_progress was never called"
    assert all(0.0 <= fraction <= 1.0 for fraction in progress)
    assert progress == sorted(progress)


def test_encode_without_audio(clip_without_audio: str, tmp_path: Path) -> None:
    source = probe(clip_without_audio)
    plan = plan_encode(small_template(), source)
    destination = tmp_path / "out.mp4"
    run_encode(plan, clip_without_audio, str(destination), duration=source.duration, timeout_seconds=60)
    result = probe(str(destination))
    assert result.video is not None
    assert (result.video.width, result.video.height) == (160, 120)
    assert result.audio is None


def test_bad_plan_raises_transcode_failed(clip_with_audio: str, tmp_path: Path) -> None:
    source = probe(clip_with_audio)
    plan = plan_encode(small_template(), source)
    args = list(plan.output_args)
    args[args.index("-c:v") + 1] = "no_such_encoder_xyz"
    bad = dataclasses.replace(plan, output_args=args)
    with pytest.raises(TranscodeFailed) as caught:
        run_encode(bad, clip_with_audio, str(tmp_path / "out.mp4"), duration=source.duration, timeout_seconds=60)
    assert caught.value.err_code == 3001
    assert not isinstance(caught.value, TranscodeTimedOut)
    assert "ffmpeg exited with code" in str(caught.value)


def test_missing_source_raises_transcode_failed(tmp_path: Path, clip_with_audio: str) -> None:
    plan = plan_encode(small_template(), probe(clip_with_audio))
    with pytest.raises(TranscodeFailed):
        run_encode(plan, str(tmp_path / "missing.mp4"), str(tmp_path / "o.mp4"), duration=1, timeout_seconds=60)


def test_timeout_raises_transcode_timed_out(longer_clip: str, tmp_path: Path) -> None:
    source = probe(longer_clip)
    plan = plan_encode(Template(template_id="t", name="n", resolution="original"), source)
    started = time.monotonic()
    with pytest.raises(TranscodeTimedOut) as caught:
        run_encode(plan, longer_clip, str(tmp_path / "out.mp4"), duration=source.duration, timeout_seconds=0.001)
    assert caught.value.err_code == 3002
    assert time.monotonic() - started < 10


def test_progress_is_clamped_when_duration_is_understated(clip_with_audio: str, tmp_path: Path) -> None:
    # A container that under-reports its duration must not push progress past 1.
    plan = plan_encode(small_template(), probe(clip_with_audio))
    progress: list[float] = []
    run_encode(
        plan, clip_with_audio, str(tmp_path / "o.mp4"), duration=0.1, timeout_seconds=60, on_progress=progress.append
    )
    assert progress
    assert all(0.0 <= fraction <= 1.0 for fraction in progress)
    assert progress[-1] == 1.0
