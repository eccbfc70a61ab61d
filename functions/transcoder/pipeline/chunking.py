"""What the chunked path's steps share: the chunk items the map reads, and where chunks are kept.

A chunk travels as a ChunkItem (JSON, times as exact fractions "n/d") from Plan, through the
Distributed Map's ItemReader, to its encoder and to Join, which rebuild the very same Chunk.
"""

from fractions import Fraction

from transcoder.locations import S3Location
from transcoder.media.chunk_plan import Chunk
from transcoder.pipeline.common import work_prefix
from transcoder.pipeline.payloads import ChunkItem
from transcoder.settings import settings


def item_of(chunk: Chunk) -> ChunkItem:
    return ChunkItem(
        index=chunk.index,
        start=str(chunk.start),
        end=str(chunk.end),
        seek=None if chunk.seek is None else str(chunk.seek),
        accurate=chunk.accurate,
        frames=chunk.frames,
        first_frame_time=str(chunk.first_frame_time),
        output_start=str(chunk.output_start),
        output_duration=str(chunk.output_duration),
    )


def chunk_of(item: ChunkItem) -> Chunk:
    seek = item["seek"]
    return Chunk(
        index=item["index"],
        start=Fraction(item["start"]),
        end=Fraction(item["end"]),
        seek=None if seek is None else Fraction(seek),
        accurate=item["accurate"],
        frames=item["frames"],
        first_frame_time=Fraction(item["first_frame_time"]),
        output_start=Fraction(item["output_start"]),
        output_duration=Fraction(item["output_duration"]),
    )


def describe(item: ChunkItem) -> str:
    """How a chunk is named to a user: its number and the part of the source it covers."""
    return f"chunk {item['index'] + 1} (source {chunk_of(item).time_range})"


def chunks_prefix(task_id: str) -> str:
    return work_prefix(task_id) + "chunks/"


def items_location(task_id: str) -> S3Location:
    return S3Location(settings().work_bucket, work_prefix(task_id) + "plan/chunks.json")


def chunk_location(task_id: str, name: str) -> S3Location:
    return S3Location(settings().work_bucket, chunks_prefix(task_id) + name)


AUDIO_NAME = "audio.m4a"
