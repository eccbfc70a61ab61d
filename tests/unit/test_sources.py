"""Reading inputs over the network: which ffmpeg options, and what never reaches a message."""

import pytest

from transcoder.media.encode_plan import EncodePlan
from transcoder.media.sources import reader_options, redact


def test_local_files_need_no_network_options() -> None:
    assert reader_options("/tmp/clip.mp4") == []


def test_http_gets_timeouts_and_reconnects_but_no_tls_options() -> None:
    options = reader_options("http://127.0.0.1:5000/bucket/key.mp4")
    assert options[options.index("-rw_timeout") + 1] == "30000000"
    assert "-reconnect" in options
    assert "-tls_verify" not in options


def test_https_verifies_the_peer_with_a_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CA_BUNDLE", raising=False)
    options = reader_options("https://bucket.s3.amazonaws.com/key.mp4?X-Amz-Signature=abc")
    assert options[options.index("-tls_verify") + 1] == "1"
    assert options[options.index("-ca_file") + 1].endswith("cacert.pem")
    monkeypatch.setenv("CA_BUNDLE", "/etc/pki/tls/certs/ca-bundle.crt")
    options = reader_options("https://bucket.s3.amazonaws.com/key.mp4")
    assert options[options.index("-ca_file") + 1] == "/etc/pki/tls/certs/ca-bundle.crt"


def test_options_come_before_the_input() -> None:
    url = "https://bucket.s3.amazonaws.com/key.mp4"
    command = EncodePlan(640, 360, 30.0, True, ["-c:v", "libx264"]).command("ffmpeg", url, "/tmp/out.mp4")
    assert command.index("-tls_verify") < command.index("-i") == command.index(url) - 1
    assert command[-1] == "/tmp/out.mp4"


def test_redact_removes_the_signed_url() -> None:
    url = "https://b.s3.amazonaws.com/k.mp4?X-Amz-Signature=secret"
    assert redact(f"{url}: Invalid data found", url) == "input: Invalid data found"
    assert redact("nothing to hide", "") == "nothing to hide"
