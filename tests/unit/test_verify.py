"""Request verification: every way a request can fail auth gives AuthFailure naming what was wrong."""

from email.utils import formatdate
from typing import Any

import pytest

from transcoder.auth.verify import AuthFailure, SignedRequest, from_rest_event, verify
from transcoder_protocol import signing

KEYS = {"AKIDACCOUNTA0001": ("account-a", "SecretA0123456789abcdefghijklmno")}
NOW = 1_795_424_400.0


class Nonces:
    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def claim(self, access_key_id: str, nonce: str) -> bool:
        if (access_key_id, nonce) in self.seen:
            return False
        self.seen.add((access_key_id, nonce))
        return True


def _request(
    *,
    method: str = "POST",
    path: str = "/api/create_task",
    query: list[tuple[str, str]] | None = None,
    body: bytes = b'{"a":1}',
    date: float = NOW,
    key: tuple[str, str] = ("AKIDACCOUNTA0001", "SecretA0123456789abcdefghijklmno"),
    nonce: str = "n-1",
) -> SignedRequest:
    headers = signing.signed_headers(
        access_key_id=key[0],
        secret_access_key=key[1],
        method=method,
        path=path,
        query=query or [],
        body=body,
        date=formatdate(date, usegmt=True),
        nonce=nonce,
    )
    return SignedRequest(method, path, query or [], {k.lower(): v for k, v in headers.items()}, body)


def _verify(request: SignedRequest, nonces: Nonces | None = None) -> str:
    caller = verify(request, now=NOW, secret_of=KEYS.get, claim_nonce=(nonces or Nonces()).claim)
    assert caller.access_key_id == "AKIDACCOUNTA0001"
    return caller.account_id


def _with(request: SignedRequest, **changes: Any) -> SignedRequest:
    fields = {**request.__dict__, **changes}
    return SignedRequest(**fields)


def test_a_signed_request_names_its_account() -> None:
    assert _verify(_request()) == "account-a"
    assert _verify(_request(method="GET", path="/api/list_task", query=[("b", "2"), ("a", "1")], body=b"")) == (
        "account-a"
    )


def _headers_without(request: SignedRequest, name: str) -> SignedRequest:
    return _with(request, headers={k: v for k, v in request.headers.items() if k != name})


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda r: _headers_without(r, "authorization"), "Authorization header is missing"),
        (lambda r: _with(r, headers={**r.headers, "authorization": "Bearer x"}), "Authorization header must be"),
        (lambda r: _headers_without(r, "date"), "Date header is missing"),
        (lambda r: _with(r, headers={**r.headers, "date": "yesterday"}), "RFC 1123"),
        (lambda r: _headers_without(r, "content-md5"), "Content-MD5 header is required"),
        (lambda r: _with(r, body=b'{"a":2}'), "Content-MD5 does not match the body"),
        (lambda r: _with(r, path="/api/del_task"), "Signature does not match"),
        (lambda r: _with(r, method="PUT"), "Signature does not match"),
        (lambda r: _with(r, query=[("extra", "1")]), "Signature does not match"),
        (lambda r: _with(r, headers={**r.headers, "x-wz-nonce": "other"}), "Signature does not match"),
        (lambda r: _with(r, headers={**r.headers, "x-wz-nonce": "n" * 129}), "X-WZ-Nonce must be"),
        (lambda r: _with(r, headers={**r.headers, "content-type": "text/plain"}), "Signature does not match"),
    ],
)
def test_tampered_requests_fail(tamper: Any, reason: str) -> None:
    with pytest.raises(AuthFailure, match=reason):
        _verify(tamper(_request()))


def test_unknown_key_and_wrong_secret() -> None:
    with pytest.raises(AuthFailure, match="unknown or disabled"):
        _verify(_request(key=("AKIDUNKNOWN00001", "SecretA0123456789abcdefghijklmno")))
    with pytest.raises(AuthFailure, match="Signature does not match"):
        _verify(_request(key=("AKIDACCOUNTA0001", "WrongSecret0123456789abcdefghijk")))


@pytest.mark.parametrize("offset", [-15 * 60 - 1, 15 * 60 + 1, -86400])
def test_a_date_more_than_15_minutes_off_fails(offset: int) -> None:
    with pytest.raises(AuthFailure, match="more than 15 minutes"):
        _verify(_request(date=NOW + offset))


@pytest.mark.parametrize("offset", [-15 * 60 + 1, 0, 15 * 60 - 1])
def test_a_date_within_15_minutes_passes(offset: int) -> None:
    assert _verify(_request(date=NOW + offset)) == "account-a"


def test_a_replayed_nonce_fails_but_only_a_valid_request_spends_it() -> None:
    nonces = Nonces()
    forged = _request(key=("AKIDACCOUNTA0001", "WrongSecret0123456789abcdefghijk"), nonce="once")
    with pytest.raises(AuthFailure):
        _verify(forged, nonces)
    request = _request(nonce="once")
    assert _verify(request, nonces) == "account-a"
    with pytest.raises(AuthFailure, match="already used"):
        _verify(request, nonces)


