"""The API client for local mode: its URL and the access key local mode created (or imported) at start."""

from collections.abc import Mapping

from transcoder_client import Client


def local_credentials(info: Mapping[str, object]) -> tuple[str, str]:
    """Local mode's key pair, from LocalStack.describe() or the `--ready-file` JSON."""
    return str(info["access_key_id"]), str(info["secret_access_key"])


def local_client(info: Mapping[str, object], *, timeout: float = 30.0) -> Client:
    """A signed client of the local mode described by `info` (LocalStack.describe() or the ready file)."""
    access_key_id, secret_access_key = local_credentials(info)
    return Client(str(info["api_url"]), access_key_id, secret_access_key, timeout=timeout)
