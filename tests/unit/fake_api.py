"""A real HTTP server on 127.0.0.1 that records requests and answers from a script: the client's wire, seen."""

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    """The raw path with its query string, as it came on the request line."""
    headers: dict[str, str]
    """Names lower-cased: HTTP header names are case-insensitive (urllib sends `X-wz-nonce`)."""
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


def envelope(data: Any = None, code: int = 0, msg: str = "success", status: int = 200) -> Answer:
    body = {"code": code, "msg": msg, "data": data, "request_id": "req-1"}
    return Answer(status, json.dumps(body).encode())


Route = Callable[[Received], Answer]


@dataclass
class FakeApi:
    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def on(self, path: str, *answers: Answer) -> None:
        """Answer `path` (without the query) with these answers in turn, the last one repeated."""
        queue = list(answers)
        self.routes[path] = lambda _: queue.pop(0) if len(queue) > 1 else queue[0]


def serve() -> Iterator[FakeApi]:
    api: FakeApi

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received = Received(
                self.command,
                self.path,
                {name.lower(): value for name, value in self.headers.items()},
                self.rfile.read(length),
            )
            api.received.append(received)
            route = api.routes.get(self.path.split("?")[0])
            answer = route(received) if route else Answer(404, b"no route")
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api = FakeApi(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
