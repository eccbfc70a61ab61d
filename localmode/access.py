"""Clients of a running local mode: the API's (its URL and the access key local mode created or imported at
start) and the emulator's AWS endpoint."""

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config

from transcoder_client import Client


def local_client(info: Mapping[str, object], *, timeout: float = 30.0) -> Client:
    """A signed client of the local mode described by `info` (LocalStack.describe() or the ready file)."""
    return Client(str(info["api_url"]), str(info["access_key_id"]), str(info["secret_access_key"]), timeout=timeout)


def emulator_client(info: Mapping[str, object], service: str, config: Config | None = None) -> Any:
    """A boto3 client of local mode's AWS endpoint, which takes any credentials (these exist nowhere else)."""
    make_client: Any = boto3.client  # one helper for every service: boto3's overloads want a literal name
    return make_client(
        service,
        endpoint_url=str(info["aws_endpoint_url"]),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the emulator's, not a secret
        config=config,
    )
