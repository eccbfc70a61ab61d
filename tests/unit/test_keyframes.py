"""The frame index probe on real files: exact timestamps, keyframes, and refusals with the contract's error."""

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from tests.frames import ffmpeg
from tests.https_site import serve_https
from transcoder.errors import InputNotDecodable
from transcoder.media.keyframes import probe_keyframes


def test_every_frame_and_keyframe_is_indexed_with_its_exact_time(tmp_path: Path) -> None:
    path = str(tmp_path / "clip.mp4")
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:duration=4", "-f", "lavfi", "-i", "sine=duration=4"),
        *("-c:v", "libx264", "-preset", "veryfast", "-g", "45", "-bf", "2", "-c:a", "aac", path),
    )
    index = probe_keyframes(path)
    assert index.frame_count == 120
    assert index.keyframe_times == [0, Fraction(3, 2), 3]
    assert index.frames.start == 0 and index.frames.end == 4
    assert list(index.frames.frame_pts) == sorted(index.frames.frame_pts)  # B-frames: presentation order
    assert index.audio_start == 0


def test_a_source_without_audio_has_no_audio_start(clip_without_audio: str) -> None:
    index = probe_keyframes(clip_without_audio)
    assert index.audio_start is None
    assert index.frame_count == 30


def test_a_file_that_is_not_media_is_not_decodable(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(InputNotDecodable, match="could not be read"):
        probe_keyframes(str(path))


def test_an_audio_only_file_has_no_video_to_index(tmp_path: Path) -> None:
    path = str(tmp_path / "tone.m4a")
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", path)
    with pytest.raises(InputNotDecodable, match="no video stream"):
        probe_keyframes(path)


def test_indexing_that_takes_too_long_is_stopped(longer_clip: str) -> None:
    with pytest.raises(InputNotDecodable, match=r"time limit|within"):
        probe_keyframes(longer_clip, timeout_seconds=0.001)


def test_a_url_is_indexed_over_verified_tls_and_an_untrusted_peer_is_refused(
    tmp_path: Path, longer_clip: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(longer_clip, site / "clip.mp4")
    local = probe_keyframes(longer_clip)
    with serve_https(site) as (base_url, certificate):
        with pytest.raises(InputNotDecodable):
            probe_keyframes(f"{base_url}/clip.mp4")  # a self-signed peer nobody trusts
        monkeypatch.setenv("CA_BUNDLE", str(certificate))
        remote = probe_keyframes(f"{base_url}/clip.mp4")
    assert remote.frames == local.frames
