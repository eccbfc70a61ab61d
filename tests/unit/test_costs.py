"""The cost model: prices, the estimate per runner, and the cap decision (transcoder.pricing, costs, cost_cap)."""

import json

import pytest

from infra.settings import DeploymentSettings
from transcoder import costs
from transcoder.cost_cap import checked_max_cost, exceeds
from transcoder.costs import Sizes, check_cap, encode_cpu_per_second, estimate, transitions
from transcoder.errors import CostOverCap
from transcoder.media.encode_plan import EncodePlan, plan_encode
from transcoder.media.info import AudioStream, MediaInfo, VideoStream
from transcoder.pipeline.payloads import Runner
from transcoder.pricing import DEFAULT_PRICES, Prices
from transcoder.templates import find_builtin

GB_S_X86 = 0.0000166667
REQUEST = 0.20 / 1_000_000


def _media(seconds: float, width: int = 1280, height: int = 720, fps: float = 30.0) -> MediaInfo:
    return MediaInfo(
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration=seconds,
        size_bytes=int(seconds * 700_000),
        bitrate_kbps=5600,
        video=VideoStream("h264", width, height, width, height, fps, int(seconds * fps)),
        audio=AudioStream("aac", 2, 48000),
    )


def _plan(template_name: str, media: MediaInfo) -> EncodePlan:
    template = find_builtin(name=template_name)
    assert template is not None
    return plan_encode(template, media, None)


def test_a_lambda_invocation_is_billed_by_the_millisecond_and_the_request() -> None:
    prices = Prices()
    assert prices.lambda_invocation(1.0, 1024, "x86_64") == pytest.approx(GB_S_X86 + REQUEST)
    # 0.1 ms is billed as 1 ms; 1.0004 s as 1.001 s.
    assert prices.lambda_invocation(0.0001, 1024, "x86_64") == pytest.approx(0.001 * GB_S_X86 + REQUEST)
    assert prices.lambda_invocation(1.0004, 2048, "x86_64") == pytest.approx(1.001 * 2 * GB_S_X86 + REQUEST)
    assert prices.lambda_invocation(1.0, 1024, "arm64") == pytest.approx(0.0000133334 + REQUEST)


def test_a_fargate_task_is_billed_by_the_second_at_least_a_minute() -> None:
    prices = Prices()
    per_hour = 4 * 0.04048 + 8 * 0.004445  # 4 vCPU, 8 GiB, x86_64
    assert prices.fargate_task(
        5, cpu_units=4096, memory_mib=8192, storage_gib=20, architecture="x86_64"
    ) == pytest.approx(per_hour / 60)
    assert prices.fargate_task(
        120.2, cpu_units=4096, memory_mib=8192, storage_gib=20, architecture="x86_64"
    ) == pytest.approx(per_hour * 121 / 3600)
    # Storage beyond the 20 GB included: 80 GB more.
    assert prices.fargate_task(
        3600, cpu_units=1024, memory_mib=2048, storage_gib=100, architecture="arm64"
    ) == pytest.approx(0.03238 + 2 * 0.00356 + 80 * 0.000111)


def test_prices_come_from_the_environment_and_refuse_what_is_not_a_price() -> None:
    assert Prices.from_env("") == DEFAULT_PRICES
    assert Prices.from_env(json.dumps({"state_transition": 0.00003})).state_transition == 0.00003
    with pytest.raises(ValueError, match="PRICES"):
        Prices.from_env(json.dumps({"lambda_gb_seconds": 1}))
    with pytest.raises(ValueError, match="price_lambda_request"):
        Prices(lambda_request=-1)


def test_deployment_settings_carry_the_prices_and_sizes_to_the_functions() -> None:
    settings = DeploymentSettings()
    assert settings.prices() == DEFAULT_PRICES
    environment = settings.cost_environment()
    assert Prices.from_env(environment["PRICES"]) == DEFAULT_PRICES
    # What the estimate assumes without an environment is what the stack deploys by default.
    defaults = Sizes()
    assert (defaults.architecture, defaults.step_memory_mb, defaults.transcode_memory_mb) == (
        settings.architecture,
        settings.step_memory_mb,
        settings.transcode_memory_mb,
    )
    assert (defaults.chunk_memory_mb, defaults.join_memory_mb) == (settings.chunk_memory_mb, settings.join_memory_mb)
    assert (defaults.worker_cpu, defaults.worker_memory_mib, defaults.worker_storage_gib) == (
        settings.worker_cpu,
        settings.worker_memory_mib,
        settings.worker_ephemeral_storage_gib,
    )
    regional = DeploymentSettings(price_lambda_gb_second_arm64=0.000016, architecture="arm64")
    assert Prices.from_env(regional.cost_environment()["PRICES"]).lambda_gb_second_arm64 == 0.000016
    with pytest.raises(ValueError, match="price_state_transition"):
        DeploymentSettings(price_state_transition=-0.1)


