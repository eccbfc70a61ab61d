"""The pipeline steps the worker can run: the same functions the Lambda handlers call."""

from collections.abc import Callable, Mapping
from typing import Any, Final

from transcoder import pipeline

Step = Callable[[dict[str, Any], float], Mapping[str, Any]]
"""A step: (its payload, the seconds it may take) → its result, the JSON the state machine stores."""


def _transcode(event: dict[str, Any], budget_seconds: float) -> Mapping[str, Any]:
    return pipeline.transcode(event, remaining_seconds=budget_seconds, step="TranscodeOnFargate")


STEPS: Final[dict[str, Step]] = {"transcode": _transcode}
"""By the name the ECS state passes in WORKER_STEP; the result goes where that step's Lambda result goes."""
