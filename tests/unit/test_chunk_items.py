"""A chunk travels as a JSON item from Plan to its encoder and to Join: it must come back the very same Chunk."""

import json
from fractions import Fraction

import pytest

from transcoder.media.chunk_plan import Chunk, SourceFrames, plan_chunks
from transcoder.pipeline.chunking import chunk_of, describe, item_of
from transcoder.pipeline.payloads import ChunkItem, parse


def _ntsc(seconds: int, *, gop_seconds: int, start: Fraction) -> SourceFrames:
    """29.97 fps in a 1/90000 time base, its first frame at `start`: hardly any time is a round number."""
    step = 3003
    count = seconds * 30000 // 1001
    first = int(start * 90000)
    frames = [first + i * step for i in range(count)]
    keyframes = frames[:: gop_seconds * 30000 // 1001]
    return SourceFrames(
        time_base=Fraction(1, 90000),
        origin=Fraction(0),
        frame_pts=frames,
        keyframe_pts=keyframes,
        end_pts=first + count * step,
    )


def _planned(output_rate: Fraction | None) -> list[Chunk]:
    # Keyframes every 8 s, chunks of 3 s: the cuts between keyframes are accurate seeks.
    source = _ntsc(40, gop_seconds=8, start=Fraction(7, 90))
    chunks = plan_chunks(source, 3, output_rate=output_rate, max_lead_seconds=8)
    assert len(chunks) > 3
    assert any(chunk.accurate for chunk in chunks) and any(chunk.seek is not None for chunk in chunks)
    return chunks


@pytest.mark.parametrize("output_rate", [None, Fraction(25)], ids=["source-rate", "frame-rate-change"])
def test_a_chunk_comes_back_exactly_through_its_json_item(output_rate: Fraction | None) -> None:
    for chunk in _planned(output_rate):
        text = json.dumps(item_of(chunk))
        back = chunk_of(parse(ChunkItem, json.loads(text)))
        assert back == chunk
        # Exact fractions both ways, never a float rounded somewhere on the way.
        assert all(isinstance(value, Fraction) for value in (back.start, back.end, back.first_frame_time))
        assert all(isinstance(value, Fraction) for value in (back.output_start, back.output_duration))


def test_times_are_written_as_fractions_and_the_first_chunk_has_no_seek() -> None:
    first, second, *_ = _planned(None)
    assert item_of(first)["seek"] is None
    item = item_of(second)
    assert item["seek"] is not None
    assert Fraction(item["seek"]) == second.seek
    assert "/" in item["end"], "a time that is not a whole number is written as numerator/denominator"
    assert "." not in json.dumps(item), "no time is written as a decimal"


def test_describe_names_the_chunk_from_one_and_its_source_range() -> None:
    item = ChunkItem(
        index=0,
        start="0",
        end="1001/100",
        seek=None,
        accurate=False,
        frames=300,
        first_frame_time="0",
        output_start="0",
        output_duration="1001/100",
    )
    assert describe(item) == "chunk 1 (source 0.000-10.010 s)"
    later = ChunkItem(**{**item, "index": 11, "start": "1001/10", "end": "2201/20", "seek": "4004/40"})
    assert describe(later) == "chunk 12 (source 100.100-110.050 s)"
