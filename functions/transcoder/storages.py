"""Storages of an account: where tasks write outputs and read `oss://`, `obs://` and foreign `s3://` inputs.

One item per (account, storage); secrets live in Secrets Manager (storage_secrets), only their ARN here.
The built-in storage `default` (the deployment's output bucket) exists for every account and is not stored;
each account's objects live in its own part of that bucket (`accounts/<account>/`).

Tenancy: the service's own credentials act only for `default`. A custom storage is reached only with its own
keys, and never names one of the deployment's own buckets at the deployment's own S3 endpoint.
"""

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from transcoder import endpoints, repository, storage, storage_secrets
from transcoder.endpoints import Keys
from transcoder.ids import new_task_id
from transcoder.locations import S3Location
from transcoder.models import DEFAULT_ACCOUNT, TaskModel
from transcoder.settings import settings
from transcoder.status import TERMINAL, Status

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_STORAGE_ID = "default"
STORAGE_ID_PREFIX = "sto-"
_UNIQUE_PREFIX = "unique#"
"""Marker items: one per (type, endpoint, bucket, prefix) of an account, so a storage cannot be added twice."""


@dataclass(frozen=True)
class Storage:
    storage_id: str
    bucket: str
    region: str
    prefix: str = ""
    type: str = "s3"
    endpoint: str = ""
    notify: str = ""
    secret_arn: str = ""
    create_time: int = 0
    root: str = ""
    """The service's part of the bucket where this storage's objects live: `default`'s is the account's
    (`accounts/<account>/`); a custom storage has none (its `prefix` is the user's own)."""

    @property
    def region_type(self) -> str:
        return self.type

    @property
    def is_builtin(self) -> bool:
        return self.storage_id == DEFAULT_STORAGE_ID

    @property
    def is_own_account(self) -> bool:
        """Reached with this deployment's own credentials and endpoint (server-side copies work): only the
        built-in storage. Every other storage is reached with its own keys, whatever its endpoint says."""
        return self.is_builtin

    def location_of(self, objkey: str) -> S3Location:
        """Where the object query_task calls `objkey` (storage prefix + output + extension) is stored.

        The one place the service's partition is added: create_task's destination, the Upload step and
        query_task's output_url all go through here, so none can reach outside the account's part.
        """
        return S3Location(self.bucket, self.root + objkey)

    def view(self) -> dict[str, Any]:
        """query_storage's `data`: never the keys, nor where they are kept."""
        return {
            "storage_id": self.storage_id,
            "type": self.type,
            "region": self.region,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "endpoint": self.endpoint,
            "notify": self.notify,
            "has_keys": bool(self.secret_arn),
            "storage_type": "built-in" if self.is_builtin else "custom",
            "create_time": self.create_time,
        }


class StorageModel(Model):
    class Meta:
        table_name = os.environ.get("STORAGE_TABLE", "transcoder-storages")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    account_id = UnicodeAttribute(hash_key=True)
    storage_id = UnicodeAttribute(range_key=True)
    storage_type = UnicodeAttribute(attr_name="type", default="s3")
    region = UnicodeAttribute(default="")
    bucket = UnicodeAttribute(default="")
    prefix = UnicodeAttribute(default="")
    endpoint = UnicodeAttribute(default="")
    notify = UnicodeAttribute(default="")
    secret_arn = UnicodeAttribute(default="")
    owner = UnicodeAttribute(default="")
    """On a marker item: the storage that holds its (type, endpoint, bucket, prefix)."""
    create_time = NumberAttribute(default=0)

    def to_storage(self) -> Storage:
        return Storage(
            storage_id=self.storage_id,
            bucket=self.bucket,
            region=self.region,
            prefix=self.prefix,
            type=self.storage_type,
            endpoint=self.endpoint,
            notify=self.notify,
            secret_arn=self.secret_arn,
            create_time=int(self.create_time),
        )


class DuplicateStorage(Exception):
    pass


class StorageInUse(Exception):
    pass


class StorageRefused(Exception):
    """A storage the service will not reach (at add_storage, or at use for one stored before the rule)."""


class ReservedBucket(StorageRefused):
    """One of the deployment's own buckets at the deployment's own endpoint: `default` is the only way there."""


class KeysRequired(StorageRefused):
    """A custom storage without keys: the service's own credentials never act for it."""


NO_KEYS_REASON = (
    "a storage needs its own keys (storage_ak and storage_sk): the service's own credentials act only for "
    f"the built-in storage {DEFAULT_STORAGE_ID!r}"
)

ACCOUNTS_ROOT = "accounts/"


