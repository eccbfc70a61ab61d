"""The AWS model's arithmetic on fixed inputs, worked out by hand (bench/aws_model.py)."""

from fractions import Fraction

import pytest

from bench.aws_measure import frames_like
from bench.aws_model import Deployment, Measured, Published, estimate, on_lambda, streamed_seconds, transfer_seconds
from transcoder.media.chunk_plan import SourceFrames, plan_chunks

# Round numbers: 1,000 MB per vCPU, 100 MB/s per S3 connection, 0.2 s per request, 1 s cold, 0.1 s invoke.
PUBLISHED = Published(
    mb_per_vcpu=1000,
    invoke_seconds=0.1,
    cold_start_seconds=1.0,
    map_run_overhead_seconds=7.0,
    s3_bytes_per_second=100e6,
    s3_first_byte_seconds=0.2,
)
# Chunks get 2 vCPUs, the other steps 0.5; four chunks at a time; Join fetches 10 files at a time.
DEPLOYMENT = Deployment(
    "x86_64", chunk_memory_mb=2000, map_max_concurrency=4, step_memory_mb=500, join_memory_mb=500, join_fetch_threads=10
)
# A 100 s sample; the task modelled is 200 s, so everything per source-second doubles.
MEASURED = Measured(
    sample_seconds=100,
    source_bytes=100_000_000,
    header_probe_cpu_seconds=0.5,
    header_probe_read_bytes=1_000_000,
    header_probe_requests=1,
    index_probe_cpu_seconds=1.0,
    index_probe_read_bytes=100_000_000,
    index_probe_requests=1,
    chunk_cpu_seconds=[4.0, 6.0],
    chunk_read_bytes=[10_000_000, 10_000_000],
    chunk_requests=[2, 3],
    chunk_bytes=[20_000_000, 20_000_000],
    audio_cpu_seconds=2.0,
    audio_read_bytes=100_000_000,
    audio_requests=1,
    audio_bytes=1_000_000,
    join_cpu_seconds=1.0,
    output_bytes=50_000_000,
)


def test_threaded_encodes_use_every_vcpu_and_single_threaded_steps_at_most_one() -> None:
    assert on_lambda(6.0, 3000, PUBLISHED, threaded=True) == pytest.approx(2.0)
    assert on_lambda(6.0, 3000, PUBLISHED, threaded=False) == pytest.approx(6.0)
    assert on_lambda(6.0, 500, PUBLISHED, threaded=False) == pytest.approx(12.0)


def test_reads_from_s3_overlap_the_work_and_each_request_waits_for_its_first_byte() -> None:
    assert transfer_seconds(300e6, PUBLISHED, requests=2) == pytest.approx(3.4)
    assert streamed_seconds(1.0, 300e6, PUBLISHED) == pytest.approx(3.2)
    assert streamed_seconds(5.0, 300e6, PUBLISHED, requests=2) == pytest.approx(5.4)


def test_stage_times_of_a_200_s_task_in_ten_chunks() -> None:
    model = estimate(MEASURED, 200, 10, DEPLOYMENT, PUBLISHED)
    start = 0.1 + 1.0  # invoke, cold start
    assert model.waves == 3
    # header probe: 0.5 CPU-s (not scaled) at 0.5 vCPU = 1 s, slower than 2 MB at 100 MB/s; one first byte
    assert model.stage("download").wall_seconds == pytest.approx(start + 0.2 + 1.0)
    # index probe: 2 CPU-s at 0.5 vCPU = 4 s (200 MB takes 2 s); then one PUT of the items
    assert model.stage("plan").wall_seconds == pytest.approx(start + 0.2 + 4.0 + 0.2)
    # slowest chunk: three GETs, 6 CPU-s on 2 vCPUs = 3 s, its 20 MB up in 0.2 s after a first byte: 4.0 s
    assert model.map_wall_seconds == pytest.approx(7.0 + 1.0 + 3 * (0.1 + 4.0))
    # audio: 4 CPU-s at 0.5 vCPU = 8 s (the 200 MB read takes 2 s), then 2 MB up
    assert model.audio_wall_seconds == pytest.approx(start + 0.2 + 8.0 + 0.2 + 0.02)
    # join: the items, 100 MB down in 2 rounds of 10 requests, 2 CPU-s at 0.5 vCPU, 100 MB up in 12 parts
    # (create, complete, 2 rounds of 10)
    assert model.stage("join").wall_seconds == pytest.approx(start + 0.2 + (0.4 + 1.0) + 4.0 + (0.8 + 1.0))
    assert model.stage("upload").wall_seconds == pytest.approx(start + 0.2 + 1.0)
    serial = 2.3 + 5.5 + 8.5 + 2.3
    assert model.wall_seconds == pytest.approx(serial + model.map_wall_seconds)


