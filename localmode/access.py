"""The API client for local mode: its URL and the access key local mode created (or imported) at start."""

from collections.abc import Mapping

from transcoder_client import Client


def local_client(info: Mapping[str, object], *, timeout: float = 30.0) -> Client:
    """A signed client of the local mode described by `info` (LocalStack.describe() or the ready file)."""
    return Client(str(info["api_url"]), str(info["access_key_id"]), str(info["secret_access_key"]), timeout=timeout)
