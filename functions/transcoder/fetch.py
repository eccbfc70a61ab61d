"""Fetch an `https://` input without server-side request forgery, streaming it into the work bucket.

Every hop is checked: https only, no credentials in the URL, and the host's addresses must be public
(not loopback, private, link-local such as the metadata service, multicast or reserved) unless an
operator trusts their network. The connection goes to the address that was checked, with TLS verified
against the host's name, and redirects are followed by hand so that each target is checked too.

An IPv6 address that carries an IPv4 one (IPv4-mapped and -compatible, NAT64, 6to4, Teredo) is judged
by the IPv4 address it leads to: Python's `is_global` says True for several of these forms. Hosts whose
address is known without DNS (IP literals in every spelling a resolver accepts, `localhost` names) are
judged as soon as a URL is checked, so a request naming one is refused at once rather than failing later.
"""

import ipaddress
import os
import re
import socket
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import urllib3

from transcoder import storage
from transcoder.errors import InputNotFound, InputOverLimits
from transcoder.locations import S3Location
from transcoder.media.sources import ca_bundle

MAX_REDIRECTS = 5
_TIMEOUT = urllib3.Timeout(connect=10, read=30)
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedInput(InputNotFound):
    """The input's URL or one of its addresses may not be fetched (err_code 2001)."""


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def valid_host(host: str) -> bool:
    """An IP literal or a DNS name (labels of letters, digits, `-`, `_`; at most 253 characters)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host.removesuffix(".")
    return 0 < len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


def check_url(url: str, *, subject: str = "input") -> tuple[str, int, str]:
    """(host, port, path with query) of an acceptable https URL; raises RefusedInput otherwise.

    `subject` names the URL in messages ("input", "logo", "callback"): the same rules guard every URL we
    fetch or POST to.
    """
    # urlsplit drops tabs and newlines and strips leading spaces: the URL used would differ from the one given.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise RefusedInput(f"{subject} URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # an unbalanced or invalid [IPv6] host
        raise RefusedInput(f"{subject} URL is malformed ({exc})") from exc
    if parts.scheme != "https":
        raise RefusedInput(f"{subject} URL must be https:// (got {parts.scheme or 'no'} scheme)")
    if parts.username or parts.password or "@" in parts.netloc:
        raise RefusedInput(f"{subject} URL must not carry credentials")
    if not hostname:
        raise RefusedInput(f"{subject} URL has no host")
    check_host(hostname, subject=subject)
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise RefusedInput(f"{subject} URL has an invalid port") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return hostname, port, path


def trusted_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Networks the operator allows besides the public internet ($TRUSTED_INPUT_NETWORKS, CIDRs)."""
    value = os.environ.get("TRUSTED_INPUT_NETWORKS", "")
    return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in value.split(",") if cidr.strip()]


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: NAT64 and IPv4-compatible carry one in their last 32
    bits, 6to4 one after its prefix, Teredo two (its server, and its client's, inverted)."""
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def is_allowed(address: IpAddress) -> bool:
    """A public unicast address, or one in the operator's trusted networks; every IPv4 address an IPv6 one
    carries must be allowed too."""
    if any(address in network for network in trusted_networks()):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the IPv4 address itself, spelled for an IPv6 socket
            return is_allowed(address.ipv4_mapped)
        if address in _NAT64_LOCAL_USE or address in _SITE_LOCAL:
            return False
        if not all(is_allowed(carried) for carried in embedded_ipv4(address)):
            return False
    return address.is_global and not address.is_multicast


_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_NUMERIC_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")


def known_address(host: str) -> IpAddress | None:
    """The address `host` stands for without asking DNS: an IP literal, in any spelling resolvers accept
    (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1`, a trailing dot, an IPv6 zone id), or a loopback name
    (`localhost`, `*.localhost`, RFC 6761); None for any other name."""
    name = host.lower().removeprefix("[").removesuffix("]").removesuffix(".")
    try:
        return ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_IPV4.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:  # digits and dots that are no address: left to DNS, which will not find them
            pass
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    return None


def check_host(host: str, *, subject: str = "input") -> None:
    """Refuses a host that is no valid name or literal, or whose known address (no DNS) is not allowed."""
    if not valid_host(host):
        raise RefusedInput(f"{subject} URL has an invalid host name")
    address = known_address(host)
    if address is not None and not is_allowed(address):
        raise RefusedInput(f"{subject} host {host!r} resolves to a non-public address ({address})")


def resolve(host: str, port: int, *, subject: str = "input") -> IpAddress:
    """The address to connect to: every address the name resolves to must be allowed."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputNotFound(f"{subject} host {host!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in found]
    refused = [a for a in addresses if not is_allowed(a)]
    if refused or not addresses:
        raise RefusedInput(
            f"{subject} host {host!r} resolves to a non-public address ({refused[0] if refused else 'none'})"
        )
    return addresses[0]


def pinned_pool(host: str, port: int, address: IpAddress, timeout: urllib3.Timeout) -> urllib3.HTTPSConnectionPool:
    """A connection pool to the checked `address`, with TLS verified against `host`'s name, never retrying."""
    return urllib3.HTTPSConnectionPool(
        host=str(address),
        port=port,
        server_hostname=host,
        assert_hostname=host,
        cert_reqs="CERT_REQUIRED",
        ca_certs=ca_bundle(),
        timeout=timeout,
        retries=False,
    )


def host_header(host: str, port: int) -> str:
    return host if port == 443 else f"{host}:{port}"


def open_input(url: str, *, subject: str = "input") -> Any:
    """A streaming response for `url`, after checked redirects."""
    for _ in range(MAX_REDIRECTS + 1):
        host, port, path = check_url(url, subject=subject)
        address = resolve(host, port, subject=subject)
        pool = pinned_pool(host, port, address, _TIMEOUT)
        try:
            response = pool.urlopen(
                "GET", path, headers={"Host": host_header(host, port)}, redirect=False,
                preload_content=False,
            )  # fmt: skip
        except urllib3.exceptions.SSLError as exc:
            raise RefusedInput(f"{subject} host {host!r}: TLS certificate not trusted") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise InputNotFound(f"{subject} host {host!r} is not reachable") from exc
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
            url = urljoin(url, response.headers["Location"])
            response.release_conn()
            continue
        if response.status != 200:
            response.release_conn()
            raise InputNotFound(f"{subject} URL answered HTTP {response.status}")
        return response
    raise RefusedInput(f"{subject} URL redirects more than {MAX_REDIRECTS} times")


class _Limited:
    """A file-like reader that refuses to read past the operator's size limit."""

    def __init__(self, stream: IO[bytes], limit: int, subject: str = "input") -> None:
        self.stream, self.limit, self.read_bytes, self.subject = stream, limit, 0, subject

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size if size and size > 0 else 1 << 20)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise InputOverLimits(f"{self.subject} is larger than the limit of {self.limit} bytes")
        return chunk


