"""Serve one file over HTTP with byte ranges, as S3 serves a presigned URL, and count the GETs and bytes sent.

It runs as its own process (`python -m bench.http_source FILE`, printing its port), so that the file reads
it makes never count as reads of the measuring process or of the ffmpeg it measures. `GET /__counts`
answers the counts since the last call as JSON and starts counting again.
"""

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")
COUNTS_PATH = "/__counts"


@dataclass(frozen=True)
class Counts:
    gets: int
    bytes_sent: int


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.gets = 0
        self.bytes_sent = 0

    def add(self, gets: int = 0, sent: int = 0) -> None:
        with self._lock:
            self.gets += gets
            self.bytes_sent += sent

    def take(self) -> dict[str, int]:
        with self._lock:
            counts = {"gets": self.gets, "bytes_sent": self.bytes_sent}
            self.gets = self.bytes_sent = 0
        return counts


def _handler(path: str, counter: _Counter) -> type[BaseHTTPRequestHandler]:
    size = os.path.getsize(path)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # the bench's output is its JSON report

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def do_GET(self) -> None:
            if self.path.startswith(COUNTS_PATH):
                body = json.dumps(counter.take()).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            counter.add(gets=1)
            self._answer(send_body=True)

        def _answer(self, *, send_body: bool) -> None:
            first, last = 0, size - 1
            match = _RANGE.match(self.headers.get("Range", ""))
            if match:
                first = int(match.group(1))
                last = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            if first > last:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206 if match else 200)
            self.send_header("Accept-Ranges", "bytes")
            if self.close_connection:
                # The client asked to close (ffmpeg does): say so, or ffmpeg 8 reuses the closed connection for
                # its next seek and loses the packet there ("Error reading HTTP response: End of file").
                self.send_header("Connection", "close")
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(last - first + 1))
            if match:
                self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
            self.end_headers()
            if send_body:
                self._send(first, last - first + 1)

        def _send(self, offset: int, length: int) -> None:
            with open(path, "rb") as source:
                source.seek(offset)
                block = b""
                try:
                    while length > 0:
                        block = source.read(min(length, 256 * 1024))
                        if not block:
                            return
                        # Counted before it is written: a reader that has the bytes then asks for the counts
                        # must find them there.
                        counter.add(sent=len(block))
                        self.wfile.write(block)
                        length -= len(block)
                except (BrokenPipeError, ConnectionResetError):
                    counter.add(sent=-len(block))  # not sent after all
                    self.close_connection = True  # the reader had what it needed and hung up, as ffmpeg does

    return Handler


@contextmanager
def served(path: str) -> Iterator[tuple[str, "CountsReader"]]:
    """The file's URL on 127.0.0.1, and a reader of the counts, while a server process runs."""
    process = subprocess.Popen([sys.executable, "-m", "bench.http_source", path], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline()) if process.stdout else 0
        if not port:
            raise RuntimeError("the HTTP source server did not start")
        base = f"http://127.0.0.1:{port}"
        yield f"{base}/{os.path.basename(path)}", CountsReader(base)
    finally:
        process.terminate()
        process.wait(timeout=10)


class CountsReader:
    def __init__(self, base: str) -> None:
        self._url = base + COUNTS_PATH

    def take(self) -> Counts:
        """GETs and bytes sent since the last call."""
        with urllib.request.urlopen(self._url, timeout=10) as answer:  # noqa: S310 - our own server on loopback
            data = json.loads(answer.read())
        return Counts(gets=int(data["gets"]), bytes_sent=int(data["bytes_sent"]))


def main(path: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(path, _Counter()))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
