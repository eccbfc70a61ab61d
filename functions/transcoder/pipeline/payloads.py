"""The state machine's payload, typed: the execution input, what each step reads and what it returns.

Executions already running carry this JSON, so the types describe it exactly as it is: a key that may be
absent is NotRequired, a key that may be null is `| None`. Each step validates its event at entry (`parse`)
and returns its result as plain JSON of its type. The state machine stores each result under its step's key
(ResultPath `$.source` …): infra/constructs/pipeline.py and the steps both name those keys through the
constants below, and mypy holds the steps' reads to the types' fields.

The CDK app imports this module, so it imports only typing and pydantic (importing it still runs the
package's __init__, which loads the steps' modules: boto3 and pynamodb, no settings read, no AWS call).
"""

from typing import Any, Final, Literal, NotRequired, TypeVar, final

from pydantic import TypeAdapter

# pydantic validates typing_extensions' TypedDict on Python < 3.12, not typing's.
from typing_extensions import TypedDict

SOURCE: Final = "source"
"""Where Download's result goes: the staged input, its probe and the staged logo."""
PLAN: Final = "plan"
"""Where Plan's result goes: how the task runs (one Lambda or chunks) and, for chunks, where their items are."""
TRANSCODED: Final = "transcoded"
"""Where Transcode's result goes: the encoded files in the work bucket and their probe."""
DELIVERED: Final = "delivered"
"""Where Upload's result goes."""
ERROR: Final = "error"
"""Where a Catch puts the error (Step Functions' own {Error, Cause}) for RecordFailure."""
FAILURE: Final = "failure"
"""Where RecordFailure's result goes."""


def result_path(key: str) -> str:
    """The JSONPath a state writes its result to, for the key the next steps read it by."""
    return f"$.{key}"


class ObjectRef(TypedDict):
    bucket: str
    key: str


@final
class UrlInput(TypedDict):
    url: str


@final
class ObjectInput(ObjectRef):
    version_id: NotRequired[str]
    """The version a dropped file's upload created; absent: the version current when Download runs."""
    storage_id: NotRequired[str]
    """The account's storage the input is read through; absent: this deployment's own."""


class Destination(ObjectRef):
    objkey: NotRequired[str]
    """The output's key in its storage; absent in executions started before it was passed (`key` serves)."""
    storage_id: NotRequired[str]


class TaskRef(TypedDict):
    task_id: str
    account_id: NotRequired[str]
    """Absent in executions started before accounts: the default account."""


class ExecutionInput(TaskRef):
    """What tasks.start_pipeline starts an execution with; Download reads it."""

    input: UrlInput | ObjectInput
    destination: Destination
    template: dict[str, Any]
    """Template.to_dict()."""


class StagedInput(ObjectRef):
    version_id: NotRequired[str | None]
    """The version the next steps read; None: the bucket is not versioned."""
    storage_id: NotRequired[str]


class StagedLogo(ObjectRef):
    width: int
    height: int


class SourceResult(TypedDict):
    """Download's result, at `$.source`."""

    staged: StagedInput
    media: dict[str, Any]
    """MediaInfo.to_dict() of the input."""
    logo: NotRequired[StagedLogo]


class EncodedFiles(TypedDict):
    bucket: str
    prefix: str
    files: list[str]


class TranscodedResult(TypedDict):
    """Transcode's result, at `$.transcoded`."""

    encoded: EncodedFiles
    media: dict[str, Any]
    """MediaInfo.to_dict() of the output, its size the sum of its files."""


Runner = Literal["lambda", "chunks", "fargate"]
"""How the video is encoded: one Lambda invocation, chunks each in their own invocation (a Distributed Map), or
the Fargate worker (pipeline/runner.py)."""


class ChunkItem(TypedDict):
    """One chunk of the plan, as the Distributed Map reads it from the items file (chunk_plan.Chunk, exact:
    times are fractions written as "numerator/denominator")."""

    index: int
    start: str
    end: str
    seek: str | None
    accurate: bool
    frames: int
    first_frame_time: str
    output_start: str
    output_duration: str


class PlanResult(TypedDict):
    """Plan's result, at `$.plan`."""

    runner: Runner
    chunks: NotRequired[int]
    chunk_seconds: NotRequired[float]
    items: NotRequired[ObjectRef]
    """The JSON list of ChunkItem the map reads (ItemReader)."""
    audio: NotRequired[bool]
    """Whether the output has audio, encoded once beside the map."""
    video_start: NotRequired[str]
    """Where the source's video starts on its timeline (fraction): the join places the chunks there."""
    audio_start: NotRequired[str]


class EncodeEvent(TaskRef):
    """What every step that runs ffmpeg on the input reads: the template and the staged, probed source."""

    template: dict[str, Any]
    source: SourceResult


class ChunkEvent(EncodeEvent):
    """What one iteration of the map reads: its chunk and what every chunk shares (the map's ItemSelector)."""

    chunk: ChunkItem
    total: int
    """How many chunks the task has: progress is chunks done ÷ total."""


class ChunkResult(TypedDict):
    """A chunk's encoded files (one per ladder variant), in the work bucket under the task's chunks/ folder."""

    index: int
    files: list[str]


class AudioEvent(EncodeEvent):
    pass


class AudioResult(TypedDict):
    audio: ObjectRef


class JoinEvent(EncodeEvent):
    destination: Destination
    plan: PlanResult


class DeliveredResult(TypedDict):
    """Upload's result, at `$.delivered`."""

    status: str
    objkey: str


class StepError(TypedDict, total=False):
    """What a Catch records: the error's name (Lambda's errorType) and its JSON cause."""

    Error: str
    Cause: str | None


class FailureResult(TypedDict):
    """RecordFailure's result, at `$.failure`."""

    task_id: str
    recorded: bool
    err_code: int
    err_message: str


class TranscodeEvent(EncodeEvent):
    """What Transcode (and Plan) read of the payload."""

    destination: Destination


class UploadEvent(TaskRef):
    """What Upload reads of the payload."""

    destination: Destination
    transcoded: TranscodedResult


class FailureEvent(TypedDict):
    """What RecordFailure reads of the payload: any state's, with the Catch's error."""

    task_id: str
    error: NotRequired[StepError | None]
    chunk: NotRequired[ChunkItem]
    """Set when a chunk failed (the map's own Catch): the message names the chunk's time range."""


Payload = TypeVar("Payload")


def parse(kind: type[Payload], event: object) -> Payload:
    """The event as `kind`, validated (pydantic.ValidationError otherwise); keys `kind` does not read are left out."""
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    parsed: Payload = adapter.validate_python(event)
    return parsed


_adapters: dict[object, TypeAdapter[Any]] = {}
