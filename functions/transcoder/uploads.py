"""Uploads from a user's disk (ext): a presigned S3 POST into the caller's own part of the input bucket.

The caller holds an access key, not AWS credentials. `create_upload` answers a form (URL and fields) that
S3 accepts once, for 15 minutes, for exactly one key: `accounts/<account>/uploads/<upload id>/<filename>`
of the input bucket, with the declared Content-Type and at most the declared size. Every rule is in the
policy S3 checks, signed with the API function's credentials, so the form cannot be bent to another key,
type or size. The upload's `input` (`s3://<input bucket>/<key>`) is then given to create_task, which lets
an account read only its own `accounts/<account>/` (storages.own_object_refusal).

Uploads are not drops: they live outside `drop/`, so no task starts until create_task names them; a
drop's task belongs to the deployment's own account, an upload's to the caller's.
"""

import time
from dataclasses import dataclass
from typing import Any

from transcoder import storage
from transcoder.ids import new_task_id
from transcoder.locations import S3Location, check_key
from transcoder.settings import settings
from transcoder.storages import account_root
from transcoder.tasks import InvalidParameter

UPLOADS_FOLDER = "uploads/"
"""Under the account's root: `accounts/<account>/uploads/` (infra grants PutObject on this shape only)."""
EXPIRY_SECONDS = 15 * 60
MAX_POST_BYTES = 5 * 1024**3
"""S3 refuses a POST upload above 5 GB, whatever the policy says."""
MAX_FILENAME_BYTES = 255
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/x-matroska",
        "video/webm",
        "video/x-msvideo",
        "video/mpeg",
        "video/mp2t",
        "video/x-flv",
        "video/3gpp",
        "video/3gpp2",
        "video/ogg",
        "video/x-ms-wmv",
        "video/x-m4v",
    }
)
"""Video containers ffmpeg reads; audio-only files are not accepted (a task needs a video stream, 2004)."""


@dataclass(frozen=True)
class Upload:
    url: str
    """Where the form is POSTed (multipart/form-data): the input bucket's S3 endpoint."""
    fields: dict[str, str]
    """Every form field to send, as given, before the file (the `file` field comes last)."""
    location: S3Location
    content_type: str
    max_bytes: int
    expire_time: int

    def view(self) -> dict[str, Any]:
        """create_upload's `data`."""
        return {
            "url": self.url,
            "fields": self.fields,
            "input": self.location.url,
            "key": self.location.key,
            "content_type": self.content_type,
            "max_bytes": self.max_bytes,
            "expire_time": self.expire_time,
        }


def max_upload_bytes() -> int:
    return min(settings().max_input_bytes, MAX_POST_BYTES)


def check_filename(filename: str) -> str:
    """One key segment: no folders, nothing a path or URL client would read as one."""
    if not filename or filename != filename.strip():
        raise InvalidParameter("filename", "must not be empty or start or end with spaces")
    try:
        encoded = filename.encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON allows "\ud800", UTF-8 (and S3) does not
        raise InvalidParameter("filename", "must be valid Unicode text") from None
    if len(encoded) > MAX_FILENAME_BYTES:
        raise InvalidParameter("filename", f"must be at most {MAX_FILENAME_BYTES} bytes")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in filename):
        raise InvalidParameter("filename", "must not contain control characters")
    if any(c in filename for c in "/\\?#"):
        raise InvalidParameter("filename", "must be a file name, without '/', '\\', '?' or '#'")
    if filename in (".", ".."):
        raise InvalidParameter("filename", "must not be '.' or '..'")
    return filename


def check_size(size: int) -> int:
    limit = max_upload_bytes()
    if size <= 0:
        raise InvalidParameter("size", "must be a positive number of bytes")
    if size > limit:
        why = "max_input_bytes" if limit == settings().max_input_bytes else "the largest single S3 POST upload"
        raise InvalidParameter("size", f"{size} bytes is over the upload limit of {limit} bytes ({why})")
    return size


def check_content_type(content_type: str) -> str:
    normalized = content_type.strip().lower()
    if normalized not in ACCEPTED_CONTENT_TYPES:
        accepted = ", ".join(sorted(ACCEPTED_CONTENT_TYPES))
        raise InvalidParameter("content_type", f"{content_type!r} is not accepted (use one of: {accepted})")
    return normalized


def upload_location(account_id: str, upload_id: str, filename: str) -> S3Location:
    """The one key an upload may write: inside the account's root, whatever the filename says."""
    key = f"{account_root(account_id)}{UPLOADS_FOLDER}{upload_id}/{check_filename(filename)}"
    try:
        check_key(key)
    except ValueError as exc:
        raise InvalidParameter("filename", str(exc)) from exc
    return S3Location(settings().input_bucket, key)


def create_upload(*, account_id: str, filename: str, size: int, content_type: str) -> Upload:
    """A presigned POST for one file of `size` bytes at most, of `content_type`, into the account's uploads."""
    location = upload_location(account_id, new_task_id(), filename)
    size = check_size(size)
    content_type = check_content_type(content_type)
    # generate_presigned_post adds exact `bucket` and `key` conditions (and the credential's, the session
    # token's): S3 refuses any field the policy does not name.
    form = storage.s3_client().generate_presigned_post(
        Bucket=location.bucket,
        Key=location.key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
        ExpiresIn=EXPIRY_SECONDS,
    )
    return Upload(
        url=form["url"],
        fields={name: str(value) for name, value in form["fields"].items()},
        location=location,
        content_type=content_type,
        max_bytes=size,
        expire_time=int(time.time()) + EXPIRY_SECONDS,
    )
