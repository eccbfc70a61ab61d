"""The callback signature: `X-Transcoder-Signature: sha256=<hex HMAC-SHA256(SK, body)>`."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Transcoder-Signature"
EVENT_ID_HEADER = "X-Transcoder-Event-Id"


def sign(body: bytes, secret_access_key: str) -> str:
    digest = hmac.new(secret_access_key.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret_access_key: str, header_value: str) -> bool:
    """What a receiver does (README's snippet): constant-time comparison of the whole header value."""
    return hmac.compare_digest(sign(body, secret_access_key), header_value)


def headers(body: bytes, secret_access_key: str, event_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, secret_access_key),
        EVENT_ID_HEADER: event_id,
        "User-Agent": "transcoder-callbacks/1",
    }
