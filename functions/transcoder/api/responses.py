"""The models of what the routes answer: each route's `data`, and the envelope of each refusal (api.md).

They document the answers: the routes build their dicts as before (envelope.py) and name their models in
their `responses` (transcoder.api.answers); the OpenAPI document carries these models' schemas. The tests
validate real answers against the document, and `extra="forbid"` makes it exact: a field added to an answer
without its line here fails them. A new field of an answer is one line in its model below.
Only the OpenAPI document imports this module (on the first request for it), never a route.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from transcoder.api.answers import REF_TEMPLATE
from transcoder.api.envelope import ApiCode


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskPlan(_Model):
    """How the task runs (ext), once planned; `{}` before."""

    runner: Literal["lambda", "chunks", "fargate"] | None = None
    chunks: int | None = Field(default=None, description="chunks encoded in parallel (runner chunks)")
    chunk_seconds: float | None = Field(default=None, description="seconds of source per chunk (runner chunks)")


class TaskView(_Model):
    """The task: query_task's `data` (api.md, "The task")."""

    task_id: str
    status: Literal["pending", "downloading", "running", "uploading", "success", "fail", "cancelled"]
    progress: int = Field(ge=0, le=100)
    create_time: int
    finish_time: int = Field(description="0 until terminal")
    input: str
    input_url: str = Field(description="presigned, time-limited download URL of the input; empty when not ours")
    output: str
    objkey: str
    output_url: str = Field(description="presigned, time-limited download URL of the output once success")
    bucket: str
    region: str
    region_type: str
    template_id: str
    template_name: str
    src_bitrate: float = Field(description="kbps")
    dst_bitrate: float = Field(description="kbps")
    duration: float = Field(description="seconds (ext)")
    src_width: int
    src_height: int
    dst_width: int
    dst_height: int
    err_code: int = Field(description="0 on success, else a transcode error code (api.md)")
    err_message: str
    plan: TaskPlan
    max_cost: float = Field(description="USD (ext): the cap the task ran under (its own, or its account's); 0: none")
    estimated_cost: float = Field(description="USD (ext): the Plan's estimate, before any encode; 0 before planning")
    cost: float = Field(description="USD (ext): what the task used so far, from each step's billed duration")


class TaskId(_Model):
    task_id: str


class TaskList(_Model):
    list: list[TaskView]
    total: int
    num: int


class SummaryRow(_Model):
    """One hour of one region, codec and definition."""

    hour: int = Field(description="unix seconds at the start of the hour")
    region: str
    codec: str
    definition: Literal["sd", "hd", "4k", "unknown"] = Field(
        description="of the output's short side; unknown before probing"
    )
    task_count: int
    success_count: int
    fail_count: int
    output_minutes: float
    cost: float = Field(description="USD (ext): the tasks' `cost`, summed")


class SummaryList(_Model):
    list: list[SummaryRow]
    num: int


class TemplateView(_Model):
    """A template, built-in or custom (api.md, "Templates")."""

    template_id: str
    name: str
    resolution: str
    vcodec: Literal["h264", "h265"]
    format: Literal["mp4", "hls", "flv"]
    quality: int
    framerate: float
    acodec: str
    audio_bitrate: int
    video_bitrate: int | None
    description: str
    template_type: Literal["built-in", "custom"]
    gop_seconds: float | None
    hls_seg_time: int | None
    logo_path: str | None
    logo_size: str | None
    logo_offset: str | None
    renditions: list[int] = Field(description="the HLS ladder's short sides (built-in ladders only)")


class TemplateList(_Model):
    list: list[TemplateView]
    num: int


class StorageId(_Model):
    storage_id: str


class StorageView(_Model):
    """A storage; its keys are never returned, only whether it has some."""

    storage_id: str
    type: Literal["s3", "oss", "obs"]
    region: str
    bucket: str
    prefix: str
    endpoint: str
    notify: str
    has_keys: bool
    storage_type: Literal["built-in", "custom"]
    create_time: int


class StorageList(_Model):
    list: list[StorageView]
    num: int


class StorageTypeList(_Model):
    list: list[Literal["s3", "oss", "obs"]]
    num: int


class UploadForm(_Model):
    """create_upload (ext): a presigned S3 POST for one file into the caller's own uploads."""

    url: str = Field(description="where the form is POSTed (multipart/form-data)")
    fields: dict[str, str] = Field(description="every form field to send, as given, before the `file` field")
    input: str = Field(description="`s3://<input bucket>/<key>`: create_task's `input` once the file is there")
    key: str
    content_type: str
    max_bytes: int
    expire_time: int = Field(description="unix seconds after which S3 refuses the form")


class OutputPlaylist(_Model):
    """output_playlist (ext): one playlist of an HLS output, its media URIs presigned."""

    name: str = Field(description="the playlist's file name, relative to the master playlist")
    playlist: str = Field(description="the m3u8 text; variant playlists stay relative: ask this route for them")


class _Refusal(_Model):
    msg: str = Field(description="the code's message, then what was wrong: `bad param: count: ...`")
    data: None
    request_id: str


class BadRequest(_Refusal):
    """1001 lack param (names the field) or 1002 bad param (names the field and why)."""

    code: Literal[1001, 1002]


class AuthFail(_Refusal):
    """1003: missing or invalid signature, unknown or disabled key, stale Date, replayed nonce."""

    code: Literal[1003]


class NotFound(_Refusal):
    """1004: it does not exist, or belongs to another account."""

    code: Literal[1004]


class Conflict(_Refusal):
    """1005 operation fail (not allowed in the current state) or 1006 duplicated entity."""

    code: Literal[1005, 1006]


class Throttled(_Refusal):
    """1007: API Gateway's throttling (the stage's rate and burst limits); retry later."""

    code: Literal[1007]


class InternalError(_Refusal):
    """1000: a fault the service could not absorb; never an answer to bad input."""

    code: Literal[1000]


REFUSALS: dict[ApiCode, type[_Refusal]] = {
    ApiCode.LACK_PARAM: BadRequest,
    ApiCode.BAD_PARAM: BadRequest,
    ApiCode.AUTH_FAIL: AuthFail,
    ApiCode.EMPTY_RESULT: NotFound,
    ApiCode.OPERATION_FAIL: Conflict,
    ApiCode.DUPLICATED_ENTITY: Conflict,
    ApiCode.TOO_MANY_REQUESTS: Throttled,
    ApiCode.INTERNAL_ERROR: InternalError,
}
DATA_MODELS: tuple[type[BaseModel], ...] = (
    TaskId, TaskView, TaskList, SummaryList, TemplateView, TemplateList, StorageId, StorageView, StorageList,
    StorageTypeList, UploadForm, OutputPlaylist,
)  # fmt: skip


def component_schemas() -> dict[str, Any]:
    """The JSON schemas of every answer's model, by name, for the document's `components.schemas`."""
    models = [*DATA_MODELS, *dict.fromkeys(REFUSALS.values())]
    _, schemas = models_json_schema([(model, "serialization") for model in models], ref_template=REF_TEMPLATE)
    return dict(schemas.get("$defs", {}))
