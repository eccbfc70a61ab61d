"""Client of the transcoding API: request signing, a Python client and the `transcoder` command."""

__version__ = "0.1.0"

from transcoder_client.client import Client, Response
from transcoder_client.errors import (
    ApiError,
    ClientError,
    ConfigError,
    IncompleteDownload,
    NotFoundError,
    ParamError,
    TaskFailed,
    TransportError,
)

__all__ = [
    "ApiError",
    "Client",
    "ClientError",
    "ConfigError",
    "IncompleteDownload",
    "NotFoundError",
    "ParamError",
    "Response",
    "TaskFailed",
    "TransportError",
    "__version__",
]
