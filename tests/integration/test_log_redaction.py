"""What the API function writes to its log never carries a URL's query string or userinfo."""

import io
import logging
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call

STORAGE = {
    "type": "s3",
    "region": "us-east-1",
    "bucket": "partner-media",
    "storage_ak": "AKIAPARTNERMEDIA0001",
    "storage_sk": "partner-media-secret-key-000000000000",
}


@pytest.fixture
def api_log() -> Iterator[io.StringIO]:
    """The lines the API function's logger writes (at INFO, as deployed), captured."""
    from handlers.api import logger

    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    captured = io.StringIO()
    previous = handler.setStream(captured)
    logger.setLevel("INFO")
    yield captured
    logger.setLevel("WARNING")
    handler.setStream(previous)


def test_the_storage_added_line_has_no_notify_token(aws: Aws, api_log: io.StringIO) -> None:
    notify = "https://hooks.example.com/t?token=n0tify-s3cret"
    status, body = _call("POST", "/api/add_storage", {**STORAGE, "notify": notify})
    assert (status, body["code"]) == (200, 0), body
    line = next(line for line in api_log.getvalue().splitlines() if "storage added" in line)
    assert "https://hooks.example.com/t?REDACTED" in line
    assert "n0tify-s3cret" not in api_log.getvalue()


def test_userinfo_and_queries_in_any_logged_url_are_redacted(aws: Aws, api_log: io.StringIO) -> None:
    from handlers.api import logger

    logger.info("calling", extra={"url": "https://robot:hunter2@hooks.example.com/x?sig=abc"})
    assert "https://REDACTED@hooks.example.com/x?REDACTED" in api_log.getvalue()
    assert "hunter2" not in api_log.getvalue() and "sig=abc" not in api_log.getvalue()