def test_encode_cpu_grows_with_pixels_and_codec() -> None:
    media = _media(60)
    small = encode_cpu_per_second(_plan("MP4_264_360p", media), media)
    large = encode_cpu_per_second(_plan("MP4_264_720p", media), media)
    hevc = encode_cpu_per_second(_plan("MP4_265_720p", media), media)
    # 720p30 source: decode 27.648 Mpx/s x 0.0027, plus 6.912 Mpx/s x 0.0077 out (H.264 360p).
    assert small == pytest.approx(27.648 * 0.0027 + 6.912 * 0.0077)
    assert small < large < hevc
    ladder = encode_cpu_per_second(_plan("HLS_264_ladder", media), media)
    assert ladder > large  # 720p and 360p renditions of a 720p source


def test_transitions_per_runner() -> None:
    assert transitions("lambda", 0) == 6
    assert transitions("fargate", 0) == 8
    assert transitions("chunks", 60) == 10 + 2 * 60


def test_estimate_of_one_lambda_worked_by_hand() -> None:
    media = _media(60)
    plan = _plan("MP4_264_360p", media)
    result = estimate(
        runner="lambda", plan=plan, media=media, chunks=0, output_bytes=8_000_000, sizes=Sizes(), prices=Prices()
    )
    copy = 8_000_000 / 85e6
    cpu = (27.648 * 0.0027 + 6.912 * 0.0077) * 60 + 0.0083 * 60
    seconds = {1024: [0.6, 0.4, 0.4 + copy], 3008: [cpu / (3008 / 1769) + 0.5 + copy]}
    expected_lambda = sum(
        (round(s, 3) * memory / 1024 * GB_S_X86 + REQUEST) for memory, spans in seconds.items() for s in spans
    )
    assert result.lambda_dollars == pytest.approx(expected_lambda, rel=1e-3)
    # 6 transitions; PUTs: the output (one 8 MiB part) and Upload's copy; GETs: 4.
    assert result.requests_dollars == pytest.approx(6 * 0.000025 + 2 * 0.000005 + 4 * 0.0000004)
    assert result.fargate_dollars == 0
    assert result.total == pytest.approx(result.lambda_dollars + result.requests_dollars)


def test_estimate_per_runner() -> None:
    media = _media(600, 1920, 1080)
    plan = _plan("MP4_264_720p", media)

    def on(runner: Runner, chunks: int = 0, sizes: Sizes | None = None) -> costs.Estimate:
        return estimate(
            runner=runner,
            plan=plan,
            media=media,
            chunks=chunks,
            output_bytes=60_000_000,
            sizes=sizes or Sizes(),
            prices=Prices(),
        )

    single, chunked, worker = on("lambda"), on("chunks", 60), on("fargate")
    # The same CPU work: chunks add invocations, the audio and join steps and 120 transitions.
    assert chunked.total > single.total
    assert chunked.requests_dollars - single.requests_dollars > 120 * 0.000025
    # The worker: 4 vCPU and 8 GiB for the encode's wall time, Lambda only for the other steps.
    assert worker.fargate_dollars > 0
    assert worker.lambda_dollars < single.lambda_dollars
    # The 1080p -> 720p minute lands near the README's measured $0.00068 per output minute of the encode.
    assert 0.0004 < single.lambda_dollars / 10 < 0.0012
    assert on("lambda", sizes=Sizes(architecture="arm64")).total < single.total


@pytest.mark.parametrize(("estimated", "cap", "refused"), [(0.02, 0.01, True), (0.01, 0.01, False), (0.5, None, False)])
def test_the_cap_refuses_only_an_estimate_over_it(estimated: float, cap: float | None, refused: bool) -> None:
    assert exceeds(estimated, cap) is refused
    if refused:
        with pytest.raises(CostOverCap, match=r"estimated cost \$0\.020000 exceeds max_cost \$0\.010000") as error:
            check_cap(estimated, cap)
        assert error.value.err_code == 2006
    else:
        check_cap(estimated, cap)


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan"), 2_000_000, True, "1"])
def test_a_max_cost_is_a_positive_number_of_dollars(value: object) -> None:
    with pytest.raises(ValueError, match="number of dollars"):
        checked_max_cost(value)  # type: ignore[arg-type]
    assert checked_max_cost(0.25) == 0.25
    assert checked_max_cost(3) == 3.0
