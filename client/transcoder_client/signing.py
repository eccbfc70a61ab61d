"""Request signing for callers of this package: the protocol's own signer (transcoder_protocol.signing)."""

from transcoder_protocol.signing import (
    BROWSER_DATE_HEADER,
    NONCE_HEADER,
    SCHEME,
    authorization,
    canonical_headers,
    canonical_resource,
    content_md5,
    signature,
    signed_headers,
    string_to_sign,
)

__all__ = [
    "BROWSER_DATE_HEADER",
    "NONCE_HEADER",
    "SCHEME",
    "authorization",
    "canonical_headers",
    "canonical_resource",
    "content_md5",
    "signature",
    "signed_headers",
    "string_to_sign",
]
