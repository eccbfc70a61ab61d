"""URLs whose host is a non-public address in disguise are refused by the request that names them (1002
naming the field), not accepted and failed later; callback_url refuses control characters too."""

import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call

DISGUISED_HOSTS = [
    "0x7f.1",
    "2130706433",
    "127.1",
    "0177.0.0.1",
    "127.0.0.1.",
    "[::1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::]",
    "[::a9fe:a9fe]",
    "[fec0::1]",
    "[fe80::1%25eth0]",
    "localhost",
    "localhost.",
    "metadata.localhost",
]


def _assert_refused(answer: tuple[int, dict[str, object]], field: str) -> None:
    status, body = answer
    assert (status, body["code"]) == (400, 1002), body
    assert str(body["msg"]).startswith(f"bad param: {field}: "), body["msg"]


@pytest.mark.parametrize("host", DISGUISED_HOSTS)
def test_create_task_refuses_disguised_hosts_in_input_and_callback(aws: Aws, host: str) -> None:
    _assert_refused(_call("POST", "/api/create_task", {**VALID, "input": f"https://{host}/a.mp4"}), "input")
    _assert_refused(
        _call("POST", "/api/create_task", {**VALID, "callback_url": f"https://{host}/hook"}), "callback_url"
    )


@pytest.mark.parametrize("host", ["127.1", "[64:ff9b::7f00:1]", "localhost."])
def test_templates_refuse_disguised_logo_hosts(aws: Aws, host: str) -> None:
    template = {"name": "branded", "resolution": "360p", "logo_path": f"https://{host}/logo.png"}
    _assert_refused(_call("POST", "/api/add_template", template), "logo_path")
    status, added = _call("POST", "/api/add_template", {"name": "branded", "resolution": "360p"})
    assert status == 200, added
    _assert_refused(
        _call("PUT", "/api/update_template", {"name": "branded", "logo_path": f"https://{host}/l.png"}), "logo_path"
    )


@pytest.mark.parametrize("host", ["2130706433", "[::ffff:127.0.0.1]", "[2002:7f00:1::]", "admin.localhost"])
def test_storages_refuse_disguised_notify_and_endpoint_hosts(aws: Aws, host: str) -> None:
    storage = {"type": "s3", "region": "us-east-1", "bucket": "my-media"}
    _assert_refused(_call("POST", "/api/add_storage", {**storage, "notify": f"https://{host}/hook"}), "notify")
    _assert_refused(_call("POST", "/api/add_storage", {**storage, "endpoint": f"https://{host}"}), "endpoint")


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/a\nb", "https://hooks.example.com/\ta", " https://x.example.com/"]
)
def test_callback_url_refuses_control_characters(aws: Aws, url: str) -> None:
    _assert_refused(_call("POST", "/api/create_task", {**VALID, "callback_url": url}), "callback_url")


def test_public_hosts_are_still_accepted(aws: Aws) -> None:
    status, body = _call("POST", "/api/create_task", {**VALID, "callback_url": "https://hooks.example.com/t?x=1"})
    assert (status, body["code"]) == (200, 0), body
