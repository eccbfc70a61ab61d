"""Log redaction: no URL in any log line keeps its query string, fragment or userinfo."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from transcoder.logs import RedactUrls, redact_urls, redact_value, service_logger


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("https://hooks.example.com/t?token=abc", "https://hooks.example.com/t?REDACTED"),
        ("https://user:pw@host.example.com:8443/a/b", "https://REDACTED@host.example.com:8443/a/b"),
        ("https://u@h.example.com?x=1#frag", "https://REDACTED@h.example.com?REDACTED"),
        ("https://h.example.com/a#access_token=xyz", "https://h.example.com/a#REDACTED"),
        ("s3://bucket/key.mp4", "s3://bucket/key.mp4"),
        ("http://b.s3.amazonaws.com/k?X-Amz-Signature=s&X-Amz-Credential=c", "http://b.s3.amazonaws.com/k?REDACTED"),
        ('{"notify":"https://x.example.com/h?token=abc","n":1}', '{"notify":"https://x.example.com/h?REDACTED","n":1}'),
        ("get https://a.example.com/v?sig=1 or https://b.example.com/w", "get https://a.example.com/v?REDACTED or https://b.example.com/w"),
        ("no url here ?token=abc", "no url here ?token=abc"),
    ],
)  # fmt: skip
def test_redact_urls(text: str, redacted: str) -> None:
    assert redact_urls(text) == redacted


def test_redact_value_walks_containers() -> None:
    value = {"a": ["https://u:p@h.example.com/x?t=1", 3], "b": ("https://h.example.com/?q",), "c": None}
    redacted = {
        "a": ["https://REDACTED@h.example.com/x?REDACTED", 3],
        "b": ("https://h.example.com/?REDACTED",),
        "c": None,
    }
    assert redact_value(value) == redacted


@pytest.fixture
def service_output() -> Iterator[io.StringIO]:
    """What the service logger's handler writes, captured."""
    handler = service_logger().registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    yield captured
    handler.setStream(previous)


SECRET_URL = "https://robot:hunter2@hooks.example.com/notify?token=s3cr3t#frag-secret"


def _assert_clean(text: str) -> None:
    for secret in ("robot", "hunter2", "s3cr3t", "frag-secret"):
        assert secret not in text, text


def test_service_lines_are_redacted_in_message_extra_and_traceback(service_output: io.StringIO) -> None:
    logger = service_logger()
    logger.warning(f"calling {SECRET_URL}", extra={"storage": {"notify": SECRET_URL, "list": [SECRET_URL]}})
    try:
        raise ValueError(f"could not reach {SECRET_URL}")
    except ValueError:
        logger.exception("failed")
    lines = [json.loads(line) for line in service_output.getvalue().splitlines()]
    assert lines[0]["storage"]["notify"] == "https://REDACTED@hooks.example.com/notify?REDACTED"
    assert "hooks.example.com/notify" in lines[1]["exception"]
    _assert_clean(service_output.getvalue())


def test_standard_loggers_of_the_service_are_redacted(service_output: io.StringIO) -> None:
    service_logger()
    logging.getLogger("transcoder.some_module").warning("fetching %s", SECRET_URL)
    assert "hooks.example.com/notify?REDACTED" in service_output.getvalue()
    _assert_clean(service_output.getvalue())


def test_other_libraries_lines_reaching_the_root_handlers_are_redacted() -> None:
    root = logging.getLogger()
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)  # as the Lambda runtime's handler on the root logger
    handler.setFormatter(logging.Formatter("%(message)s %(url)s"))
    root.addHandler(handler)
    try:
        service_logger()
        assert any(isinstance(f, RedactUrls) for f in handler.filters)
        library = logging.getLogger("urllib3.connectionpool")
        library.warning("retrying %s", SECRET_URL, extra={"url": SECRET_URL})
        try:
            raise ConnectionError(SECRET_URL)
        except ConnectionError:
            library.exception("gave up")
    finally:
        root.removeHandler(handler)
    assert "https://REDACTED@hooks.example.com/notify?REDACTED" in captured.getvalue()
    _assert_clean(captured.getvalue())