def test_the_audio_bounds_the_parallel_part_when_it_is_slower_than_the_map() -> None:
    slow_audio = Measured(**{**MEASURED.__dict__, "audio_cpu_seconds": 10.0})
    model = estimate(slow_audio, 200, 10, DEPLOYMENT, PUBLISHED)
    assert model.audio_wall_seconds > model.map_wall_seconds
    serial = sum(model.stage(name).wall_seconds for name in ("download", "plan", "join", "upload"))
    assert model.wall_seconds == pytest.approx(serial + model.audio_wall_seconds)


def test_cost_of_the_200_s_task() -> None:
    model = estimate(MEASURED, 200, 10, DEPLOYMENT, PUBLISHED)
    # billed seconds: each stage's work plus its cold start; chunks: 10 x the mean chunk (2.8 s and 4.0 s) + 4 colds
    gb_seconds = (2.2 * 500 + 5.4 * 500 + (10 * 3.4 + 4) * 2000 + 9.42 * 500 + 8.4 * 500 + 2.2 * 500) / 1024
    transitions = 10 + 2 * 10
    puts = 0 + 1 + (10 + 3) + 1 + (12 + 2) + 1
    gets = 1 + 1 + (25 + 1) + 1 + 12 + 0  # chunks: 2.5 GETs each on average
    costs = model.costs(PUBLISHED, "x86_64")
    assert model.transitions == transitions
    assert costs["lambda_duration"] == pytest.approx(gb_seconds * 0.0000166667)
    assert costs["lambda_requests"] == pytest.approx(15 * 0.20 / 1e6)
    assert costs["step_functions_transitions"] == pytest.approx(transitions * 0.025 / 1000)
    assert costs["s3_requests"] == pytest.approx(puts * 0.005 / 1000 + gets * 0.0004 / 1000)
    assert costs["total"] == pytest.approx(sum(v for k, v in costs.items() if k != "total"))
    assert model.cost_per_output_minute(PUBLISHED, "x86_64") == pytest.approx(costs["total"] / (200 / 60))
    arm = model.costs(PUBLISHED, "arm64")["lambda_duration"]
    assert arm == pytest.approx(gb_seconds * 0.0000133334)


def test_a_first_wave_wider_than_lambda_scales_at_once_waits_for_the_next_ten_seconds() -> None:
    wide = Deployment(
        "x86_64",
        chunk_memory_mb=2000,
        map_max_concurrency=2000,
        step_memory_mb=500,
        join_memory_mb=500,
        join_fetch_threads=10,
    )
    one_burst = estimate(MEASURED, 200, 1000, wide, PUBLISHED)
    two_bursts = estimate(MEASURED, 200, 1001, wide, PUBLISHED)
    assert one_burst.waves == two_bursts.waves == 1
    assert two_bursts.map_wall_seconds - one_burst.map_wall_seconds == pytest.approx(10.0)


def test_measured_chunks_need_one_time_read_count_and_size_each() -> None:
    with pytest.raises(ValueError, match="one CPU time"):
        Measured(**{**MEASURED.__dict__, "chunk_bytes": [1]})
    with pytest.raises(ValueError, match="at least one"):
        Measured(
            **{
                **MEASURED.__dict__,
                "chunk_cpu_seconds": [],
                "chunk_read_bytes": [],
                "chunk_requests": [],
                "chunk_bytes": [],
            }
        )


def test_a_longer_source_like_the_sample_keeps_its_frame_rate_and_keyframes_and_the_plan_cuts_it_so() -> None:
    time_base = Fraction(1, 15360)
    pts = [round(Fraction(i, 30) / time_base) for i in range(600)]  # 20 s at 30 fps, a keyframe every 2 s
    sample = SourceFrames(time_base, Fraction(0), pts, pts[::60], round(Fraction(600, 30) / time_base))
    hour = frames_like(sample, 3600)
    assert len(hour.frame_pts) == 108_000
    assert float(hour.duration) == pytest.approx(3600)
    assert [float(hour.seconds(k)) for k in hour.keyframe_pts[:3]] == pytest.approx([0, 2, 4])
    assert len(plan_chunks(hour, 10)) == 360
