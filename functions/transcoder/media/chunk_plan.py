"""Cut a source into chunks that encode independently and join back frame-exact.

Pure arithmetic on the source's frame index (no ffmpeg here), so every rule is unit-tested.

How a chunk is read (measured on these machines, see notes.md "Chunking that stays correct"):
- **snap**: the chunk starts at a source keyframe; ffmpeg is told `-ss <keyframe + ¼ frame>
  -noaccurate_seek`, so the demuxer lands on that keyframe and nothing before it is decoded. Exact on
  closed and open GOPs (the previous chunk keeps the open GOP's leading frames, which precede the
  keyframe in presentation order).
- **accurate**: inside a GOP longer than the chunk length, the chunk may start at any frame with
  `-ss <frame - ½ frame>` (an accurate seek): ffmpeg decodes from the previous keyframe and drops what
  precedes the frame. That decode is extra work, so it is used only while the distance back to the
  keyframe stays under `max_lead_seconds`; past it, the chunk follows the keyframes and grows.

Every chunk encodes exactly `frames` output frames (`-frames:v`):
- the source's frame rate kept: the source frames whose presentation time is in [start, end). Counted
  on the probed timestamps themselves, so a variable-frame-rate source is exact too: every source frame
  is encoded once, at its own time, as ffmpeg's single pass does for MP4, FLV and HLS;
- a frame-rate change (`fps=R` filter): ffmpeg's fps filter emits output frame k (time k/R) from the
  source frame whose time, rounded to the nearest 1/R, is the latest ≤ k; a chunk starting at source time
  s therefore owns the output frames from round(s·R) to round(end·R) - 1, and the counts add up to
  the single pass's round(duration·R), provided each chunk's filter sees the source's own timeline
  (`-copyts -start_at_zero`, see chunk_encode).
"""

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_CHUNK_SECONDS = 10.0
"""Measured with `make bench BENCH_ARGS="--only chunked"` (README, "Measured figures")."""
MIN_CHUNK_FRACTION = Fraction(1, 2)
"""A chunk (tail included) is never shorter than this share of the target length, unless the source is."""
DEFAULT_LEAD_FRACTION = Fraction(1, 4)
"""Accurate cuts may decode at most this share of the chunk length before their first frame: decoding
costs about a quarter of a 720p encode per second, so this bounds the extra CPU near 5 %."""


@dataclass(frozen=True)
class SourceFrames:
    """The source's video frames as probed: presentation timestamps in `time_base` ticks.

    `frame_pts` is sorted (presentation order) and `keyframe_pts` is a subset of it. Times are measured
    from `origin`, the container's start time, as ffmpeg does when it reads the file.
    """

    time_base: Fraction
    origin: Fraction
    frame_pts: Sequence[int]
    keyframe_pts: Sequence[int]
    end_pts: int
    """Where the last frame ends (its timestamp plus its duration)."""

    def __post_init__(self) -> None:
        if not self.frame_pts:
            raise ValueError("a source without video frames cannot be chunked")
        if self.end_pts <= self.frame_pts[-1]:
            raise ValueError("the video must end after its last frame starts")

    def seconds(self, pts: int) -> Fraction:
        return pts * self.time_base - self.origin

    def ticks(self, seconds: Fraction) -> Fraction:
        return (seconds + self.origin) / self.time_base

    @property
    def start(self) -> Fraction:
        return self.seconds(self.frame_pts[0])

    @property
    def end(self) -> Fraction:
        return self.seconds(self.end_pts)

    @property
    def duration(self) -> Fraction:
        return self.end - self.start


@dataclass(frozen=True)
class Chunk:
    index: int
    start: Fraction
    """Source time (seconds from the container's start) of the chunk's first source frame."""
    end: Fraction
    """Source time where the next chunk starts (the video's end for the last chunk)."""
    seek: Fraction | None
    """The `-ss` value: None for the first chunk, which reads from the beginning."""
    accurate: bool
    """True: an accurate seek inside a GOP; False: a snap to a keyframe (`-noaccurate_seek`)."""
    frames: int
    """Output frames this chunk encodes (`-frames:v`)."""
    first_frame_time: Fraction
    """Timestamp of the chunk's first output frame on the source's timeline: the source frame's time, or
    its output grid point after a frame-rate change. The encoder sees this time (force_key_frames)."""
    output_start: Fraction
    """Where the chunk's first frame sits in the joined output (0 for the first chunk)."""
    output_duration: Fraction
    """How long the chunk lasts in the joined output (the concat list's `duration`)."""

    @property
    def time_range(self) -> str:
        return f"{float(self.start):.3f}-{float(self.end):.3f} s"


def plan_chunks(
    source: SourceFrames,
    chunk_seconds: float,
    *,
    output_rate: Fraction | None = None,
    max_lead_seconds: float | None = None,
) -> list[Chunk]:
    """Chunks of about `chunk_seconds` covering the whole video without gap or overlap.

    Boundaries aim at multiples of `chunk_seconds` from the video's start and take the keyframe
    nearest to each aim, so a source with keyframes on that grid (or an HLS template whose segment
    length divides `chunk_seconds`) is cut exactly on it. `output_rate`: the template's frame rate when
    it changes the source's. `max_lead_seconds`: decode allowed before an accurate cut (default a
    quarter of `chunk_seconds`; 0 never cuts between keyframes).
    """
    if not chunk_seconds > 0:
        raise ValueError("chunk_seconds must be positive")
    length = Fraction(chunk_seconds) / source.time_base
    lead_seconds = Fraction(chunk_seconds) * DEFAULT_LEAD_FRACTION if max_lead_seconds is None else max_lead_seconds
    max_lead = Fraction(lead_seconds) / source.time_base
    cuts = _cuts(source, length, max_lead)
    return _chunks(source, cuts, output_rate)


