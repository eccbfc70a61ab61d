"""Creating tasks and showing them: the domain calls behind create_task and query_task."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from transcoder import cost_cap, fetch, repository, storages, template_store
from transcoder.auth import accounts
from transcoder.endpoints import RefusedEndpoint
from transcoder.errors import INTERNAL_ERROR_CODE, TaskCancelled
from transcoder.ids import new_task_id
from transcoder.locations import S3Location, output_key, parse_object_url
from transcoder.models import TaskModel
from transcoder.pipeline.payloads import Destination, ExecutionInput, ObjectInput, UrlInput
from transcoder.settings import settings
from transcoder.status import Status, is_terminal
from transcoder.storage import presign
from transcoder.storage_secrets import SecretUnavailable
from transcoder.storages import Storage
from transcoder.templates import ContainerFormat, Template

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

DEFAULT_STORAGE_ID = storages.DEFAULT_STORAGE_ID


class InvalidParameter(Exception):
    """A request field that is well-formed but not acceptable; the message names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def resolve_template(*, template_name: str | None, template_id: str | None, account_id: str) -> Template:
    if template_name:
        template = template_store.find(name=template_name, account_id=account_id)
        if template is None:
            raise InvalidParameter("template_name", f"template {template_name!r} does not exist")
        if template_id and template.template_id != template_id:
            raise InvalidParameter("template_id", f"{template_id!r} is not the id of template {template_name!r}")
        return template
    if template_id:
        template = template_store.find(template_id=template_id, account_id=account_id)
        if template is None:
            raise InvalidParameter("template_id", f"template {template_id!r} does not exist")
        return template
    raise InvalidParameter("template_name", "either template_name or template_id is required")


def resolve_storage(storage_id: str, account_id: str) -> Storage:
    found = storages.find(account_id, storage_id)
    if found is None:
        raise InvalidParameter("storage_id", f"storage {storage_id!r} does not exist")
    return found


@dataclass(frozen=True)
class HttpsSource:
    """An input the Download step fetches (with the SSRF checks of transcoder.fetch) before probing."""

    url: str


@dataclass(frozen=True)
class StoredSource:
    """An object read through one of the account's storages: its endpoint and keys."""

    location: S3Location
    storage: Storage

    @property
    def url(self) -> str:
        return f"{self.storage.type}://{self.location.bucket}/{self.location.key}"


@dataclass(frozen=True)
class ObjectVersion:
    """One version of an object of this deployment's buckets (a dropped file): the bytes S3 announced,
    whatever the key holds by the time the pipeline reads it."""

    location: S3Location
    version_id: str

    @property
    def url(self) -> str:
        return self.location.url


Source = S3Location | HttpsSource | StoredSource | ObjectVersion


def resolve_input(value: str, account_id: str) -> Source:
    """`https://…`; `oss://`/`obs://`/`s3://` of a bucket of one of the account's storages (read with its
    endpoint and keys); `s3://` of the account's own uploads (transcoder.uploads); or, for the deployment's own
    account, `s3://` of a bucket this deployment reads (its input bucket and extra buckets)."""
    if value.startswith("https://"):
        try:
            fetch.check_url(value)
        except fetch.RefusedInput as exc:
            raise InvalidParameter("input", str(exc)) from exc
        return HttpsSource(value)
    try:
        scheme, location = parse_object_url(value)
    except ValueError as exc:
        raise InvalidParameter("input", str(exc)) from exc
    through = storages.find_for_input(account_id, scheme, location.bucket)
    if through is not None:
        return StoredSource(location, through)
    if scheme != "s3":
        raise InvalidParameter("input", f"no {scheme} storage of this account has bucket {location.bucket!r}")
    readable = settings().readable_buckets
    refused = storages.own_object_refusal(account_id, location) if location.bucket in readable else None
    if refused:
        raise InvalidParameter("input", refused)
    if location.bucket not in readable:
        allowed = ", ".join(sorted(readable))
        raise InvalidParameter("input", f"bucket {location.bucket!r} is not readable by this service (use: {allowed})")
    return location


@dataclass(frozen=True)
class Callback:
    """Where a task's terminal state is POSTed, and the access key whose secret signs it."""

    url: str
    access_key_id: str


def resolve_callback(callback_url: str | None, storage: Storage, *, access_key_id: str) -> Callback | None:
    """The task's callback: the request's `callback_url`, else its storage's `notify` URL (api.md), checked
    as fetch.py checks every URL we reach. The task stores the one resolved URL, so the notify and callback
    functions never look further.
    """
    callback_url = callback_url or storage.notify or None
    if not callback_url:
        return None
    try:
        fetch.check_url(callback_url, subject="callback")
    except fetch.RefusedInput as exc:
        raise InvalidParameter("callback_url", str(exc)) from exc
    if not access_key_id:
        raise InvalidParameter("callback_url", "a callback needs a request signed with an access key")
    return Callback(url=callback_url, access_key_id=access_key_id)


