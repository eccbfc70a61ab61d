"""https:// inputs: fetched with every hop checked (no SSRF), streamed into the work bucket."""

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call
from tests.integration.test_pipeline_steps import _run_pipeline
from transcoder import errors, fetch
from transcoder.locations import S3Location


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://example.com/a.mp4", "https"),
        ("ftp://example.com/a.mp4", "https"),
        ("file:///etc/passwd", "https"),
        ("https://user:secret@example.com/a.mp4", "credentials"),
        ("https:///a.mp4", "no host"),
        ("https://example.com:99999/a.mp4", "port"),
        ("https://[::1/a.mp4", "malformed"),
        ("https://[zz]/a.mp4", "malformed"),
    ],
)
def test_urls_refused_before_any_connection(url: str, needle: str) -> None:
    with pytest.raises(fetch.RefusedInput, match=needle):
        fetch.check_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",  # noqa: S104
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not fetch.is_allowed(ipaddress.ip_address(address))


def test_public_addresses_and_trusted_networks_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert fetch.is_allowed(ipaddress.ip_address("8.8.8.8"))
    assert fetch.is_allowed(ipaddress.ip_address("2001:4860:4860::8888"))
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "10.0.0.0/8, 127.0.0.1/32")
    assert fetch.is_allowed(ipaddress.ip_address("10.9.9.9"))
    assert fetch.is_allowed(ipaddress.ip_address("127.0.0.1"))
    assert not fetch.is_allowed(ipaddress.ip_address("127.0.0.2"))
    assert not fetch.is_allowed(ipaddress.ip_address("169.254.169.254"))


def test_loopback_server_is_refused_unless_trusted(https_site: tuple[str, Path]) -> None:
    base, _ = https_site
    with pytest.raises(fetch.RefusedInput, match="non-public address"):
        fetch.open_input(f"{base}/clip.mp4")


@pytest.fixture
def trusted(https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    base, cert = https_site
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("CA_BUNDLE", str(cert))
    return base


def test_redirects_are_checked_at_every_hop(trusted: str) -> None:
    for target in ("https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/a.mp4", "http://127.0.0.1/a.mp4"):
        with pytest.raises(fetch.RefusedInput):
            fetch.open_input(f"{trusted}/redirect?to={target}")
    loop = f"{trusted}/redirect?to={trusted}/redirect?to={trusted}/redirect"
    with pytest.raises(errors.TaskError):
        fetch.open_input(loop)


def test_untrusted_certificate_is_refused(https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = https_site
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    with pytest.raises(fetch.RefusedInput, match="certificate"):
        fetch.open_input(f"{base}/clip.mp4")


def test_missing_file_and_size_limit(aws: Aws, trusted: str) -> None:
    with pytest.raises(errors.InputNotFound, match="404"):
        fetch.open_input(f"{trusted}/nothing-here.mp4")
    with pytest.raises(errors.InputOverLimits):
        fetch.stage(f"{trusted}/clip.mp4", S3Location(aws.work_bucket, "tasks/x/source"), max_bytes=1000)


def test_https_input_through_the_pipeline(aws: Aws, trusted: str, https_site: tuple[str, Path], tmp_path: Path) -> None:
    from localmode.media import probe_file

    status, body = _call("POST", "/api/create_task", {**VALID, "input": f"{trusted}/clip.mp4?sig=abc"})
    assert status == 200, body
    executions = aws.sfn.list_executions(stateMachineArn=__import__("os").environ["STATE_MACHINE_ARN"])["executions"]
    import json

    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
    assert event["input"] == {"url": f"{trusted}/clip.mp4?sig=abc"}
    event = _run_pipeline(event)
    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, event["delivered"]["objkey"], str(output))
    assert (probe_file(str(output)).width, probe_file(str(output)).height) == (320, 240)
    _, query = _call("GET", f"/api/query_task?task_id={event['task_id']}")
    assert (query["data"]["status"], query["data"]["input"], query["data"]["input_url"]) == (
        "success",
        f"{trusted}/clip.mp4?sig=abc",
        "",
    )


@pytest.mark.parametrize("url", ["http://example.com/a.mp4", "https://u:p@example.com/a.mp4", "https://[::1/a.mp4"])
def test_create_task_refuses_bad_https_urls(aws: Aws, url: str) -> None:
    status, body = _call("POST", "/api/create_task", {**VALID, "input": url})
    assert (status, body["code"]) == (400, 1002)
    assert "input" in body["msg"]


def test_a_transfer_that_breaks_off_is_input_not_found(aws: Aws, trusted: str) -> None:
    with pytest.raises(errors.InputNotFound, match="broke off"):
        fetch.stage(f"{trusted}/truncated", S3Location(aws.work_bucket, "tasks/x/source"), max_bytes=10**9)