def account_root(account_id: str) -> str:
    """The part of the output bucket that holds one account's objects (`accounts/<account>/`).

    The id is percent-encoded into a single key segment, so no account's part lies inside another's (ids
    `a` and `a/b` would nest otherwise) and no segment is `.` or `..`, which URL clients collapse.
    """
    if not account_id:
        raise ValueError("an account id must not be empty")
    segment = quote(account_id, safe="")
    if segment in (".", ".."):
        segment = segment.replace(".", "%2E")
    return f"{ACCOUNTS_ROOT}{segment}/"


def default_storage(account_id: str) -> Storage:
    config = settings()
    return Storage(
        storage_id=DEFAULT_STORAGE_ID, bucket=config.output_bucket, region=config.region, root=account_root(account_id)
    )


def own_buckets() -> frozenset[str]:
    """Buckets the deployment's roles reach for every account: inputs, outputs, work files, extra inputs."""
    config = settings()
    return frozenset({config.input_bucket, config.output_bucket, config.work_bucket, *config.readable_buckets})


def may_read_own_buckets(account_id: str) -> bool:
    """Whether an account may read the deployment's own buckets (`s3://` inputs and logos): they hold every
    account's uploads and drops, so only the deployment's own account does; others come through their own
    storages (with their keys) or https://."""
    return account_id == DEFAULT_ACCOUNT


def own_object_refusal(account_id: str, location: S3Location) -> str | None:
    """Why an account may not read this object of the deployment's own buckets; None when it may.

    `accounts/<account>/` of the input bucket holds each account's uploads (transcoder.uploads): only that
    account reads there, the deployment's own account included. Everything else is the deployment's own
    account's. A key with `.` or `..` segments is refused to everyone: a client that collapses them would read
    another part of the bucket than the one checked here.
    """
    if any(segment in (".", "..") for segment in location.key.split("/")):
        return "object key must not contain '.' or '..' path segments"
    if location.bucket == settings().input_bucket and location.key.startswith(ACCOUNTS_ROOT):
        if location.key.startswith(account_root(account_id)):
            return None
        return f"{location.url} is not in your uploads ({ACCOUNTS_ROOT}<your account>/…)"
    if not may_read_own_buckets(account_id):
        return (
            f"bucket {location.bucket!r} belongs to the deployment's own account: upload your file with "
            "create_upload, or read your objects through a storage of yours (add_storage with your bucket and "
            "keys) or an https:// URL"
        )
    return None


def reaches_own_bucket(storage_type: str, region: str, bucket: str, endpoint: str = "") -> bool:
    """Whether a storage would name one of the deployment's own buckets at the deployment's own S3 service:
    compared by where requests would really go, not by the endpoint's spelling."""
    if bucket not in own_buckets():
        return False
    theirs = endpoints.resolved_endpoint(storage_type, region, endpoint)
    return endpoints.same_service(theirs, storage.s3_client().meta.endpoint_url)


def _unique_id(storage_type: str, endpoint: str, bucket: str, prefix: str) -> str:
    identity = "\n".join((storage_type, endpoint, bucket, prefix.strip("/")))
    return _UNIQUE_PREFIX + hashlib.sha256(identity.encode()).hexdigest()


def add(
    account_id: str,
    *,
    storage_type: str,
    region: str,
    bucket: str,
    prefix: str = "",
    endpoint: str = "",
    notify: str = "",
    keys: Keys | None = None,
) -> Storage:
    """Store a new storage (and its keys' secret); DuplicateStorage when the account already has it.

    KeysRequired without keys: no custom storage is reached with the service's credentials, and without them
    it could only be reached anonymously, which no output bucket allows. ReservedBucket for one of the
    deployment's own buckets at its own endpoint (where local mode's emulator would accept any keys).
    """
    if keys is None:
        raise KeysRequired(NO_KEYS_REASON)
    if reaches_own_bucket(storage_type, region, bucket, endpoint):
        raise ReservedBucket(
            f"{bucket!r} is one of this service's own buckets, at its own endpoint: only the built-in storage "
            f"{DEFAULT_STORAGE_ID!r} reaches them, each account in its own part"
        )
    storage_id = STORAGE_ID_PREFIX + new_task_id()
    secret_arn = storage_secrets.create(account_id, storage_id, keys)
    item = StorageModel(
        account_id,
        storage_id,
        storage_type=storage_type,
        region=region,
        bucket=bucket,
        prefix=prefix,
        endpoint=endpoint,
        notify=notify,
        secret_arn=secret_arn,
        create_time=repository.now(),
    )
    marker = StorageModel(account_id, _unique_id(storage_type, endpoint, bucket, prefix), owner=storage_id)
    try:
        with TransactWrite(connection=_connection()) as transaction:
            transaction.save(item, condition=StorageModel.storage_id.does_not_exist())
            transaction.save(marker, condition=StorageModel.storage_id.does_not_exist())
    except TransactWriteError as exc:
        storage_secrets.delete(secret_arn)
        reasons = [reason.code for reason in exc.cancellation_reasons if reason]
        if "ConditionalCheckFailed" in reasons:
            raise DuplicateStorage(f"a {storage_type} storage of bucket {bucket!r} with this prefix exists") from exc
        raise
    return item.to_storage()


