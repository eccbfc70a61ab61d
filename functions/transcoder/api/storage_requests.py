"""Storage requests (api.md, "Storages"): every field validated, errors naming the field."""

import ipaddress
import re
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, StrictStr, field_validator, model_validator

from transcoder.endpoints import REGION_PATTERN, STORAGE_TYPES, RefusedEndpoint, check_endpoint
from transcoder.lazy import lazy_import

if TYPE_CHECKING:
    from transcoder import fetch
else:
    fetch = lazy_import("transcoder.fetch")  # urllib3 and botocore: when a URL is checked

StorageType = Literal["s3", "oss", "obs"]
assert STORAGE_TYPES == ("s3", "oss", "obs")  # noqa: S101 - the Literal above must list the same types

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MAX_PREFIX_BYTES = 512


def check_bucket(value: str) -> str:
    """S3's bucket naming rules (OSS and OBS follow the same or stricter ones)."""
    if not _BUCKET.match(value):
        raise ValueError("must be 3 to 63 lower-case letters, digits, dots or hyphens, alphanumeric at both ends")
    if ".." in value or ".-" in value or "-." in value:
        raise ValueError("must not contain '..', '.-' or '-.'")
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        pass
    else:
        raise ValueError("must not be formatted as an IP address")
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        raise ValueError("uses a prefix or suffix that S3 reserves")
    return value


def check_prefix(value: str) -> str:
    """A key prefix every output stays under: relative, no '..' segment, no control characters."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must not contain control characters")
    if value.startswith("/") or "\\" in value:
        raise ValueError("must be relative (no leading '/') and use '/' as separator")
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError("must not contain '.' or '..' segments")
    if "//" in value:
        raise ValueError("must not contain empty segments ('//')")
    if len(value.encode()) > MAX_PREFIX_BYTES:
        raise ValueError(f"must be at most {MAX_PREFIX_BYTES} bytes")
    return value


def check_notify(value: str) -> str:
    """The rules of every URL the service calls (transcoder.fetch), those that need no DNS applied now."""
    try:
        fetch.check_url(value, subject="notify")
    except fetch.RefusedInput as exc:
        raise ValueError(str(exc).removeprefix("notify URL ").replace("notify host", "host")) from exc
    return value


class AddStorageRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: StorageType = Field(description="s3, oss (Alibaba Cloud OSS) or obs (Huawei Cloud OBS)")
    region: StrictStr = Field(max_length=32, pattern=REGION_PATTERN, description="e.g. us-east-1, cn-hangzhou")
    bucket: StrictStr = Field(max_length=63)
    prefix: StrictStr = Field(default="", description="outputs are written under this key prefix")
    storage_ak: SecretStr | None = Field(default=None, min_length=1, max_length=256)
    storage_sk: SecretStr | None = Field(default=None, min_length=1, max_length=256)
    notify: StrictStr | None = Field(default=None, max_length=1024, description="https callback URL")
    endpoint: StrictStr | None = Field(default=None, max_length=256, description="(ext) S3-compatible endpoint URL")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return check_bucket(value)

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @field_validator("notify")
    @classmethod
    def _notify(cls, value: str | None) -> str | None:
        return check_notify(value) if value else None

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return check_endpoint(value)
        except RefusedEndpoint as exc:
            raise ValueError(str(exc)) from exc

    @model_validator(mode="after")
    def _keys(self) -> "AddStorageRequest":
        if (self.storage_ak is None) != (self.storage_sk is None):
            missing = "storage_sk" if self.storage_sk is None else "storage_ak"
            raise ValueError(f"{missing}: storage_ak and storage_sk go together (give both or neither)")
        return self


class StorageRef(BaseModel):
    """del_storage: `storage_id` (also accepted as `StorageId`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    storage_id: StrictStr = Field(min_length=1, max_length=64, validation_alias=AliasChoices("storage_id", "StorageId"))
