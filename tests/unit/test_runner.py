"""The runner rule (pipeline/runner.py) at its boundaries, and the output estimate it is fed."""

import pytest

from transcoder.media.encode_plan import plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.pipeline.runner import choose_runner, estimated_output_bytes
from transcoder.templates import Template

MIB = 1024**2


def rule(duration: float, output_mib: float, chunks: int) -> str:
    return choose_runner(
        duration_seconds=duration,
        output_bytes=int(output_mib * MIB),
        chunks=chunks,
        chunk_min_input_seconds=60,
        lambda_max_output_bytes=8192 * MIB,
    )


@pytest.mark.parametrize(
    ("duration", "output_mib", "chunks", "runner"),
    [
        (60, 100, 0, "lambda"),  # up to chunk_min_input_seconds: one Lambda
        (60.001, 100, 6, "chunks"),  # past it: chunks
        (3600, 8192, 360, "chunks"),  # an output that just fits /tmp
        (3600, 8192.001, 360, "fargate"),  # one that does not, chunked or not
        (30, 8192.001, 0, "fargate"),  # a short input with a huge output too
        (600, 100, 1, "fargate"),  # keyframes allow no cut: a whole-file encode too long for a Lambda
        (600, 100, 2, "chunks"),
    ],
)
def test_the_rule_at_its_boundaries(duration: float, output_mib: float, chunks: int, runner: str) -> None:
    assert rule(duration, output_mib, chunks) == runner


def _media(seconds: float, width: int = 1920, height: int = 1080, fps: float = 30) -> MediaInfo:
    video = VideoStream(
        codec="h264", width=width, height=height, display_width=width, display_height=height, fps=fps, frame_count=None
    )
    audio = AudioStream(codec="aac", channels=2, sample_rate=48000)
    return MediaInfo(
        format_name="mov,mp4", duration=seconds, size_bytes=10**9, bitrate_kbps=5000.0, video=video, audio=audio
    )


def test_a_capped_template_is_estimated_at_its_cap() -> None:
    template = Template(template_id="t", name="capped", resolution="720p", video_bitrate=2000)
    plan = plan_encode(template, _media(3600), None)
    assert "-maxrate" in plan.video_args
    estimate = estimated_output_bytes(plan, _media(3600))
    maxrate = int(plan.video_args[plan.video_args.index("-maxrate") + 1].removesuffix("k"))
    audio = int(plan.audio_args[plan.audio_args.index("-b:a") + 1].removesuffix("k"))
    assert estimate == (maxrate + audio) * 1000 * 3600 // 8


def test_an_uncapped_template_is_estimated_by_its_pixels() -> None:
    template = Template(template_id="t", name="crf_only", resolution="original")
    plan = plan_encode(template, _media(600, 1280, 720, 25), None)
    assert "-maxrate" not in plan.video_args
    estimate = estimated_output_bytes(plan, _media(600, 1280, 720, 25))
    assert estimate >= 1280 * 720 * 25 * 0.10 * 600 / 8  # H.264 at 0.1 bit per pixel, plus the audio
