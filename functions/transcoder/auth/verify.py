"""Verifying a signed request (api.md, "Authentication") before any route sees it.

Every failure is an AuthFailure whose message says what was wrong with the request, without
revealing whether an access key exists.
"""

import base64
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from transcoder_protocol import signing

MAX_CLOCK_SKEW_SECONDS = 15 * 60
MAX_NONCE_LENGTH = 128
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Requests that change state: without X-WZ-Nonce, their signature is claimed as the nonce. Reads stay
repeatable within the Date window (a replayed read only shows its sender what it was allowed to see)."""
SIGNATURE_NONCE_PREFIX = "signature:"
_AUTHORIZATION = re.compile(
    rf"^{signing.SCHEME} AccessKeyId=(?P<access_key_id>[A-Za-z0-9]{{1,64}}), ?"
    r"Signature=(?P<signature>[A-Za-z0-9+/=]{1,64})$"
)
_MD5_HEX = re.compile(r"^[0-9A-Fa-f]{32}$")


class AuthFailure(Exception):
    """The request is not signed by an enabled key: answered with 1003 (HTTP 401)."""


@dataclass(frozen=True)
class Caller:
    """Who signed a request: the key, and the account its requests act for."""

    account_id: str
    access_key_id: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes


def from_rest_event(event: Mapping[str, Any]) -> SignedRequest:
    """The parts of an API Gateway REST (v1) proxy event that the signature covers."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    multi_query: Mapping[str, Iterable[str]] = event.get("multiValueQueryStringParameters") or {}
    query = [(name, value) for name, values in multi_query.items() for value in values or ()]
    if not query:
        query = [(name, value) for name, value in (event.get("queryStringParameters") or {}).items()]
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    return SignedRequest(
        method=str(event.get("httpMethod", "")),
        path=str(event.get("path", "")),
        query=query,
        headers=headers,
        body=raw,
    )


def verify(
    request: SignedRequest,
    *,
    now: float,
    secret_of: Callable[[str], tuple[str, str] | None],
    claim_nonce: Callable[[str, str], bool],
) -> Caller:
    """The key that signed `request`, and its account; AuthFailure when it is not validly signed.

    `secret_of(access_key_id)` gives (account_id, secret) of an enabled key; `claim_nonce` records a
    nonce and says whether it was new. The nonce is claimed last, so unsigned requests cannot spend it. A
    state-changing request without X-WZ-Nonce spends its signature the same way.
    """
    authorization = request.headers.get("authorization", "")
    if not authorization:
        raise AuthFailure("Authorization header is missing")
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        raise AuthFailure(f"Authorization header must be '{signing.SCHEME} AccessKeyId=<AK>, Signature=<SIGN>'")
    date = _signed_date(request.headers)
    _check_date(date, now)
    content_md5, content_type = _body_headers(request)
    nonce = request.headers.get(signing.NONCE_HEADER.lower())
    if nonce is not None and not 1 <= len(nonce.strip()) <= MAX_NONCE_LENGTH:
        raise AuthFailure(f"X-WZ-Nonce must be 1 to {MAX_NONCE_LENGTH} characters")

    access_key_id = match["access_key_id"]
    found = secret_of(access_key_id)
    if found is None:
        raise AuthFailure(f"access key {access_key_id} is unknown or disabled")
    account_id, secret = found
    text = signing.string_to_sign(
        method=request.method,
        content_md5=content_md5,
        content_type=content_type,
        date=date,
        headers=request.headers,
        path=request.path,
        query=request.query,
    )
    if not hmac.compare_digest(signing.signature(secret, text), match["signature"]):
        raise AuthFailure("Signature does not match the request (see api.md for the string to sign)")
    if nonce is not None:
        if not claim_nonce(access_key_id, nonce.strip()):
            raise AuthFailure("X-WZ-Nonce was already used: a request may not be replayed")
    elif request.method.upper() in STATE_CHANGING_METHODS and not claim_nonce(
        access_key_id, SIGNATURE_NONCE_PREFIX + match["signature"]
    ):
        # The contract keeps the nonce optional; without one, the signature (which covers the Date, the
        # path, the query and the body's MD5) is spent instead: an exact copy is refused, a retry signed
        # again (a new Date, so a new signature) is served.
        raise AuthFailure(
            "replayed request: a request without X-WZ-Nonce that changes state may be sent once "
            "(sign a retry again, with a new Date, or send a fresh X-WZ-Nonce)"
        )
    return Caller(account_id=account_id, access_key_id=access_key_id)


def _signed_date(headers: Mapping[str, str]) -> str:
    """The request's date: X-WZ-Date (ext) when sent, else Date.

    Browsers may not set Date (a forbidden request header), so the web console sends X-WZ-Date; it takes
    Date's place in the string to sign (and, as an x-wz-* header, is signed among the canonical headers too).
    """
    return headers.get(signing.BROWSER_DATE_HEADER.lower()) or headers.get(signing.DATE_HEADER.lower(), "")


def _check_date(value: str, now: float) -> None:
    if not value:
        raise AuthFailure("Date header is missing (or X-WZ-Date, where a browser cannot set Date)")
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise AuthFailure("Date header must be an RFC 1123 date, e.g. 'Tue, 24 Nov 2026 08:00:00 GMT'") from exc
    if date.tzinfo is None:
        raise AuthFailure("Date header must be in GMT")
    if abs(date.timestamp() - now) > MAX_CLOCK_SKEW_SECONDS:
        raise AuthFailure("Date header is more than 15 minutes off the server's clock")


def _body_headers(request: SignedRequest) -> tuple[str, str]:
    """Content-MD5 and Content-Type as signed: empty without a body; with one, the MD5 must be the body's."""
    if not request.body:
        return "", ""
    content_md5 = request.headers.get("content-md5", "")
    if not content_md5:
        raise AuthFailure("Content-MD5 header is required with a body")
    if not _MD5_HEX.match(content_md5) or content_md5.upper() != signing.content_md5(request.body):
        raise AuthFailure("Content-MD5 does not match the body (upper-case hex MD5 of the exact bytes sent)")
    return content_md5, request.headers.get("content-type", "")
