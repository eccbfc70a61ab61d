"""The request signature of api.md ("Authentication"): the client signs with it, the API verifies with it.

StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Date \\n CanonicalizedHeaders \\n CanonicalizedResource
Signature    = Base64(HMAC-SHA1(SK, UTF-8(StringToSign)))

Query values are signed as the server receives them: URL-decoded.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from email.utils import formatdate

SCHEME = "Visionular"
AUTHORIZATION_HEADER = "Authorization"
DATE_HEADER = "Date"
NONCE_HEADER = "X-WZ-Nonce"
BROWSER_DATE_HEADER = "X-WZ-Date"
"""(ext) The request's date where the sender cannot set Date (a browser): signed in Date's place."""
CONTENT_MD5_HEADER = "Content-MD5"
CONTENT_TYPE_HEADER = "Content-Type"
_SIGNED_HEADER_PREFIX = "x-wz-"


def content_md5(body: bytes) -> str:
    """Upper-case hex MD5 of the body, as the Content-MD5 header carries it."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest().upper()


def canonical_headers(headers: Mapping[str, str]) -> str:
    signed = sorted(
        (name.strip().lower(), value.strip())
        for name, value in headers.items()
        if name.strip().lower().startswith(_SIGNED_HEADER_PREFIX)
    )
    return "\n".join(f"{name}:{value}" for name, value in signed)


def canonical_resource(path: str, query: Iterable[tuple[str, str]] = ()) -> str:
    pairs = sorted(query)
    if not pairs:
        return path
    return path + "?" + "&".join(f"{name}={value}" for name, value in pairs)


def string_to_sign(
    *,
    method: str,
    content_md5: str,
    content_type: str,
    date: str,
    headers: Mapping[str, str],
    path: str,
    query: Iterable[tuple[str, str]] = (),
) -> str:
    return "\n".join(
        [method.upper(), content_md5, content_type, date, canonical_headers(headers), canonical_resource(path, query)]
    )


def signature(secret_access_key: str, text: str) -> str:
    digest = hmac.new(secret_access_key.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def authorization(access_key_id: str, sign: str) -> str:
    return f"{SCHEME} AccessKeyId={access_key_id}, Signature={sign}"


def signed_headers(
    *,
    access_key_id: str,
    secret_access_key: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    content_type: str = "application/json",
    date: str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that sign one request: Authorization, Date, X-WZ-Nonce and, with a body, Content-MD5."""
    headers = {DATE_HEADER: date or formatdate(usegmt=True), NONCE_HEADER: nonce or secrets.token_hex(16)}
    md5, media_type = "", ""
    if body:
        md5, media_type = content_md5(body), content_type
        headers |= {CONTENT_MD5_HEADER: md5, CONTENT_TYPE_HEADER: media_type}
    text = string_to_sign(
        method=method,
        content_md5=md5,
        content_type=media_type,
        date=headers[DATE_HEADER],
        headers={NONCE_HEADER: headers[NONCE_HEADER]},
        path=path,
        query=query,
    )
    headers[AUTHORIZATION_HEADER] = authorization(access_key_id, signature(secret_access_key, text))
    return headers
