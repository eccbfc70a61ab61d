"""ffprobe and ffmpeg read inputs over HTTPS with the peer verified, and never echo the URL."""

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localmode.media import generate_clip
from transcoder.errors import InputNotDecodable, TranscodeFailed
from transcoder.media.encode import run_encode
from transcoder.media.encode_plan import plan_encode
from transcoder.media.probe import probe
from transcoder.templates import find_builtin


@pytest.fixture(scope="module")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server with a self-signed certificate for 127.0.0.1, serving one clip."""
    folder = tmp_path_factory.mktemp("https")
    generate_clip(str(folder / "clip.mp4"), seconds=1, size="320x240", rate=25)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()


def test_https_input_with_a_trusted_certificate(https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base, cert = https_site
    monkeypatch.setenv("CA_BUNDLE", str(cert))
    media = probe(f"{base}/clip.mp4?X-Amz-Signature=secret-signature")
    assert media.video is not None
    assert (media.video.width, media.video.height) == (320, 240)


def test_untrusted_certificate_is_refused_without_echoing_the_url(https_site: tuple[str, Path]) -> None:
    base, _ = https_site
    with pytest.raises(InputNotDecodable) as raised:
        probe(f"{base}/clip.mp4?X-Amz-Signature=secret-signature")
    assert "secret-signature" not in str(raised.value)
    assert "127.0.0.1" not in str(raised.value)


def test_encode_from_https_and_failure_messages_hide_the_url(
    https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, cert = https_site
    monkeypatch.setenv("CA_BUNDLE", str(cert))
    url = f"{base}/clip.mp4?X-Amz-Signature=secret-signature"
    template = find_builtin(name="MP4_264_360p")
    assert template is not None
    plan = plan_encode(template, probe(url))
    run_encode(plan, url, str(tmp_path / "out.mp4"), duration=1.0, timeout_seconds=60)
    assert probe(str(tmp_path / "out.mp4")).video is not None

    missing = f"{base}/gone.mp4?X-Amz-Signature=secret-signature"
    with pytest.raises(TranscodeFailed) as raised:
        run_encode(plan, missing, str(tmp_path / "never.mp4"), duration=1.0, timeout_seconds=60)
    assert "secret-signature" not in str(raised.value)
