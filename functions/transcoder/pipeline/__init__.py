"""The pipeline's steps, one module per state of the state machine: Download → Plan → either Transcode (one
Lambda) or [EncodeChunk on a Distributed Map, beside EncodeAudio] → Join; then Upload; and RecordFailure (the
Catch target of every state).

Each step first moves the task's status with a conditional write; if that write is refused (the task was
cancelled or already ended), the step stops with StatusConflict. Steps pass what they learn to the next one
through the state machine's payload.

The steps are handed on here under their states' names (the handlers and tests call `pipeline.download`);
their code is in the module of the same name.
"""

from transcoder.pipeline.audio import encode_audio
from transcoder.pipeline.chunk import encode_chunk
from transcoder.pipeline.common import content_type, work_prefix
from transcoder.pipeline.download import download
from transcoder.pipeline.failure import record_failure
from transcoder.pipeline.join import join
from transcoder.pipeline.plan import plan
from transcoder.pipeline.transcode import check_complete, transcode
from transcoder.pipeline.upload import upload

__all__ = [
    "check_complete",
    "content_type",
    "download",
    "encode_audio",
    "encode_chunk",
    "join",
    "plan",
    "record_failure",
    "transcode",
    "upload",
    "work_prefix",
]