def find(account_id: str, storage_id: str) -> Storage | None:
    """The account's storage, or the built-in `default`; None when the account has no such storage."""
    if storage_id == DEFAULT_STORAGE_ID:
        return default_storage(account_id)
    if not storage_id.startswith(STORAGE_ID_PREFIX):
        return None
    try:
        return StorageModel.get(account_id, storage_id, consistent_read=True).to_storage()
    except DoesNotExist:
        return None


def list_all(account_id: str) -> list[Storage]:
    custom = StorageModel.query(account_id, StorageModel.storage_id.startswith(STORAGE_ID_PREFIX))
    return [default_storage(account_id), *(item.to_storage() for item in custom)]


def find_for_input(account_id: str, storage_type: str, bucket: str) -> Storage | None:
    """A storage of the account that reads `<type>://bucket/...` (the oldest one, if several share the bucket)."""
    found = StorageModel.query(
        account_id,
        StorageModel.storage_id.startswith(STORAGE_ID_PREFIX),
        filter_condition=(StorageModel.storage_type == storage_type) & (StorageModel.bucket == bucket),
    )
    return next((item.to_storage() for item in found), None)


def tasks_using(account_id: str, storage_id: str) -> Iterator[TaskModel]:
    """The account's tasks that are not terminal and write to (or read from) the storage.

    Reads the account's partition of the account-create_time index with a filter: no table scan.
    """
    active = TaskModel.status.is_in(*[s.value for s in Status if s not in TERMINAL])
    uses = (TaskModel.storage_id == storage_id) | (TaskModel.input_storage_id == storage_id)
    return TaskModel.by_account_time.query(account_id, filter_condition=active & uses)


def delete(account_id: str, storage: Storage) -> None:
    """Delete a custom storage and its secret; StorageInUse while a task still needs it."""
    busy = next(tasks_using(account_id, storage.storage_id), None)
    if busy is not None:
        raise StorageInUse(f"task {busy.task_id} ({busy.status}) uses storage {storage.storage_id}")
    marker = _unique_id(storage.type, storage.endpoint, storage.bucket, storage.prefix)
    with TransactWrite(connection=_connection()) as transaction:
        transaction.delete(StorageModel(account_id, storage.storage_id))
        transaction.delete(StorageModel(account_id, marker))
    if storage.secret_arn:
        storage_secrets.delete(storage.secret_arn)


def _connection() -> Connection:
    return Connection(region=StorageModel.Meta.region)


def s3_client_of(target: Storage) -> "S3Client":
    """The client that reaches the storage: this deployment's own for `default`, else one for its endpoint
    and keys. KeysRequired for a storage without keys (stored before they were required): it fails rather
    than borrow the service's credentials."""
    if target.is_own_account:
        return storage.s3_client()
    if not target.secret_arn:
        raise KeysRequired(
            f"has no keys of its own, and the service's own credentials act only for the built-in storage "
            f"{DEFAULT_STORAGE_ID!r}: delete it and add it again with storage_ak and storage_sk"
        )
    return _foreign_client(target.type, target.region, target.endpoint, target.bucket, target.secret_arn)


@lru_cache(maxsize=32)
def _foreign_client(storage_type: str, region: str, endpoint: str, bucket: str, secret_arn: str) -> "S3Client":
    # Checked again at use: a storage stored before the check, or whose endpoint's name now resolves elsewhere.
    if reaches_own_bucket(storage_type, region, bucket, endpoint):
        raise ReservedBucket(f"{bucket!r} is one of this service's own buckets: only storage {DEFAULT_STORAGE_ID!r}")
    # A storage's keys never change (there is no update), so a client per secret stays valid.
    return endpoints.s3_client(storage_type, region, endpoint, storage_secrets.read(secret_arn))


def forget_clients() -> None:
    _foreign_client.cache_clear()
