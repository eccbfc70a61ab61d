"""The HTTP API of local mode: requests become API Gateway (REST, proxy) events for the API function."""

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from localmode.functions import FunctionRegistry

API_HANDLER = "handlers.api.handler"
STAGE = "v1"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def to_rest_event(method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict[str, Any]:
    parts = urlsplit(target)
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
            "path": f"/{STAGE}{parts.path}",
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


def _event_body(body: bytes) -> tuple[str | None, bool]:
    """Text as it came; bytes that are not UTF-8 base64-encoded, as API Gateway passes binary bodies."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


class LocalHttpApi:
    def __init__(self, registry: FunctionRegistry, port: int) -> None:
        self.registry = registry
        self.function_name = registry.by_handler(API_HANDLER).name
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._request_handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="local-http-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "transcoder-local"

            def _dispatch(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._reply(413, {}, json.dumps({"message": "Request Too Long"}).encode())
                    return
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                event = to_rest_event(self.command, self.path, headers, body, self.client_address[0])
                payload, error = api.registry.invoke(api.function_name, event)
                if error:
                    # What API Gateway answers when the integration fails.
                    self._reply(502, {}, json.dumps({"message": "Internal server error"}).encode())
                    return
                response = json.loads(payload)
                response_headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
                for key, values in (response.get("multiValueHeaders") or {}).items():
                    response_headers[key] = ", ".join(str(v) for v in values)
                self._reply(
                    int(response.get("statusCode", 502)), response_headers, str(response.get("body") or "").encode()
                )

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            # Every method reaches the function, as through API Gateway's ANY method on /api/{proxy+}.
            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):
                    return self._dispatch
                raise AttributeError(name)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
