"""The chunk plan: cuts at keyframes (or accurate cuts in long GOPs), exact frame counts, no gap or overlap."""

import bisect
import itertools
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcoder.media.chunk_plan import Chunk, SourceFrames, expected_frames, plan_chunks

TB = Fraction(1, 15360)


def cfr(seconds: float, fps: int = 30, gop: int = 60, *, origin: Fraction = Fraction(0)) -> SourceFrames:
    """A constant-rate source with a keyframe every `gop` frames, timestamps as an MP4 muxer writes them."""
    count = round(seconds * fps)
    pts = [round(Fraction(i, fps) / TB) for i in range(count)]
    return SourceFrames(TB, origin, pts, pts[::gop], round(Fraction(count, fps) / TB))


def starts(chunks: list[Chunk]) -> list[float]:
    return [float(chunk.start) for chunk in chunks]


def test_keyframes_on_the_chunk_grid_are_cut_exactly_on_it_and_the_tail_joins_the_last_chunk() -> None:
    chunks = plan_chunks(cfr(20), 6)
    assert starts(chunks) == [0, 6, 12]
    assert [float(c.end) for c in chunks] == [6, 12, 20]
    assert [c.frames for c in chunks] == [180, 180, 240]
    assert [c.accurate for c in chunks] == [False, False, False]


def test_a_tail_shorter_than_half_a_chunk_is_not_a_chunk_of_its_own() -> None:
    assert starts(plan_chunks(cfr(31, gop=30), 10)) == [0, 10, 20]
    assert starts(plan_chunks(cfr(36, gop=30), 10)) == [0, 10, 20, 30]


def test_a_source_shorter_than_one_and_a_half_chunks_is_one_chunk() -> None:
    [chunk] = plan_chunks(cfr(14), 10)
    assert (chunk.start, chunk.end, chunk.frames, chunk.seek) == (0, 14, 420, None)


def test_boundaries_take_the_keyframe_nearest_to_each_multiple_of_the_chunk_length() -> None:
    # Keyframes every 1.5 s: 4.5 is nearer to 4 than 3 is; 7.5 nearest to 8; 12 on 12.
    assert starts(plan_chunks(cfr(20, gop=45), 4)) == [0, 4.5, 7.5, 12, 16.5]


def test_snap_seeks_a_quarter_frame_past_the_keyframe_and_never_to_a_frame_before_it() -> None:
    chunks = plan_chunks(cfr(20), 6)
    assert chunks[0].seek is None
    assert chunks[1].seek == 6 + Fraction(1, 120)
    assert chunks[2].seek == 12 + Fraction(1, 120)


def test_a_gop_longer_than_the_chunk_is_followed_when_an_accurate_cut_would_decode_too_much() -> None:
    source = cfr(180, gop=60 * 30)  # a keyframe every 60 s
    chunks = plan_chunks(source, 10)
    assert starts(chunks) == [0, 60, 120]
    assert not any(c.accurate for c in chunks)
    assert sum(c.frames for c in chunks) == 5400


def test_an_accurate_cut_inside_a_long_gop_seeks_half_a_frame_before_its_frame() -> None:
    source = cfr(40, gop=20 * 30)  # keyframes at 0 and 20
    chunks = plan_chunks(source, 10, max_lead_seconds=10)
    assert starts(chunks) == [0, 10, 20, 30]
    assert [c.accurate for c in chunks] == [False, True, False, True]
    assert chunks[1].seek == 10 - Fraction(1, 60)
    assert chunks[2].seek == 20 + Fraction(1, 120)
    assert [c.frames for c in chunks] == [300] * 4


def test_the_default_lead_allows_accurate_cuts_close_after_a_keyframe_only() -> None:
    # Keyframes at 0, 9, 18, 27: the aims 10 and 20 are 1 and 2 s past one (≤ 2.5 s, a quarter of 10).
    source = cfr(30, gop=9 * 30)
    chunks = plan_chunks(source, 10)
    assert [(float(c.start), c.accurate) for c in chunks] == [(0, False), (9, False), (18, False)]
    source = cfr(30, gop=int(9.5 * 30))  # keyframes at 0, 9.5, 19, 28.5
    assert starts(plan_chunks(source, 10)) == [0, 9.5, 19]


def test_a_frame_rate_change_counts_the_output_frames_the_fps_filter_gives_each_chunk() -> None:
    # 30 fps → 24 fps, keyframes every 1.5 s: chunk k owns output frames round(start·24) … round(end·24) - 1.
    chunks = plan_chunks(cfr(20, gop=45), 4, output_rate=Fraction(24))
    assert [c.frames for c in chunks] == [108, 72, 108, 108, 84]
    assert sum(c.frames for c in chunks) == 480 == expected_frames(cfr(20, gop=45), Fraction(24))
    assert [c.first_frame_time for c in chunks] == [0, Fraction(108, 24), Fraction(180, 24), 12, Fraction(396, 24)]
    assert [c.output_duration for c in chunks] == [Fraction(c.frames, 24) for c in chunks]


def test_half_way_frames_round_up_as_ffmpeg_rounds_them() -> None:
    # 30 → 25 fps: a keyframe at 1.3 s (frame 39) sits at 32.5 output frames, which ffmpeg rounds to 33.
    chunks = plan_chunks(cfr(4, gop=39), 1.3, output_rate=Fraction(25), max_lead_seconds=0)
    assert chunks[1].start == Fraction(13, 10)
    assert chunks[0].frames == 33


