"""S3 access for the pipeline: staging, streaming to and from /tmp, presigning."""

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from transcoder.errors import InputNotFound, TransientStorageError
from transcoder.locations import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, ObjectIdentifierTypeDef

_NOT_FOUND = {"404", "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchVersion"}
_DENIED = {"403", "AccessDenied", "AllAccessDisabled"}
_DELETE_BATCH = 1000
"""DeleteObjects takes at most 1000 keys."""
_TRANSIENT = {"500", "502", "503", "504", "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"}


@cache
def s3_client() -> "S3Client":
    import boto3  # with the first client: importing this module needs only botocore

    return boto3.client("s3", config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 5}))


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_transient(exc: Exception) -> bool:
    if isinstance(exc, ClientError):
        return error_code(exc) in _TRANSIENT
    return isinstance(exc, BotoCoreError)


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    version_id: str | None
    """Set in a versioned bucket: reading this version later gets exactly the bytes probed now."""


def head_input(location: S3Location, client: "S3Client | None" = None, *, version_id: str | None = None) -> ObjectInfo:
    """Size and version of the input object (its current one unless `version_id` is given); InputNotFound
    when it is missing or not readable."""
    params = {"Bucket": location.bucket, "Key": location.key}
    if version_id:
        params["VersionId"] = version_id
    try:
        response = (client or s3_client()).head_object(**params)  # type: ignore[arg-type]
    except ClientError as exc:
        code = error_code(exc)
        if code in _NOT_FOUND:
            which = f" (version {version_id})" if version_id else ""
            raise InputNotFound(f"input {location.url}{which} does not exist") from exc
        if code in _DENIED:
            raise InputNotFound(f"input {location.url} is not readable by the service") from exc
        if is_transient(exc):
            raise TransientStorageError(f"reading {location.url}: {code}") from exc
        raise
    version = response.get("VersionId")
    return ObjectInfo(size=int(response.get("ContentLength", 0)), version_id=version if version != "null" else None)


def upload(path: str, location: S3Location, content_type: str) -> None:
    s3_client().upload_file(path, location.bucket, location.key, ExtraArgs={"ContentType": content_type})


def download(location: S3Location, path: str) -> None:
    s3_client().download_file(location.bucket, location.key, path)


def read_bytes(location: S3Location, version_id: str | None = None) -> bytes:
    """A small object's body (a logo); callers check its size first."""
    params = {"Bucket": location.bucket, "Key": location.key}
    if version_id:
        params["VersionId"] = version_id
    return s3_client().get_object(**params)["Body"].read()  # type: ignore[arg-type]


def put_bytes(data: bytes, location: S3Location) -> None:
    s3_client().put_object(Bucket=location.bucket, Key=location.key, Body=data)


def copy(source: S3Location, destination: S3Location) -> str | None:
    """Server-side copy, nothing passes through the function; the version written in a versioned bucket.

    One CopyObject answers the version it wrote; S3 refuses it above 5 GB, where a multipart copy
    (whose version is not known) takes over.
    """
    where: CopySourceTypeDef = {"Bucket": source.bucket, "Key": source.key}
    try:
        response = s3_client().copy_object(CopySource=where, Bucket=destination.bucket, Key=destination.key)
    except ClientError as exc:
        if error_code(exc) != "InvalidRequest":
            raise
        s3_client().copy(where, destination.bucket, destination.key)
        return None
    version = response.get("VersionId")
    return version if version and version != "null" else None


def transfer(source: S3Location, destination: S3Location, destination_client: "S3Client") -> None:
    """Copy to another endpoint or account: streamed through the function (no server-side copy across them)."""
    response = s3_client().get_object(Bucket=source.bucket, Key=source.key)
    extra = {"ContentType": response["ContentType"]} if response.get("ContentType") else {}
    destination_client.upload_fileobj(response["Body"], destination.bucket, destination.key, ExtraArgs=extra)


def delete_prefix(bucket: str, prefix: str) -> None:
    paginator = s3_client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys: list[ObjectIdentifierTypeDef] = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3_client().delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def delete_objects(
    locations: list[S3Location], client: "S3Client | None" = None, versions: dict[S3Location, str] | None = None
) -> list[str]:
    """Delete objects through `client` (by default this deployment's); returns what S3 refused to delete.

    A location in `versions` loses exactly that version: in a versioned bucket a plain delete would only
    hide the key behind a marker, taking the previous writer's object from the key with it.
    """
    by_bucket: dict[str, list[ObjectIdentifierTypeDef]] = {}
    for location in locations:
        identifier: ObjectIdentifierTypeDef = {"Key": location.key}
        if versions and location in versions:
            identifier["VersionId"] = versions[location]
        by_bucket.setdefault(location.bucket, []).append(identifier)
    refused: list[str] = []
    for bucket, keys in by_bucket.items():
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            response = (client or s3_client()).delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            refused += [f"s3://{bucket}/{e.get('Key')} ({e.get('Code')})" for e in response.get("Errors", [])]
    return refused


def presign(
    location: S3Location, expiry_seconds: int, version_id: str | None = None, client: "S3Client | None" = None
) -> str:
    """A GET URL signed by `client` (a storage's endpoint and keys), by default this deployment's."""
    params = {"Bucket": location.bucket, "Key": location.key}
    if version_id:
        params["VersionId"] = version_id
    return (client or s3_client()).generate_presigned_url("get_object", Params=params, ExpiresIn=expiry_seconds)
