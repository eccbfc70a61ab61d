"""The HTTP API of local mode: requests become API Gateway (REST, proxy) events for the API function.

Served by waitress: its listener keeps a deep backlog and accepts every connection of a burst, and its
task queue holds requests while the API function (one Lambda environment) answers them one at a time.
"""

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from localmode.functions import FunctionRegistry

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

API_HANDLER = "handlers.api.handler"
CONSOLE_HANDLER = "handlers.console_site.handler"
STAGE = "v1"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def console_path(path: str) -> str:
    """Local mode serves the web console at / (the deployed API at /console/): its path as the function sees it."""
    return path if path == "/console" or path.startswith("/console/") else "/console" + path


def to_rest_event(method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict[str, Any]:
    parts = urlsplit(target)
    if not parts.path.startswith("/api/"):
        return _console_event(method, parts.path, headers, source_ip)
    query = parse_qs(parts.query, keep_blank_values=True)
    text, is_base64 = _event_body(body)
    return {
        "resource": "/api/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": parts.path.removeprefix("/api/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/api/{proxy+}",
            "httpMethod": method,
            # The path as the client requested it: local mode serves the API at the root, as a custom domain
            # does (on the execute-api host it is `/v1/api/...`); the documentation's links follow it.
            "path": parts.path,
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _console_event(method: str, path: str, headers: dict[str, str], source_ip: str) -> dict[str, Any]:
    """A request for the console's static files, as API Gateway passes it to the console's function."""
    function_path = console_path(path)
    resource = "/console" if function_path == "/console" else "/console/{file}"
    return {
        "resource": resource,
        "path": function_path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": None,
        "pathParameters": {"file": function_path.removeprefix("/console/")} if resource != "/console" else None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _event_body(body: bytes) -> tuple[str | None, bool]:
    """Text as it came; bytes that are not UTF-8 base64-encoded, as API Gateway passes binary bodies."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


# Sized for a burst of a few hundred clients at once: every connection is accepted and queued.
LISTEN_BACKLOG = 1024
CONNECTION_LIMIT = 1000
# Threads translating requests and answers; the API function itself runs one invocation at a time
# (FunctionRegistry), so more threads would only wait on it.
SERVER_THREADS = 4
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"})
_TOO_LONG = json.dumps({"message": "Request Too Long"}).encode()


class LocalHttpApi:
    def __init__(self, registry: FunctionRegistry, port: int) -> None:
        self.registry = registry
        self.function_name = registry.by_handler(API_HANDLER).name
        self.console_function_name = registry.by_handler(CONSOLE_HANDLER).name
        self._sockets: dict[int, Any] = {}
        self.server = _ApiServer(
            self,
            map=self._sockets,
            host="127.0.0.1",
            port=port,
            threads=SERVER_THREADS,
            backlog=LISTEN_BACKLOG,
            connection_limit=CONNECTION_LIMIT,
            # waitress answers 413 itself before reading a body over the limit (>= this size).
            max_request_body_size=MAX_BODY_BYTES + 1,
            asyncore_use_poll=True,  # select() stops at file descriptor 1024
            ident="transcoder-local",
        )
        # A burst fills the task queue on purpose: waitress's warning for each queued request is noise here.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="local-http-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=15)

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.2, map=self._sockets, use_poll=True, count=1)
        finally:
            # Sockets are closed by the thread that polls them: no other thread touches the socket map.
            self.server.close()
            self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            for channel in list(self._sockets.values()):
                channel.close()

    def __call__(self, environ: "WSGIEnvironment", start_response: "StartResponse") -> Iterable[bytes]:
        """The WSGI application: one request, one invocation of the API function."""
        body = environ["wsgi.input"].read()
        event = to_rest_event(
            environ["REQUEST_METHOD"], environ["REQUEST_URI"], _request_headers(environ), body, environ["REMOTE_ADDR"]
        )
        status, headers, answer = self._invoke(event, is_api=event["resource"] == "/api/{proxy+}")
        headers["Content-Length"] = str(len(answer))
        start_response(_status_line(status), list(headers.items()))
        return [answer]

    def _invoke(self, event: dict[str, Any], *, is_api: bool = True) -> tuple[int, dict[str, str], bytes]:
        function_name = self.function_name if is_api else self.console_function_name
        payload, error = self.registry.invoke(function_name, event)
        if error:
            # What API Gateway answers when the integration fails.
            return 502, {}, json.dumps({"message": "Internal server error"}).encode()
        response = json.loads(payload)
        headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        for key, values in (response.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        headers = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        return int(response.get("statusCode", 502)), headers, str(response.get("body") or "").encode()


def _request_headers(environ: "WSGIEnvironment") -> dict[str, str]:
    """Header names as a client writes them (WSGI upper-cases them; the handlers compare case-insensitively)."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        if value:
            headers[name.replace("_", "-").title()] = value
    return headers


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class _TooLongTask(ErrorTask):
    """API Gateway's own answer to a payload over its limit, instead of waitress's plain-text one."""

    def execute(self) -> None:
        if not isinstance(getattr(self.request, "error", None), RequestEntityTooLarge):
            super().execute()
            return
        self.status = "413 Payload Too Large"
        self.response_headers = [*self.response_headers, ("Content-Type", "application/json")]
        self.set_close_on_finish()
        self.content_length = len(_TOO_LONG)
        self.write(_TOO_LONG)


class _ApiChannel(HTTPChannel):
    error_task_class = _TooLongTask


class _ApiServer(TcpWSGIServer):
    channel_class = _ApiChannel