def create_task(
    *,
    account_id: str,
    input_url: str,
    output: str,
    template_name: str | None = None,
    template_id: str | None = None,
    storage_id: str = DEFAULT_STORAGE_ID,
    callback_url: str | None = None,
    access_key_id: str = "",
    max_cost: float | None = None,
) -> TaskModel:
    """Validate, write the task as `pending`, and start its pipeline execution."""
    cap = check_max_cost(max_cost)
    source = resolve_input(input_url, account_id)
    template = resolve_template(template_name=template_name, template_id=template_id, account_id=account_id)
    storage = resolve_storage(storage_id, account_id)
    callback = resolve_callback(callback_url, storage, access_key_id=access_key_id)
    return create_task_for(
        source, output, template, storage, account_id=account_id, input_text=input_url, callback=callback, max_cost=cap
    )


def check_max_cost(max_cost: float | None) -> float | None:
    """A request's `max_cost` (ext), checked; None: not given (create_task_for applies the account's default)."""
    if max_cost is None:
        return None
    try:
        return cost_cap.checked_max_cost(max_cost)
    except ValueError as exc:
        raise InvalidParameter("max_cost", str(exc)) from exc


def create_task_for(
    source: Source,
    output: str,
    template: Template,
    storage: Storage,
    *,
    account_id: str,
    input_text: str | None = None,
    callback: Callback | None = None,
    max_cost: float | None = None,
) -> TaskModel:
    """The shared "create task" call of the API and of dropped files, once the request is resolved.

    `max_cost`: the task's cap, checked (check_max_cost); None: the account's default, if it has one.
    """
    try:
        objkey = output_key(storage.prefix, output, template.extension)
    except ValueError as exc:
        raise InvalidParameter("output", str(exc)) from exc
    if template.format is ContainerFormat.HLS and "%" in objkey:
        # Segment file names are ffmpeg patterns, where % starts a sequence that no escape survives.
        raise InvalidParameter("output", "must not contain '%' with an hls template")
    task = _new_task(
        source,
        input_text,
        output,
        storage,
        account_id=account_id,
        template_id=template.template_id,
        template_name=template.name,
    )
    task.objkey = objkey
    task.template = template.to_dict()
    if callback:
        task.callback_url, task.callback_key_id = callback.url, callback.access_key_id
    task.max_cost = max_cost if max_cost is not None else (accounts.default_max_cost(account_id) or 0)
    repository.insert(task)
    start_pipeline(task, source, storage.location_of(objkey), template)
    return task


def record_rejected_task(
    source: S3Location,
    output: str,
    template_name: str,
    storage: Storage,
    *,
    account_id: str,
    err_code: int,
    message: str,
) -> TaskModel:
    """A task that ends `fail` at once: how a dropped file that cannot be transcoded is reported."""
    task = _new_task(source, None, output, storage, account_id=account_id, template_id="", template_name=template_name)
    task.status = Status.FAIL.value
    task.finish_time = task.updated_time = task.create_time
    task.err_code = err_code
    task.err_message = message
    repository.insert(task)
    return task


def _new_task(
    source: Source,
    input_text: str | None,
    output: str,
    storage: Storage,
    *,
    account_id: str,
    template_id: str,
    template_name: str,
) -> TaskModel:
    return TaskModel(
        task_id=new_task_id(),
        account_id=account_id,
        status=Status.PENDING.value,
        create_time=repository.now(),
        input=input_text or source.url,
        output=output,
        objkey="",
        storage_id=storage.storage_id,
        bucket=storage.bucket,
        region=storage.region,
        region_type=storage.region_type,
        template_id=template_id,
        template_name=template_name,
        input_storage_id=source.storage.storage_id if isinstance(source, StoredSource) else "",
    )


@cache
def _sfn() -> "SFNClient":
    import boto3  # with the first client: importing this module needs only botocore

    return boto3.client("stepfunctions")


