"""Local mode's ports: checked before anything starts, so a port in use is reported at once."""

import socket

API_PORT_ENV = "TRANSCODER_API_PORT"
AWS_PORT_ENV = "TRANSCODER_AWS_PORT"
DEFAULT_API_PORT = 8080
DEFAULT_AWS_PORT = 5599
"""Not 5000 (macOS's AirPlay receiver and Flask's default), 4566 (LocalStack), 8000 (DynamoDB Local), 8081 or
9000 (MinIO): a port no common development tool claims, below Linux's ephemeral range (32768-60999), so an
outgoing connection never holds it either."""


class PortInUse(SystemExit):
    """A port local mode needs is taken: exits with a message naming the variable to change."""

    def __init__(self, port: int, variable: str) -> None:
        super().__init__(f"port {port} is in use: set {variable} to a free port")
        self.port = port
        self.variable = variable


def ensure_free(port: int, variable: str) -> None:
    """Bind the port on 127.0.0.1 as the servers will (SO_REUSEADDR: a closed socket's TIME_WAIT is no
    obstacle, a listener on 127.0.0.1 or on every address is), then release it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(port, variable) from None


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (the system picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