def stage(url: str, destination: S3Location, max_bytes: int) -> int:
    """Stream the input into `destination`; returns its size."""
    response = open_input(url)
    try:
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise InputOverLimits(f"input is {declared} bytes; the limit is {max_bytes} bytes")
        reader = _Limited(response, max_bytes)
        try:
            storage.s3_client().upload_fileobj(reader, destination.bucket, destination.key)  # type: ignore[arg-type]
        except urllib3.exceptions.HTTPError as exc:
            raise InputNotFound("input transfer broke off before the end") from exc
        return reader.read_bytes
    finally:
        response.release_conn()


def read(url: str, max_bytes: int, *, subject: str) -> bytes:
    """The whole body of a small resource (a logo), with the same checks as `stage`, kept in memory."""
    response = open_input(url, subject=subject)
    try:
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise InputOverLimits(f"{subject} is {declared} bytes; the limit is {max_bytes} bytes")
        reader = _Limited(response, max_bytes, subject)
        chunks: list[bytes] = []
        try:
            while chunk := reader.read(1 << 16):
                chunks.append(chunk)
        except urllib3.exceptions.HTTPError as exc:
            raise InputNotFound(f"{subject} transfer broke off before the end") from exc
        return b"".join(chunks)
    finally:
        response.release_conn()
