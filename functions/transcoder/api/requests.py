"""Request bodies and how validation errors become the contract's 1001/1002 messages."""

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr

from transcoder.api.envelope import ApiCode, ApiError
from transcoder.cost_cap import checked_max_cost


class CreateTaskRequest(BaseModel):
    # Clients of the service we are compatible with may send fields we do not know yet.
    model_config = ConfigDict(extra="ignore")

    input: StrictStr = Field(min_length=1, max_length=2048, description="s3://bucket/key of the source")
    output: StrictStr = Field(min_length=1, max_length=1024, description="output key, relative to the storage's prefix")
    template_name: StrictStr | None = Field(default=None, max_length=128)
    template_id: StrictStr | None = Field(default=None, max_length=128)
    storage_id: StrictStr = Field(default="default", min_length=1, max_length=128)
    client_token: StrictStr | None = Field(
        default=None, min_length=1, max_length=64, description="the same token returns the same task (24 h)"
    )
    callback_url: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description="https URL the task is POSTed to, signed, when it ends (no credentials, public hosts only)",
    )
    max_cost: Annotated[float, AfterValidator(checked_max_cost)] | None = Field(
        default=None,
        strict=True,
        description="USD (ext): the task ends fail 2006 at Plan, before any encode, if its estimated cost is higher; "
        "absent: the account's default cap, if any",
    )


class CreateTaskData(BaseModel):
    task_id: str


class TaskIdRequest(BaseModel):
    """cancel_task and del_task."""

    model_config = ConfigDict(extra="ignore")

    task_id: StrictStr = Field(min_length=1, max_length=64)


def _field_name(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts)


def validation_error(errors: Sequence[Any]) -> ApiError:
    """The first problem, as 1001 (missing) or 1002 (malformed), naming the field."""
    if not errors:
        return ApiError(ApiCode.BAD_PARAM, "the request is not valid")
    missing = [e for e in errors if e.get("type") == "missing"]
    first = missing[0] if missing else errors[0]
    field = _field_name(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return ApiError(ApiCode.BAD_PARAM, "the request body is not valid JSON")
    reason = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if not field:
        if missing:
            return ApiError(ApiCode.LACK_PARAM, "the request needs a JSON body")
        if first.get("type") in _NOT_AN_OBJECT:
            return ApiError(ApiCode.BAD_PARAM, "the request body must be a JSON object")
        # A rule across fields: its message names them.
        return ApiError(ApiCode.BAD_PARAM, reason)
    if missing:
        return ApiError(ApiCode.LACK_PARAM, field)
    return ApiError(ApiCode.BAD_PARAM, f"{field}: {reason}")


_NOT_AN_OBJECT = {"model_type", "model_attributes_type", "dict_type"}