def start_pipeline(task: TaskModel, source: Source, destination: S3Location, template: Template) -> None:
    # Storages travel by id, never with their keys: each step looks the keys up itself.
    execution_input = ExecutionInput(
        task_id=task.task_id,
        account_id=task.account_id,
        input=_input_payload(source),
        destination=Destination(
            bucket=destination.bucket, key=destination.key, objkey=task.objkey, storage_id=task.storage_id
        ),
        template=template.to_dict(),
    )
    try:
        _sfn().start_execution(
            stateMachineArn=settings().state_machine_arn,
            name=task.task_id,
            input=json.dumps(execution_input),
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return
        # A task whose pipeline never started would stay pending forever.
        repository.move(
            task.task_id,
            Status.FAIL,
            err_code=INTERNAL_ERROR_CODE,
            err_message="internal error: the transcoding pipeline could not be started",
        )
        raise


def _input_payload(source: Source) -> UrlInput | ObjectInput:
    if isinstance(source, HttpsSource):
        return UrlInput(url=source.url)
    if isinstance(source, StoredSource):
        return ObjectInput(bucket=source.location.bucket, key=source.location.key, storage_id=source.storage.storage_id)
    if isinstance(source, ObjectVersion):
        return ObjectInput(bucket=source.location.bucket, key=source.location.key, version_id=source.version_id)
    return ObjectInput(bucket=source.bucket, key=source.key)


_PUBLIC_FIELDS = (
    "task_id", "status", "progress", "create_time", "finish_time", "input", "output", "objkey",
    "bucket", "region", "region_type", "template_id", "template_name", "src_bitrate",
    "dst_bitrate", "duration", "src_width", "src_height", "dst_width", "dst_height",
    "err_code", "err_message", "max_cost", "estimated_cost", "cost",
)  # fmt: skip
_INTEGER_FIELDS = {
    "progress", "create_time", "finish_time", "src_width", "src_height", "dst_width",
    "dst_height", "err_code",
}  # fmt: skip


def task_fields(task: TaskModel) -> dict[str, Any]:
    """query_task's `data` without the presigned URLs (what a broadcast event may carry)."""
    view: dict[str, Any] = {name: getattr(task, name) for name in _PUBLIC_FIELDS}
    view["plan"] = dict(task.plan or {})
    for name in _INTEGER_FIELDS:
        view[name] = int(view[name] or 0)
    for name in ("src_bitrate", "dst_bitrate", "duration", "max_cost", "estimated_cost", "cost"):
        view[name] = float(view[name] or 0)
    return view


def task_view(task: TaskModel) -> dict[str, Any]:
    """query_task's `data`: the stored fields plus presigned URLs of input and output."""
    view = task_fields(task)
    expiry = settings().presign_expiry_seconds
    view["input_url"] = _input_url(task, expiry)
    output = storages.find(task.account_id, task.storage_id) if task.status == Status.SUCCESS.value else None
    version = task.output_version_id or None
    view["output_url"] = _presign_through(output, output.location_of(task.objkey), expiry, version) if output else ""
    return view


def _presign_through(through: Storage, location: S3Location, expiry: int, version_id: str | None = None) -> str:
    """A URL signed with the storage's endpoint and keys; empty when they cannot be used any more."""
    try:
        return presign(location, expiry, version_id, client=storages.s3_client_of(through))
    except (RefusedEndpoint, SecretUnavailable, storages.StorageRefused):
        return ""


def _input_url(task: TaskModel, expiry: int) -> str:
    """Signed with the storage the input is read through, or this deployment's for its own buckets."""
    try:
        _, location = parse_object_url(task.input)
    except ValueError:
        return ""
    # The version Download pinned (and transcoded), not whatever the key holds now.
    version = task.input_version_id or None
    if task.input_storage_id:
        through = storages.find(task.account_id, task.input_storage_id)
        return _presign_through(through, location, expiry, version) if through else ""
    return presign(location, expiry, version) if location.bucket in settings().readable_buckets else ""


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskModel]
    total: int


def list_tasks(
    *, account_id: str, start_time: int, end_time: int, status: str | None, start_num: int, count: int
) -> TaskPage:
    """An account's tasks created in [start_time, end_time], newest first, from the index."""
    in_range = TaskModel.create_time.between(start_time, end_time)
    only_status = (TaskModel.status == status) if status else None
    index = TaskModel.by_account_time
    total = index.count(account_id, in_range, filter_condition=only_status)
    page: list[TaskModel] = []
    if start_num < total:
        found = index.query(account_id, in_range, filter_condition=only_status, scan_index_forward=False)
        for position, task in enumerate(found):
            if position >= start_num + count:
                break
            if position >= start_num:
                page.append(task)
    return TaskPage(tasks=page, total=total)


def tasks_created_between(*, account_id: str, start_time: int, end_time: int) -> Iterator[TaskModel]:
    return TaskModel.by_account_time.query(account_id, TaskModel.create_time.between(start_time, end_time))


CANCELLED_MESSAGE = "cancelled by the user"


def cancel_task(task: TaskModel) -> TaskModel:
    """End a task as `cancelled` (5001) and stop its execution; a terminal task is returned as it is."""
    if repository.move(task.task_id, Status.CANCELLED, err_code=TaskCancelled.err_code, err_message=CANCELLED_MESSAGE):
        # The status is what counts: a step still running finds it and stops at its next status write.
        try:
            _sfn().stop_execution(
                executionArn=execution_arn(task.task_id), error="TaskCancelled", cause=CANCELLED_MESSAGE
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExecutionDoesNotExist":
                raise
    current = repository.get(task.task_id)
    return current or task


def delete_task(task: TaskModel) -> None:
    """Delete a task; one that is not terminal is cancelled first, so no pipeline writes to a ghost."""
    if not is_terminal(Status(task.status)):
        cancel_task(task)
    repository.delete(task.task_id)


def execution_arn(task_id: str) -> str:
    return settings().state_machine_arn.replace(":stateMachine:", ":execution:") + f":{task_id}"
