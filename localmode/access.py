"""The API client for local mode: its URL and the access key local mode accepts.

The one place local mode's key pair is read: from what local mode describes (LocalStack.describe(), the
`--ready-file` JSON) once it carries `access_key_id`/`secret_access_key`; until then from
$TRANSCODER_ACCESS_KEY_ID / $TRANSCODER_SECRET_ACCESS_KEY, else a placeholder pair of the contract's lengths
(16 and 32 characters) that only an unauthenticated local mode accepts.
"""

import os
from collections.abc import Mapping

from transcoder_client import Client

FALLBACK_ACCESS_KEY_ID = "local-access-key"
FALLBACK_SECRET_ACCESS_KEY = "local-mode-secret-not-a-real-key"  # noqa: S105 - a placeholder, not a credential


def local_credentials(info: Mapping[str, object]) -> tuple[str, str]:
    access_key_id = info.get("access_key_id") or os.environ.get("TRANSCODER_ACCESS_KEY_ID", FALLBACK_ACCESS_KEY_ID)
    secret_access_key = info.get("secret_access_key") or os.environ.get(
        "TRANSCODER_SECRET_ACCESS_KEY", FALLBACK_SECRET_ACCESS_KEY
    )
    return str(access_key_id), str(secret_access_key)


def local_client(info: Mapping[str, object], *, timeout: float = 30.0) -> Client:
    """A signed client of the local mode described by `info` (LocalStack.describe() or the ready file)."""
    access_key_id, secret_access_key = local_credentials(info)
    return Client(str(info["api_url"]), access_key_id, secret_access_key, timeout=timeout)
