"""A local HTTPS server that records the POSTs it receives: a callback receiver for the tests."""

import http.server
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    """https://127.0.0.1:<port>"""
    cert: Path
    """Its self-signed certificate: trust it with CA_BUNDLE."""
    received: list[Received] = field(default_factory=list)
    status: int = 200
    """What it answers to the next POSTs."""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class ReceiverServer:
    def __init__(self, folder: Path) -> None:
        cert, key = self_signed_certificate(folder)
        receiver_lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver_lock:
                    state.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                    status = state.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        state = Receiver(url=f"https://127.0.0.1:{self.server.server_address[1]}", cert=cert)
        self.state = state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
