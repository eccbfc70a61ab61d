"""Where a storage's objects live: each type's S3-compatible endpoint, checked, and a client for it.

Endpoints and client settings follow each provider's documentation for AWS SDKs:
- `s3`: AWS's own regional endpoint, resolved by botocore (or $AWS_ENDPOINT_URL in local mode).
- `oss`: Alibaba Cloud OSS, `https://s3.oss-<region>.aliyuncs.com`, virtual-hosted addressing only
  (OSS refuses path-style requests) and the `s3` signature that Alibaba documents for boto3.
- `obs`: Huawei Cloud OBS, `https://obs.<region>.myhuaweicloud.com`, virtual-hosted, SigV4.
"""

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from transcoder import fetch
from transcoder.errors import InputNotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STORAGE_TYPES = ("s3", "oss", "obs")
REGION_PATTERN = r"^[a-z]{2}(-[a-z0-9]+){1,4}$"
"""AWS (`us-east-1`), Alibaba (`cn-hangzhou`, `ap-southeast-1`) and Huawei (`cn-north-4`) region ids."""
_REGION = re.compile(REGION_PATTERN)


class RefusedEndpoint(ValueError):
    """An endpoint URL that may not be used; the message says why."""


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str = field(repr=False)
    """Never printed: a dataclass repr in a log line or traceback must not carry it."""


def default_endpoint(storage_type: str, region: str) -> str | None:
    """The provider's public endpoint of `region`; None for AWS S3 (botocore knows its endpoints)."""
    if not _REGION.match(region):
        raise RefusedEndpoint(f"region {region!r} is not a region id")
    if storage_type == "oss":
        return f"https://s3.oss-{region}.aliyuncs.com"
    if storage_type == "obs":
        return f"https://obs.{region}.myhuaweicloud.com"
    return None


def check_endpoint(url: str) -> str:
    """The endpoint, normalized; refused unless http(s), without credentials or path, and reachable
    only at public addresses (or the operator's TRUSTED_INPUT_NETWORKS), checked as https inputs are."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedEndpoint("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise RefusedEndpoint("must not carry credentials")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise RefusedEndpoint("must be scheme://host[:port] without a path or query")
    if not parts.hostname:
        raise RefusedEndpoint("has no host")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedEndpoint("has an invalid port") from exc
    try:
        fetch.check_host(parts.hostname, subject="endpoint")
        fetch.resolve(parts.hostname, port, subject="endpoint")
    except InputNotFound as exc:  # fetch.RefusedInput included: the same address rules as https inputs
        raise RefusedEndpoint(str(exc).removeprefix("endpoint URL ").replace("endpoint host", "host")) from exc
    except (UnicodeError, ValueError) as exc:  # a name IDNA cannot encode (empty or overlong labels)
        raise RefusedEndpoint("has an invalid host name") from exc
    return f"{parts.scheme}://{parts.netloc}"


def client_config(storage_type: str, *, explicit_endpoint: bool) -> Config:
    options: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 5},
        # boto3 >= 1.36 adds CRC checksums (aws-chunked bodies) to uploads by default; S3-compatible
        # services do not all accept them, so checksums are sent only where an operation requires one.
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
    }
    if storage_type == "oss":
        options["signature_version"] = "s3"
    else:
        options["signature_version"] = "s3v4"
    if storage_type in ("oss", "obs") and not explicit_endpoint:
        options["s3"] = {"addressing_style": "virtual"}
    # An explicit endpoint keeps botocore's choice: virtual-hosted for a DNS name, path-style for an IP address.
    return Config(**options)


def s3_client(storage_type: str, region: str, endpoint: str, keys: Keys | None) -> "S3Client":
    """A client of the storage's endpoint with its keys; an explicit endpoint wins over $AWS_ENDPOINT_URL."""
    url = check_endpoint(endpoint) if endpoint else default_endpoint(storage_type, region)
    # Explicit keys replace the deployment's credentials entirely (botocore does not mix in a session token).
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=keys.access_key if keys else None,
        aws_secret_access_key=keys.secret_key if keys else None,
        config=client_config(storage_type, explicit_endpoint=bool(endpoint)),
    )
