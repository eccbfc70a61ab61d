"""Where a storage's objects live: each type's S3-compatible endpoint, checked, and a client for it.

Endpoints and client settings follow each provider's documentation for AWS SDKs:
- `s3`: AWS's own regional endpoint, resolved by botocore (or $AWS_ENDPOINT_URL in local mode).
- `oss`: Alibaba Cloud OSS, `https://s3.oss-<region>.aliyuncs.com`, virtual-hosted addressing only
  (OSS refuses path-style requests) and the `s3` signature that Alibaba documents for boto3.
- `obs`: Huawei Cloud OBS, `https://obs.<region>.myhuaweicloud.com`, virtual-hosted, SigV4.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from transcoder.errors import InputNotFound
from transcoder.lazy import lazy_import

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_s3 import S3Client

    from transcoder import fetch
    from transcoder.fetch import IpAddress
else:
    # urllib3 and botocore: when an endpoint is checked or a client built, not when a request model is defined
    fetch = lazy_import("transcoder.fetch")

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


def client_config(storage_type: str, *, explicit_endpoint: bool) -> "Config":
    from botocore.config import Config

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


def s3_client(storage_type: str, region: str, endpoint: str, keys: Keys) -> "S3Client":
    """A client of the storage's endpoint with its keys; an explicit endpoint wins over $AWS_ENDPOINT_URL.

    Keys are required: a storage is never reached with the deployment's own credentials (only `default` is).
    """
    import boto3  # with the first client: importing this module needs only botocore

    url = check_endpoint(endpoint) if endpoint else default_endpoint(storage_type, region)
    # Explicit keys replace the deployment's credentials entirely (botocore does not mix in a session token).
    return boto3.client(
        "s3",
        region_name=region,
        endpoint_url=url,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        config=client_config(storage_type, explicit_endpoint=bool(endpoint)),
    )


def resolved_endpoint(storage_type: str, region: str, endpoint: str) -> str:
    """The URL a storage's requests go to: its `endpoint`, its type's endpoint of `region`, or for `s3`
    botocore's resolution (which follows $AWS_ENDPOINT_URL, as the deployment's own client does)."""
    url = endpoint or default_endpoint(storage_type, region)
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    # Built only to read botocore's resolution: it never sends a request, so it needs no credentials.
    resolver = boto3.client("s3", region_name=region, endpoint_url=url, config=Config(signature_version=UNSIGNED))
    return resolver.meta.endpoint_url


_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn")


def _aws_s3_partition(host: str) -> str | None:
    """`amazonaws.com(.cn)` for an AWS S3 host of any region or form (`s3.<region>.`, `s3-<region>.`,
    dual-stack, FIPS, virtual-hosted): a bucket name is global in its partition, so every one of them
    reaches the same bucket. None for any other host."""
    for domain in _AWS_DOMAINS:
        if host.endswith(domain) and any(label.startswith("s3") for label in host.removesuffix(domain).split(".")):
            return domain
    return None


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    return host, parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _addresses(host: str, port: int) -> set["IpAddress"]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return set()
    addresses: set[IpAddress] = set()
    for info in found:
        address = ipaddress.ip_address(info[4][0])
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        addresses.add(mapped or address)
    return addresses


def same_service(first: str, second: str) -> bool:
    """Whether two endpoint URLs reach the same S3 service: compared as host and port (case, trailing dot,
    path and an explicit default port do not count), as any AWS S3 host of one partition, or as addresses
    (`localhost`, `127.1` and `127.0.0.1` are one server)."""
    (host_a, port_a), (host_b, port_b) = _host_and_port(first), _host_and_port(second)
    partition = _aws_s3_partition(host_a)
    if partition is not None or _aws_s3_partition(host_b) is not None:
        return partition == _aws_s3_partition(host_b)
    if port_a != port_b:
        return False
    return host_a == host_b or bool(_addresses(host_a, port_a) & _addresses(host_b, port_b))
