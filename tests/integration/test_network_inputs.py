"""ffprobe and ffmpeg read inputs over HTTPS with the peer verified, and never echo the URL."""

from pathlib import Path

import pytest

from transcoder.errors import InputNotDecodable, TranscodeFailed
from transcoder.media.encode import run_encode
from transcoder.media.encode_plan import plan_encode
from transcoder.media.probe import probe
from transcoder.templates import find_builtin


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
