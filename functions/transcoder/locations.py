"""Object locations given by users (`s3://bucket/key`) and output keys, validated."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_MAX_KEY_BYTES = 1024


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_url(value: str) -> S3Location:
    """Parse `s3://bucket/key`; raises ValueError saying what is wrong."""
    return parse_object_url(value, ("s3",))[1]


OBJECT_SCHEMES = ("s3", "oss", "obs")
"""`oss://` and `obs://` name objects of Alibaba OSS and Huawei OBS, reached through a storage."""


def parse_object_url(value: str, schemes: tuple[str, ...] = OBJECT_SCHEMES) -> tuple[str, S3Location]:
    """(scheme, location) of `<scheme>://bucket/key`; raises ValueError saying what is wrong."""
    # urlsplit silently drops tabs and newlines, and leading control characters and spaces:
    # refuse them here, or the key read would differ from the key given.
    if _has_control_characters(value) or value != value.lstrip():
        raise ValueError("contains control characters or leading spaces")
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise ValueError("must be an " + " or ".join(f"{scheme}://bucket/key" for scheme in schemes) + " URL")
    if "?" in value or "#" in value:
        raise ValueError("must not carry a query or fragment")
    bucket = parts.netloc
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise ValueError(f"bucket {bucket!r} is not a valid bucket name")
    key = parts.path.removeprefix("/")
    check_key(key)
    return parts.scheme, S3Location(bucket, key)


def _has_control_characters(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def check_key(key: str) -> None:
    if not key:
        raise ValueError("object key is empty")
    if len(key.encode()) > _MAX_KEY_BYTES:
        raise ValueError(f"object key is longer than {_MAX_KEY_BYTES} bytes")
    if _has_control_characters(key):
        raise ValueError("object key contains control characters")


def output_key(prefix: str, output: str, extension: str) -> str:
    """The object key written for `output`: it cannot climb out of the storage's prefix."""
    check_key(output)
    if output.startswith("/") or "\\" in output:
        raise ValueError("must be a relative key without backslashes")
    segments = output.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise ValueError("must not contain empty, '.' or '..' path segments")
    key = output if output.lower().endswith(extension) else output + extension
    full = f"{prefix.strip('/')}/{key}" if prefix.strip("/") else key
    check_key(full)
    return full