def test_the_nonce_is_optional() -> None:
    date = formatdate(NOW, usegmt=True)
    text = signing.string_to_sign(
        method="GET", content_md5="", content_type="", date=date, headers={}, path="/api/list_template"
    )
    sign = signing.signature("SecretA0123456789abcdefghijklmno", text)
    headers = {"date": date, "authorization": signing.authorization("AKIDACCOUNTA0001", sign)}
    assert _verify(SignedRequest("GET", "/api/list_template", [], headers, b"")) == "account-a"
    # Dropping a signed nonce changes the string to sign.
    with pytest.raises(AuthFailure, match="Signature does not match"):
        _verify(_headers_without(_request(), "x-wz-nonce"))


def _signed_without_nonce(method: str, path: str, date: float = NOW, body: bytes = b"") -> SignedRequest:
    """A request signed as the contract allows: no X-WZ-Nonce header at all."""
    when = formatdate(date, usegmt=True)
    md5, media_type = (signing.content_md5(body), "application/json") if body else ("", "")
    text = signing.string_to_sign(
        method=method, content_md5=md5, content_type=media_type, date=when, headers={}, path=path
    )
    sign = signing.signature("SecretA0123456789abcdefghijklmno", text)
    headers = {"date": when, "authorization": signing.authorization("AKIDACCOUNTA0001", sign)}
    if body:
        headers |= {"content-md5": md5, "content-type": media_type}
    return SignedRequest(method, path, [], headers, body)


@pytest.mark.parametrize(("method", "path"), [("POST", "/api/create_task"), ("PUT", "/api/update_template"),
                                              ("DELETE", "/api/del_task")])  # fmt: skip
def test_a_state_changing_request_without_nonce_is_served_once(method: str, path: str) -> None:
    nonces = Nonces()
    request = _signed_without_nonce(method, path, body=b'{"task_id":"x"}')
    assert _verify(request, nonces) == "account-a"
    with pytest.raises(AuthFailure, match=r"^replayed request"):
        _verify(request, nonces)
    # The client's retry, signed again a second later, is a new request.
    assert _verify(_signed_without_nonce(method, path, date=NOW + 1, body=b'{"task_id":"x"}'), nonces) == "account-a"


def test_reads_without_nonce_stay_repeatable() -> None:
    nonces = Nonces()
    request = _signed_without_nonce("GET", "/api/list_template")
    assert _verify(request, nonces) == _verify(request, nonces) == "account-a"
    assert nonces.seen == set()


def test_a_forged_request_without_nonce_spends_nothing() -> None:
    nonces = Nonces()
    forged = _with(_signed_without_nonce("POST", "/api/cancel_task"), body=b"{}")
    with pytest.raises(AuthFailure):
        _verify(forged, nonces)
    assert nonces.seen == set()


def test_rest_events_give_the_signed_parts() -> None:
    event = {
        "httpMethod": "GET",
        "path": "/api/list_task",
        "headers": {"Date": "d", "X-WZ-Nonce": "n"},
        "multiValueQueryStringParameters": {"status": ["success"], "a": ["2", "1"]},
        "queryStringParameters": {"status": "success", "a": "1"},
        "body": None,
        "isBase64Encoded": False,
    }
    request = from_rest_event(event)
    assert request.query == [("status", "success"), ("a", "2"), ("a", "1")]
    assert request.headers == {"date": "d", "x-wz-nonce": "n"}
    assert request.body == b""
    assert from_rest_event({**event, "body": "e30=", "isBase64Encoded": True}).body == b"{}"


def _signed_with_wz_date(date: float) -> SignedRequest:
    """Signed as the web console signs: the date in X-WZ-Date (browsers may not set Date)."""
    when = formatdate(date, usegmt=True)
    wz = {"x-wz-date": when, "x-wz-nonce": "console-1"}
    text = signing.string_to_sign(
        method="GET", content_md5="", content_type="", date=when, headers=wz, path="/api/list_template"
    )
    sign = signing.signature("SecretA0123456789abcdefghijklmno", text)
    return SignedRequest(
        "GET", "/api/list_template", [], {**wz, "authorization": signing.authorization("AKIDACCOUNTA0001", sign)}, b""
    )


def test_x_wz_date_takes_dates_place_for_browsers() -> None:
    assert _verify(_signed_with_wz_date(NOW)) == "account-a"


def test_a_stale_x_wz_date_fails_even_beside_a_fresh_date() -> None:
    stale = _signed_with_wz_date(NOW - 16 * 60)
    with pytest.raises(AuthFailure, match="15 minutes"):
        _verify(stale)
    # A replayer cannot refresh it with a Date header of its own: X-WZ-Date, the signed one, decides.
    with pytest.raises(AuthFailure, match="15 minutes"):
        _verify(_with(stale, headers={**stale.headers, "date": formatdate(NOW, usegmt=True)}))


def test_an_x_wz_date_changed_after_signing_fails() -> None:
    request = _signed_with_wz_date(NOW)
    moved = _with(request, headers={**request.headers, "x-wz-date": formatdate(NOW + 60, usegmt=True)})
    with pytest.raises(AuthFailure, match="Signature does not match"):
        _verify(moved)
