"""The Python client on the wire: signed requests, unwrapped answers, typed errors, waiting, downloading."""

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.unit.fake_api import Answer, FakeApi, envelope, serve
from transcoder_client.client import Client
from transcoder_client.errors import (
    NOT_AN_API_RESPONSE,
    ApiError,
    ConfigError,
    DownloadError,
    IncompleteDownload,
    NotFoundError,
    ParamError,
    ThrottledError,
    TransportError,
)
from transcoder_protocol import signing

AK = "AKEXAMPLE0000000"
SK = "0123456789abcdef0123456789abcdef"
DATE = "Tue, 24 Nov 2026 22:00:00 GMT"
NONCE = "fixed-nonce"


@pytest.fixture
def api() -> Iterator[FakeApi]:
    yield from serve()


@pytest.fixture
def client(api: FakeApi) -> Client:
    return Client(api.url, AK, SK, timeout=5, backoff=0.001)


@pytest.fixture
def fixed_date_and_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "formatdate", lambda usegmt: DATE)
    monkeypatch.setattr(secrets, "token_hex", lambda _: NONCE)


def _verifies(received_method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
    """What a server does: recompute the signature from the request as received."""
    split = urlsplit(path)
    expected = signing.signed_headers(
        access_key_id=AK,
        secret_access_key=SK,
        method=received_method,
        path=split.path,
        query=parse_qsl(split.query, keep_blank_values=True),
        body=body or None,
        date=headers["date"],
        nonce=headers["x-wz-nonce"],
    )
    return expected["Authorization"] == headers["authorization"]


@pytest.mark.usefixtures("fixed_date_and_nonce")
def test_get_is_signed_over_its_query_with_exact_headers(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", envelope({"task_id": "01m87ken790ez9c6fq6336xxkz", "status": "pending"}))
    assert client.query_task("01m87ken790ez9c6fq6336xxkz")["status"] == "pending"
    (request,) = api.received
    assert (request.method, request.path, request.body) == (
        "GET",
        "/api/query_task?task_id=01m87ken790ez9c6fq6336xxkz",
        b"",
    )
    # HMAC-SHA1 of "GET\n\n\n<date>\nx-wz-nonce:fixed-nonce\n/api/query_task?task_id=...", computed apart.
    assert request.headers["authorization"] == f"Visionular AccessKeyId={AK}, Signature=nzRWS4VaB2mI3+DeaiZoolFkZTg="
    assert (request.headers["date"], request.headers["x-wz-nonce"]) == (DATE, NONCE)
    assert "content-md5" not in request.headers and "content-type" not in request.headers


@pytest.mark.usefixtures("fixed_date_and_nonce")
def test_post_signs_the_exact_body_bytes_it_sends(api: FakeApi, client: Client) -> None:
    api.on("/api/create_task", envelope({"task_id": "t1"}))
    created = client.create_task("s3://in/a b.mp4", "out/x", template_name="MP4_264_360p")
    assert created == {"task_id": "t1"}
    (request,) = api.received
    assert request.body == b'{"input":"s3://in/a b.mp4","output":"out/x","template_name":"MP4_264_360p"}'
    assert (
        request.headers["content-md5"]
        == hashlib.md5(request.body, usedforsecurity=False).hexdigest().upper()
        == "2872E2A7B6703A4A5D9FD4599F6A60C1"
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == f"Visionular AccessKeyId={AK}, Signature=4NB8H8f3CEOedfwrV4RgbeoHLcA="


@pytest.mark.usefixtures("fixed_date_and_nonce")
def test_query_values_are_signed_decoded_as_the_server_reads_them(api: FakeApi, client: Client) -> None:
    api.on("/api/query_template", envelope({"name": "a b&c/é"}))
    client.query_template(name="a b&c/é")
    (request,) = api.received
    assert request.path == "/api/query_template?name=a%20b%26c%2F%C3%A9"
    # Signed over "/api/query_template?name=a b&c/é", the decoded pair.
    assert request.headers["authorization"].endswith("Signature=GAsqhtP2VuOYg+NhEvYi3HoYzrk=")


def test_every_call_verifies_with_a_fresh_nonce(api: FakeApi, client: Client) -> None:
    for path in ("/api/list_task", "/api/update_template", "/api/del_storage"):
        api.on(path, envelope({"list": [], "num": 0}))
    client.list_tasks(1700000000, 1700003600, status="success", count=10)
    client.update_template("mine", quality=7, description="ünïcode")
    api.on("/api/del_storage", envelope(None))
    client.del_storage("st-1")
    assert [r.method for r in api.received] == ["GET", "PUT", "DELETE"]
    assert all(_verifies(r.method, r.path, r.headers, r.body) for r in api.received)
    assert len({r.headers["x-wz-nonce"] for r in api.received}) == 3
    assert dict(parse_qsl(urlsplit(api.received[0].path).query)) == {
        "start_time": "1700000000", "end_time": "1700003600", "status": "success", "start_num": "0", "count": "10"
    }  # fmt: skip
    assert json.loads(api.received[1].body) == {"name": "mine", "quality": 7, "description": "ünïcode"}


def test_the_endpoints_stage_is_in_the_url_but_the_api_path_is_signed(api: FakeApi) -> None:
    """API Gateway hands the function `/api/...` without the stage; that is what the verifier signs."""
    api.on("/prod/api/list_template", envelope({"list": [], "num": 0}))
    Client(api.url + "/prod/", AK, SK).list_templates()
    (request,) = api.received
    assert request.path == "/prod/api/list_template"
    assert _verifies("GET", "/api/list_template", request.headers, request.body)


def test_list_storage_type_is_sent_unsigned_and_needs_no_keys(api: FakeApi) -> None:
    api.on("/api/list_storage_type", envelope({"list": ["s3", "oss", "obs"], "num": 3}))
    assert Client(api.url).list_storage_types()["list"] == ["s3", "oss", "obs"]
    assert "authorization" not in api.received[0].headers
    with pytest.raises(ConfigError, match="no access key"):
        Client(api.url).list_storages()


def test_api_errors_are_typed_with_code_msg_status_and_request_id(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", envelope(None, 1004, "empty result: task 'x' does not exist", status=404))
    with pytest.raises(NotFoundError) as caught:
        client.query_task("x")
    error = caught.value
    assert (error.code, error.msg, error.http_status, error.request_id) == (
        1004, "empty result: task 'x' does not exist", 404, "req-1"
    )  # fmt: skip
    api.on("/api/create_task", envelope(None, 1001, "lack param: input", status=400))
    with pytest.raises(ParamError, match="1001 lack param: input"):
        client.create_task("", "x", template_name="t")


@pytest.mark.parametrize(
    ("answer", "http_status"),
    [
        (Answer(403, b'{"message": "Missing Authentication Token"}'), 403),  # API Gateway's own answer
        (Answer(502, b"<html>Bad Gateway</html>", "text/html"), 502),
        (Answer(200, b'{"code": 0, "msg": "success", "data": []}'), 200),  # data not an object
    ],
)
def test_answers_that_are_not_the_envelope_raise_not_an_api_response(
    api: FakeApi, client: Client, answer: Answer, http_status: int
) -> None:
    api.on("/api/list_template", answer)
    with pytest.raises(ApiError) as caught:
        client.list_templates()
    assert (caught.value.code, caught.value.http_status) == (NOT_AN_API_RESPONSE, http_status)


def test_no_answer_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match="Connection refused"):
        Client("http://127.0.0.1:9", AK, SK, timeout=2).query_task("x")


@pytest.mark.parametrize("endpoint", ["file:///etc/passwd", "ftp://example.com", "127.0.0.1:8080"])
def test_only_http_endpoints(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="http"):
        Client(endpoint, AK, SK)


def test_repr_never_shows_the_secret() -> None:
    assert SK not in repr(Client("http://127.0.0.1:1", AK, SK))


def _task(status: str, progress: int) -> Answer:
    return envelope({"task_id": "t1", "status": status, "progress": progress})


def test_wait_reports_progress_until_terminal_and_rides_out_throttling(api: FakeApi, client: Client) -> None:
    throttled = envelope(None, 1007, "too many requests", status=429)
    api.on("/api/query_task", _task("pending", 0), throttled, _task("running", 40), _task("success", 100))
    seen: list[tuple[str, int]] = []
    final = client.wait("t1", lambda t: seen.append((t["status"], t["progress"])), interval=0.01)
    assert final["status"] == "success"
    assert seen == [("pending", 0), ("running", 40), ("success", 100)]


def test_wait_returns_a_failed_task_and_raises_other_errors(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", _task("fail", 30))
    assert client.wait("t1", interval=0.01)["status"] == "fail"
    api.on("/api/query_task", envelope(None, 1004, "empty result", status=404))
    with pytest.raises(NotFoundError):
        client.wait("t1", interval=0.01)
    api.on("/api/query_task", envelope(None, 1007, "too many requests", status=429))
    with pytest.raises(ThrottledError):
        client.wait("t1", interval=0.001, transient_retries=2)


def test_wait_times_out(api: FakeApi, client: Client) -> None:
    api.on("/api/query_task", _task("running", 50))
    with pytest.raises(TimeoutError, match="still running"):
        client.wait("t1", interval=0.01, timeout=0.05)


def _done(api: FakeApi, objkey: str, **extra: str) -> dict[str, object]:
    return {"task_id": "t1", "status": "success", "objkey": objkey, "bucket": "out", "output_url": api.url + "/o"}


def test_download_streams_the_output_to_a_file_or_into_a_directory(
    api: FakeApi, client: Client, tmp_path: Path
) -> None:
    payload = os.urandom(3 << 20)
    api.on("/o", Answer(200, payload, "video/mp4"))
    task = _done(api, "clips/clip.mp4")
    assert client.download(task, str(tmp_path / "named.mp4")) == [str(tmp_path / "named.mp4")]
    assert client.download(task, str(tmp_path)) == [str(tmp_path / "clip.mp4")]
    assert (tmp_path / "named.mp4").read_bytes() == (tmp_path / "clip.mp4").read_bytes() == payload
    assert "authorization" not in api.received[0].headers, "a presigned URL carries its own signature"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "named.mp4"], "no partial files left"


def test_download_by_task_id_queries_the_task_first(api: FakeApi, client: Client, tmp_path: Path) -> None:
    api.on("/api/query_task", envelope(_done(api, "a.mp4")))
    api.on("/o", Answer(200, b"video", "video/mp4"))
    assert client.download("t1", str(tmp_path)) == [str(tmp_path / "a.mp4")]


def test_download_refuses_unfinished_tasks_and_non_http_urls(client: Client, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="running, not success"):
        client.download({"task_id": "t1", "status": "running", "output_url": ""}, str(tmp_path))
    with pytest.raises(ConfigError, match="http"):
        client.download({"status": "success", "objkey": "a.mp4", "output_url": "file:///etc/passwd"}, str(tmp_path))


def test_an_expired_url_is_a_download_error_that_does_not_echo_the_signature(
    api: FakeApi, client: Client, tmp_path: Path
) -> None:
    api.on("/o", Answer(403, b"<Error>AccessDenied</Error>", "application/xml"))
    task = _done(api, "a.mp4") | {"output_url": api.url + "/o?X-Amz-Signature=secretsig"}
    with pytest.raises(DownloadError) as caught:
        client.download(task, str(tmp_path))
    assert "secretsig" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_hls_downloads_the_playlist_and_names_the_segments_it_cannot_reach(
    api: FakeApi, client: Client, tmp_path: Path
) -> None:
    playlist = (
        b"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nclip_00000.ts\n#EXTINF:2.0,\nclip_00001.ts\n#EXT-X-ENDLIST\n"
    )
    api.on("/o", Answer(200, playlist, "application/vnd.apple.mpegurl"))
    with pytest.raises(IncompleteDownload) as caught:
        client.download(_done(api, "hls/clip.m3u8"), str(tmp_path))
    error = caught.value
    assert error.written == [str(tmp_path / "clip.m3u8")]
    assert (error.missing, error.location) == (["clip_00000.ts", "clip_00001.ts"], "s3://out/hls/")
    assert (tmp_path / "clip.m3u8").read_bytes() == playlist