def test_a_variable_frame_rate_source_counts_its_own_frames() -> None:
    # 10 s at 30 fps, then 10 s at 10 fps; a keyframe every 60 frames.
    pts = [round(Fraction(i, 30) / TB) for i in range(300)] + [round((10 + Fraction(i, 10)) / TB) for i in range(100)]
    source = SourceFrames(TB, Fraction(0), pts, pts[::60], round(20 / TB))
    chunks = plan_chunks(source, 4)
    assert sum(c.frames for c in chunks) == 400
    for chunk in chunks:
        inside = [p for p in pts if chunk.start <= p * TB < chunk.end]
        assert chunk.frames == len(inside)


def test_times_are_measured_from_the_container_start() -> None:
    source = cfr(20, origin=Fraction(7, 5))  # an MPEG-TS-like start time of 1.4 s
    chunks = plan_chunks(source, 6)
    assert chunks[0].start == Fraction(-7, 5)
    assert chunks[-1].end == 20 - Fraction(7, 5)
    assert chunks[0].output_start == 0


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_a_chunk_length_must_be_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="chunk_seconds"):
        plan_chunks(cfr(5), seconds)


def test_a_source_without_frames_or_ending_before_its_last_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="without video frames"):
        SourceFrames(TB, Fraction(0), [], [], 1)
    with pytest.raises(ValueError, match="end after"):
        SourceFrames(TB, Fraction(0), [0, 512], [0], 512)


# Properties over any source: regular or irregular frame spacing, any keyframe pattern, any rate change.


@st.composite
def sources(draw: st.DrawFn) -> SourceFrames:
    time_base = draw(st.sampled_from([Fraction(1, 15360), Fraction(1, 90000), Fraction(1, 1000), Fraction(1, 30)]))
    ticks_per_second = 1 / time_base
    count = draw(st.integers(1, 1500))
    if draw(st.booleans()):
        fps = draw(st.sampled_from([Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(60)]))
        pts = sorted({math.floor(Fraction(i) / fps * ticks_per_second) for i in range(count)})
    else:
        gaps = draw(st.lists(st.integers(1, int(ticks_per_second)), min_size=count, max_size=count))
        pts = [sum(gaps[:i]) for i in range(count)] if count < 300 else list(_running(gaps))
    first = draw(st.integers(0, int(ticks_per_second) * 2))
    pts = [first + p for p in pts]
    every = draw(st.integers(1, max(1, len(pts))))
    keyframes = sorted({pts[0], *pts[::every], *draw(st.lists(st.sampled_from(pts), max_size=5))})
    tail = draw(st.integers(1, int(ticks_per_second)))
    origin = draw(st.sampled_from([Fraction(0), first * time_base, Fraction(7, 5)]))
    return SourceFrames(time_base, origin, pts, keyframes, pts[-1] + tail)


def _running(gaps: list[int]) -> list[int]:
    total, out = 0, []
    for gap in gaps:
        out.append(total)
        total += gap
    return out


@given(
    source=sources(),
    chunk_seconds=st.sampled_from([0.5, 1.0, 2.0, 4.0, 6.0, 10.0, 30.0]),
    lead=st.sampled_from([None, 0.0, 1.0, 100.0]),
    rate=st.sampled_from([None, Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(50)]),
)
@settings(max_examples=300, deadline=None)
def test_chunks_cover_the_video_without_gap_or_overlap_and_count_every_frame(
    source: SourceFrames, chunk_seconds: float, lead: float | None, rate: Fraction | None
) -> None:
    chunks = plan_chunks(source, chunk_seconds, output_rate=rate, max_lead_seconds=lead)
    assert chunks[0].start == source.start and chunks[-1].end == source.end
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for before, after in itertools.pairwise(chunks):
        assert before.end == after.start
        assert before.output_start + before.output_duration == after.output_start
    assert chunks[0].output_start == 0
    assert sum(c.frames for c in chunks) == expected_frames(source, rate)
    assert all(c.frames >= 0 for c in chunks)
    if len(chunks) > 1:
        # No chunk shorter than half the target (the last one included).
        assert all(c.end - c.start >= Fraction(chunk_seconds) / 2 for c in chunks)
    allowed_lead = Fraction(chunk_seconds) / 4 if lead is None else Fraction(lead)
    frame_times = [source.seconds(p) for p in source.frame_pts]
    keyframe_times = [source.seconds(p) for p in source.keyframe_pts]
    for chunk in chunks[1:]:
        assert chunk.start in frame_times
        assert chunk.seek is not None
        position = frame_times.index(chunk.start)
        if chunk.accurate:
            # Half a frame before its frame, and decoding from its keyframe stays within the lead.
            assert frame_times[position - 1] < chunk.seek < chunk.start
            keyframe = keyframe_times[bisect.bisect_right(keyframe_times, chunk.start) - 1]
            assert chunk.start - keyframe <= allowed_lead
        else:
            assert chunk.start in keyframe_times
            following = frame_times[position + 1] if position + 1 < len(frame_times) else source.end
            assert chunk.start < chunk.seek < following
    if rate is None:
        for chunk in chunks:
            assert chunk.frames == sum(1 for t in frame_times if chunk.start <= t < chunk.end)
            assert chunk.frames >= 1
    else:
        # Every output frame of a chunk comes from a source frame inside the chunk (the fps filter takes
        # the latest frame whose rounded time is at most the output frame's), so the chunk can make it.
        rounded = [math.floor(t * rate + Fraction(1, 2)) for t in frame_times]
        for chunk in chunks:
            first = math.floor(chunk.first_frame_time * rate + Fraction(1, 2))
            for k in range(first, first + chunk.frames):
                source_frame = frame_times[bisect.bisect_right(rounded, k) - 1]
                assert chunk.start <= source_frame < chunk.end