def _cuts(source: SourceFrames, length: Fraction, max_lead: Fraction) -> list[tuple[int, bool]]:
    """(pts, accurate) of every chunk's first frame."""
    frames, keyframes = source.frame_pts, source.keyframe_pts
    shortest = length * MIN_CHUNK_FRACTION
    cuts = [(frames[0], False)]
    aim_index = 1
    while True:
        start = cuts[-1][0]
        if source.end_pts - start < length + shortest:
            return cuts  # the rest is one chunk: splitting it would leave a tail shorter than `shortest`
        while frames[0] + aim_index * length <= start + shortest:
            aim_index += 1
        aim = frames[0] + aim_index * length
        # Keyframes between the shortest chunk and half a chunk past the aim: the nearest to the aim wins.
        lowest, highest = start + shortest, aim + shortest
        window = keyframes[bisect.bisect_right(keyframes, lowest) : bisect.bisect_left(keyframes, highest)]
        cut: tuple[int, bool] | None = None
        if window:
            cut = (min(window, key=lambda pts: (abs(pts - aim), pts)), False)
        else:
            cut = _accurate_cut(frames, keyframes, aim, lowest, max_lead)
            if cut is None:
                following = bisect.bisect_left(keyframes, highest)
                if following == len(keyframes):
                    return cuts  # no keyframe left: the rest is one chunk
                cut = (keyframes[following], False)
        if source.end_pts - cut[0] < shortest:
            return cuts
        cuts.append(cut)


def _accurate_cut(
    frames: Sequence[int], keyframes: Sequence[int], aim: Fraction, lowest: Fraction, max_lead: Fraction
) -> tuple[int, bool] | None:
    """The frame nearest `aim` after `lowest`, when decoding up to it from its keyframe stays within `max_lead`."""
    position = bisect.bisect_left(frames, aim)
    candidates = [frames[i] for i in (position - 1, position) if 0 <= i < len(frames) and frames[i] > lowest]
    if not candidates:
        return None
    frame = min(candidates, key=lambda pts: (abs(pts - aim), pts))
    previous_keyframe = keyframes[bisect.bisect_right(keyframes, frame) - 1] if keyframes[0] <= frame else frames[0]
    if previous_keyframe == frame:
        return (frame, False)
    return (frame, True) if frame - previous_keyframe <= max_lead else None


def _chunks(source: SourceFrames, cuts: list[tuple[int, bool]], output_rate: Fraction | None) -> list[Chunk]:
    frames = source.frame_pts
    chunks = []
    for index, (pts, accurate) in enumerate(cuts):
        next_pts = cuts[index + 1][0] if index + 1 < len(cuts) else source.end_pts
        start, end = source.seconds(pts), source.seconds(next_pts)
        if output_rate is None:
            count = bisect.bisect_left(frames, next_pts) - bisect.bisect_left(frames, pts)
            first_frame_time, output_start, output_duration = start, start - source.start, end - start
        else:
            first, after = _grid(start, output_rate), _grid(end, output_rate)
            count = after - first
            first_frame_time = Fraction(first) / output_rate
            output_start = first_frame_time - Fraction(_grid(source.start, output_rate)) / output_rate
            output_duration = Fraction(count) / output_rate
        chunks.append(
            Chunk(
                index=index,
                start=start,
                end=end,
                seek=None if index == 0 else _seek(source, pts, accurate),
                accurate=accurate,
                frames=count,
                first_frame_time=first_frame_time,
                output_start=output_start,
                output_duration=output_duration,
            )
        )
    return chunks


def _grid(seconds: Fraction, rate: Fraction) -> int:
    """The output frame the fps filter gives to a source frame at `seconds`: round half up, as ffmpeg's."""
    return math.floor(seconds * rate + Fraction(1, 2))


def _seek(source: SourceFrames, pts: int, accurate: bool) -> Fraction:
    frames = source.frame_pts
    position = bisect.bisect_left(frames, pts)
    if accurate:
        # Half a frame before it: the accurate seek keeps this frame and drops the one before.
        return source.seconds(pts) - (pts - frames[position - 1]) * source.time_base / 2
    following = frames[position + 1] if position + 1 < len(frames) else source.end_pts
    # A quarter frame after the keyframe: the demuxer seeks back to the keyframe itself, never before it.
    return source.seconds(pts) + (following - pts) * source.time_base / 4


def expected_frames(source: SourceFrames, output_rate: Fraction | None = None) -> int:
    """The frames a single pass encodes: every source frame, or round(end·R) - round(start·R) at rate R."""
    if output_rate is None:
        return len(source.frame_pts)
    return _grid(source.end, output_rate) - _grid(source.start, output_rate)
