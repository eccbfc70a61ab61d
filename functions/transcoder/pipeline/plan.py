"""Plan: choose how the task runs (one Lambda, or chunks on a Distributed Map) and record it on the task.

For chunks, the source's frame index is read once (packet headers through a presigned URL, nothing is
decoded), the cuts are planned frame-exact (media/chunk_plan.py), and the chunk items are written to
the work bucket, where the map's ItemReader reads them: a plan of thousands of chunks stays out of
the state machine's 256 KiB payload.
"""

import json
from typing import Any

from transcoder import charges, costs, repository, storage
from transcoder.errors import CostOverCap
from transcoder.media.chunk_plan import Chunk
from transcoder.media.chunk_run import chunk_length, plan_for
from transcoder.media.encode_plan import EncodePlan
from transcoder.media.info import MediaInfo
from transcoder.media.keyframes import INDEX_TIMEOUT_SECONDS, KeyframeIndex, probe_keyframes
from transcoder.pipeline.chunking import item_of, items_location
from transcoder.pipeline.common import (
    READ_URL_SECONDS,
    abandon,
    input_urls,
    planned_encode,
)
from transcoder.pipeline.handoff import stage_payload
from transcoder.pipeline.payloads import ObjectRef, PlanResult, Runner, TranscodeEvent, parse
from transcoder.pipeline.runner import choose_runner, estimated_output_bytes
from transcoder.pricing import prices
from transcoder.settings import settings
from transcoder.status import Status

INDEX_MARGIN_SECONDS = 20.0
"""Time kept after the frame index is read: writing the items and recording the plan."""


def plan(event: dict[str, Any], remaining_seconds: float) -> PlanResult:
    """How the task runs (runner.choose_runner): one Lambda, chunks, or the Fargate worker."""
    payload = parse(TranscodeEvent, event)
    task_id = payload["task_id"]
    # Refused templates and outputs fail here, before anything is encoded.
    media, encode_plan = planned_encode(payload)
    config = settings()
    output_bytes = estimated_output_bytes(encode_plan, media)
    index, chunks = None, []
    if (
        media.duration > config.chunk_min_input_seconds
        and output_bytes <= config.lambda_max_output_bytes
        and chunkable(encode_plan)
    ):
        source_url, _ = input_urls(payload, READ_URL_SECONDS)
        timeout = max(1.0, min(INDEX_TIMEOUT_SECONDS, remaining_seconds - INDEX_MARGIN_SECONDS))
        index = probe_keyframes(source_url, timeout_seconds=timeout)
        chunks = plan_for(encode_plan, index, config.chunk_seconds)
    runner = choose_runner(
        duration_seconds=media.duration,
        output_bytes=output_bytes,
        chunks=len(chunks),
        chunk_min_input_seconds=config.chunk_min_input_seconds,
        lambda_max_output_bytes=config.lambda_max_output_bytes,
    )
    _check_cost(task_id, runner, encode_plan, media, len(chunks), output_bytes)
    result = PlanResult(runner=runner)
    if runner == "chunks" and index is not None:
        result = _chunked(task_id, encode_plan, index, chunks, chunk_length(encode_plan, config.chunk_seconds))
    elif runner == "fargate":
        # The worker reads what Transcode would: from S3, as ECS passes at most 8 KiB of overrides.
        stage_payload(task_id, "transcode", event)
    shown = {key: result[key] for key in ("runner", "chunks", "chunk_seconds") if key in result}
    if not repository.move(task_id, Status.DOWNLOADING, plan=shown):
        abandon(task_id, "planning")
    return result


def _check_cost(
    task_id: str, runner: Runner, encode_plan: EncodePlan, media: MediaInfo, chunks: int, output_bytes: int
) -> None:
    """Record the task's estimated cost, and refuse it (2006) when that is over its cap, before any encode.

    The runner's transitions and S3 requests are charged to `cost` here, as estimated: they are counted, not
    measured (transcoder.costs).
    """
    estimate = costs.estimate(
        runner=runner,
        plan=encode_plan,
        media=media,
        chunks=chunks,
        output_bytes=output_bytes,
        sizes=costs.Sizes.from_env(),
        prices=prices(),
    )
    task = repository.get(task_id)
    if task is None or not repository.record_estimate(task_id, round(estimate.total, 8)):
        abandon(task_id, "planning")
    try:
        costs.check_cap(estimate.total, float(task.max_cost or 0))
    except CostOverCap:
        charges.charge(task_id, costs.refused_cost(prices()))
        raise
    charges.charge(task_id, estimate.requests_dollars)


def chunkable(encode_plan: EncodePlan) -> bool:
    """Whether the plan has a chunked form: every plan that encodes video, the HLS ladder included."""
    return bool(encode_plan.video_args or encode_plan.variant_names)


def _chunked(
    task_id: str, encode_plan: EncodePlan, index: KeyframeIndex, chunks: list[Chunk], chunk_seconds: float
) -> PlanResult:
    items = items_location(task_id)
    storage.put_bytes(json.dumps([item_of(chunk) for chunk in chunks]).encode(), items)
    return PlanResult(
        runner="chunks",
        chunks=len(chunks),
        chunk_seconds=chunk_seconds,
        items=ObjectRef(bucket=items.bucket, key=items.key),
        audio=encode_plan.has_audio,
        video_start=str(index.frames.start),
        audio_start=str(index.audio_start or 0),
    )
