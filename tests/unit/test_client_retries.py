"""The client's retries: idempotent calls ride out lost answers, 5xx and 429; others are sent once."""

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.unit.fake_api import FakeApi, Received, envelope, serve
from transcoder_client.client import Client
from transcoder_client.errors import InternalError, NotFoundError, ThrottledError, TransportError
from transcoder_protocol import signing

AK = "AKEXAMPLE0000000"
SK = "0123456789abcdef0123456789abcdef"
TASK_ID = "01m87ken790ez9c6fq6336xxkz"
UNAVAILABLE = envelope(None, 1000, "internal error", status=503)
THROTTLED = envelope(None, 1007, "too many requests", status=429)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    yield from serve()


@pytest.fixture
def client(api: FakeApi) -> Client:
    return Client(api.url, AK, SK, timeout=5, retries=3, backoff=0.001)


def _signed_by_the_key(request: Received) -> bool:
    split = urlsplit(request.path)
    expected = signing.signed_headers(
        access_key_id=AK,
        secret_access_key=SK,
        method=request.method,
        path=split.path,
        query=parse_qsl(split.query, keep_blank_values=True),
        body=request.body or None,
        date=request.headers["date"],
        nonce=request.headers["x-wz-nonce"],
    )
    return expected["Authorization"] == request.headers["authorization"]


def test_a_read_is_retried_after_5xx_and_429_each_attempt_signed_anew(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", UNAVAILABLE, THROTTLED, envelope({"task_id": TASK_ID, "status": "running"}))
    assert client.query_task(TASK_ID)["status"] == "running"
    assert len(api.received) == 3
    assert all(_signed_by_the_key(request) for request in api.received)
    nonces = {request.headers["x-wz-nonce"] for request in api.received}
    assert len(nonces) == 3, "a resent request with the same nonce would be refused as a replay"


def test_a_read_gives_up_after_its_retries(api: FakeApi, client: Client) -> None:
    api.on("/api/list_template", THROTTLED)
    with pytest.raises(ThrottledError):
        client.list_templates()
    assert len(api.received) == 1 + client.retries


def test_client_errors_are_not_retried(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", envelope(None, 1004, "empty result", status=404))
    with pytest.raises(NotFoundError):
        client.query_task(TASK_ID)
    assert len(api.received) == 1


def test_a_delete_by_id_is_retried(api: FakeApi, client: Client) -> None:
    api.on("/api/del_task", UNAVAILABLE, envelope(None))
    client.delete_task(TASK_ID)
    assert [request.method for request in api.received] == ["DELETE", "DELETE"]
    assert {json.loads(request.body)["task_id"] for request in api.received} == {TASK_ID}


def test_create_task_without_a_client_token_is_sent_once(api: FakeApi, client: Client) -> None:
    """Sent again, a create that did reach the service would make a second task."""
    api.on("/api/create_task", UNAVAILABLE, envelope({"task_id": TASK_ID}))
    with pytest.raises(InternalError):
        client.create_task("s3://in/a.mp4", "out/a", template_name="MP4_264_360p")
    assert len(api.received) == 1


def test_create_task_with_a_client_token_is_retried_with_the_same_body(api: FakeApi, client: Client) -> None:
    """The API answers a repeated client_token with the first call's task (functions/handlers/client_token.py)."""
    api.on("/api/create_task", UNAVAILABLE, envelope({"task_id": TASK_ID}))
    created = client.create_task("s3://in/a.mp4", "out/a", template_name="MP4_264_360p", client_token="batch-7")
    assert created == {"task_id": TASK_ID}
    assert len(api.received) == 2 and api.received[0].body == api.received[1].body
    assert json.loads(api.received[1].body)["client_token"] == "batch-7"
    assert all(_signed_by_the_key(request) for request in api.received)


def test_other_changes_are_sent_once(api: FakeApi, client: Client) -> None:
    api.on("/api/cancel_task", UNAVAILABLE)
    api.on("/api/update_template", UNAVAILABLE)
    with pytest.raises(InternalError):
        client.cancel_task(TASK_ID)
    with pytest.raises(InternalError):
        client.update_template("mine", quality=7)
    assert [request.method for request in api.received] == ["POST", "PUT"]


def test_no_answer_is_retried_for_reads_only(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[int] = []
    monkeypatch.setattr(Client, "_delay", lambda self, attempt: waits.append(attempt) or 0.0)
    closed = Client("http://127.0.0.1:9", AK, SK, timeout=2, retries=2)
    with pytest.raises(TransportError, match="Connection refused"):
        closed.query_task(TASK_ID)
    assert waits == [0, 1]
    waits.clear()
    with pytest.raises(TransportError):
        closed.create_task("s3://in/a.mp4", "out/a", template_name="MP4_264_360p")
    assert waits == []


def test_backoff_is_exponential_with_full_jitter_and_a_ceiling() -> None:
    client = Client("http://127.0.0.1:9", AK, SK, backoff=0.5, max_backoff=3.0)
    for attempt, ceiling in ((0, 0.5), (1, 1.0), (2, 2.0), (3, 3.0), (8, 3.0)):
        delays = [client._delay(attempt) for _ in range(200)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > ceiling / 2 and min(delays) < ceiling / 2, "spread over [0, ceiling]"


def test_retries_can_be_turned_off(api: FakeApi) -> None:
    api.on("/api/query_task", UNAVAILABLE)
    with pytest.raises(InternalError):
        Client(api.url, AK, SK, retries=0).query_task(TASK_ID)
    assert len(api.received) == 1
