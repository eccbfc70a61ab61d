"""The task table (pynamodb). One item per task; the fields are query_task's (api.md)."""

import os

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

DEFAULT_ACCOUNT = "default"
"""The deployment's own account: files dropped into the input bucket create its tasks, and local mode's key
belongs to it. Every other account exists through the access keys an operator creates for it."""


class AccountTimeIndex(GlobalSecondaryIndex["TaskModel"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    """list_task: an account's tasks by creation time, without scanning the table."""

    class Meta:
        index_name = "account-create_time"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class OpenTaskIndex(GlobalSecondaryIndex["TaskModel"]):  # type: ignore[no-untyped-call]  # pynamodb's hook
    """The sweep (transcoder.reconcile): tasks that are not terminal yet, by creation time. Sparse: `open_shard`
    exists only until the task ends, and keys alone are projected, so progress writes never touch the index."""

    class Meta:
        index_name = "open-create_time"
        projection = KeysOnlyProjection()

    open_shard = UnicodeAttribute(hash_key=True)
    create_time = NumberAttribute(range_key=True)


class TaskModel(Model):
    class Meta:
        table_name = os.environ.get("TASK_TABLE", "transcoder-tasks")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    task_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    by_account_time = AccountTimeIndex()
    open_shard = UnicodeAttribute(null=True)
    """Set while the task is not terminal (repository.insert; removed by the move that ends it): OpenTaskIndex."""
    by_open_time = OpenTaskIndex()
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    create_time = NumberAttribute()
    finish_time = NumberAttribute(default=0)
    updated_time = NumberAttribute(default=0)

    input = UnicodeAttribute()
    output = UnicodeAttribute()
    objkey = UnicodeAttribute()
    storage_id = UnicodeAttribute(default="default")
    input_storage_id = UnicodeAttribute(default="")
    """The storage an `oss://`, `obs://` or foreign `s3://` input is read through; empty otherwise."""
    bucket = UnicodeAttribute()
    region = UnicodeAttribute()
    region_type = UnicodeAttribute(default="s3")

    template_id = UnicodeAttribute()
    template_name = UnicodeAttribute()
    template = JSONAttribute(default=dict)
    """The template as it was when the task was created: later edits do not change a task."""

    src_bitrate = NumberAttribute(default=0)
    dst_bitrate = NumberAttribute(default=0)
    duration = NumberAttribute(default=0)
    src_width = NumberAttribute(default=0)
    src_height = NumberAttribute(default=0)
    dst_width = NumberAttribute(default=0)
    dst_height = NumberAttribute(default=0)
    src_size = NumberAttribute(default=0)
    dst_size = NumberAttribute(default=0)
    input_version_id = UnicodeAttribute(default="")
    """The version of an `s3://` input Download pinned (for a dropped file, the one its upload created):
    input_url serves it. Empty: not pinned yet, or an unversioned bucket."""
    output_version_id = UnicodeAttribute(default="")
    """The version of `objkey` this task wrote (a versioned bucket): output_url serves it even after a later
    task of the same output key (a file dropped again) replaced the current one. Empty: the current object."""

    plan = JSONAttribute(default=dict)
    """How the task runs (ext), set by the pipeline's Plan step: {"runner": "lambda"} or {"runner": "chunks",
    "chunks": N, "chunk_seconds": S}. Empty until planned."""
    chunks_done = NumberAttribute(default=0)
    """Chunks encoded so far (chunked runner): progress is chunks_done ÷ plan.chunks."""

    # What the task costs, in USD (ext; transcoder.costs): the Plan's estimate, the cap it is checked against,
    # and what it used, added by every step as it ends (an atomic ADD: chunks run at once).
    max_cost = NumberAttribute(default=0)
    """The task's cap: the request's `max_cost`, else its account's default; 0: none."""
    estimated_cost = NumberAttribute(default=0)
    cost = NumberAttribute(default=0)

    err_code = NumberAttribute(default=0)
    err_message = UnicodeAttribute(default="")

    callback_url = UnicodeAttribute(default="")
    """Where the task is POSTed when it ends (api.md "Callbacks (ext)"), resolved at creation: the request's
    `callback_url`, or later its storage's `notify`. Empty: no callback (events are published anyway)."""
    callback_key_id = UnicodeAttribute(default="")
    """The access key whose secret signs the callbacks: the one that created the task."""
