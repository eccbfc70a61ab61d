"""SSRF rules of transcoder.fetch: IPv6 forms that carry IPv4, IP literals in every spelling, loopback
names, control characters; the early checks never ask DNS."""

import ipaddress
import socket
from typing import Any

import pytest

from transcoder import fetch


@pytest.fixture(autouse=True)
def _no_trusted_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUSTED_INPUT_NETWORKS", raising=False)


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"DNS lookup of {args[0]!r} at check time")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64 (RFC 8215): never global
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible metadata service
        "::ffff:7f00:1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",  # Teredo, server 10.0.0.1
        "2001:0:808:808:8000:63bf:f7f7:f7f7",  # Teredo with public parts: not a global address itself
        "fec0::1",  # site-local (deprecated, still routed inside sites)
        "fec0::a9fe:a9fe",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
    ],
)
def test_ipv6_forms_of_non_public_addresses_are_refused(address: str) -> None:
    assert not fetch.is_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2001:4860:4860::8888", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]
)
def test_public_addresses_in_any_form_are_allowed(address: str) -> None:
    assert fetch.is_allowed(ipaddress.ip_address(address))


def test_trusted_networks_apply_to_the_ipv4_address_carried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    assert fetch.is_allowed(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert not fetch.is_allowed(ipaddress.ip_address("64:ff9b::7f00:2"))
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "fec0::/10")
    assert fetch.is_allowed(ipaddress.ip_address("fec0::1"))


def test_embedded_ipv4_addresses() -> None:
    def carried(text: str) -> list[str]:
        address = ipaddress.ip_address(text)
        assert isinstance(address, ipaddress.IPv6Address)
        return [str(a) for a in fetch.embedded_ipv4(address)]

    assert carried("64:ff9b::7f00:1") == ["127.0.0.1"]
    assert carried("2002:a9fe:a9fe::1") == ["169.254.169.254"]
    assert carried("::a00:1") == ["10.0.0.1"]
    assert carried("2001:0:4136:e378:8000:63bf:80ff:fffe") == ["65.54.227.120", "127.0.0.1"]
    assert carried("2001:4860:4860::8888") == []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("fe80::1%25eth0", "fe80::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("localhost", "127.0.0.1"),
        ("LocalHost.", "127.0.0.1"),
        ("api.localhost", "127.0.0.1"),
        ("ip6-localhost", "127.0.0.1"),
    ],
)
def test_hosts_whose_address_is_known_without_dns(host: str, address: str) -> None:
    assert fetch.known_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "cafe.be", "1e100.net", "0xdead.beef", "localhost.example.com"])
def test_ordinary_names_are_left_to_dns(host: str) -> None:
    assert fetch.known_address(host) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.mp4",
        "https://2130706433/a.mp4",
        "https://0x7f.1/a.mp4",
        "https://127.1:8443/a.mp4",
        "https://0177.0.0.1/a.mp4",
        "https://127.0.0.1./a.mp4",
        "https://[::1]/a.mp4",
        "https://[fe80::1%25eth0]/a.mp4",
        "https://[::ffff:169.254.169.254]/a.mp4",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
        "https://[2002:a9fe:a9fe::]/a.mp4",
        "https://[::a9fe:a9fe]/a.mp4",
        "https://[fec0::1]/a.mp4",
        "https://localhost/a.mp4",
        "https://localhost./a.mp4",
        "https://admin.localhost/a.mp4",
        "https://10.0.0.1/a.mp4",
    ],
)
def test_urls_naming_non_public_addresses_are_refused_without_dns(url: str, no_dns: None) -> None:
    with pytest.raises(fetch.RefusedInput, match=r"^callback host '.+' resolves to a non-public address \("):
        fetch.check_url(url, subject="callback")


def test_ordinary_names_and_public_literals_pass_without_dns(no_dns: None) -> None:
    assert fetch.check_url("https://media.example.com/a.mp4")[0] == "media.example.com"
    assert fetch.check_url("https://0x08080808/a.mp4")[0] == "0x08080808"
    assert fetch.check_url("https://[2001:4860:4860::8888]/a.mp4")[0] == "2001:4860:4860::8888"


def test_trusted_literals_pass(monkeypatch: pytest.MonkeyPatch, no_dns: None) -> None:
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    assert fetch.check_url("https://127.0.0.1:8443/a.mp4")[:2] == ("127.0.0.1", 8443)
    assert fetch.check_url("https://localhost:8443/a.mp4")[:2] == ("localhost", 8443)


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a\tb", "https://example.com/a\nb", " https://example.com/", "https://example.com/a b",
     "https://exa\rmple.com/", "https://example.com/\x7f", "https://example.com/\x00"],
)  # fmt: skip
def test_spaces_and_control_characters_are_refused(url: str) -> None:
    with pytest.raises(fetch.RefusedInput, match="must not contain spaces or control characters"):
        fetch.check_url(url, subject="callback")


def test_resolved_nat64_and_6to4_addresses_are_refused_at_fetch_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that DNS answers with an IPv6 form of a private address is refused when it is fetched."""
    for address in ("64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::7f00:1", "fec0::1"):
        monkeypatch.setattr(socket, "getaddrinfo", lambda *a, _address=address, **k: [(10, 1, 6, "", (_address, 443))])
        with pytest.raises(fetch.RefusedInput, match="non-public address"):
            fetch.resolve("sneaky.example.com", 443)
