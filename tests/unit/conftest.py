"""Small real clips, generated once per session with the static ffmpeg."""

from pathlib import Path

import pytest

from localmode.media import generate_clip


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def clip_with_audio(clip_dir: Path) -> str:
    return generate_clip(str(clip_dir / "av.mp4"), seconds=1, size="320x240", audio=True)


@pytest.fixture(scope="session")
def clip_without_audio(clip_dir: Path) -> str:
    return generate_clip(str(clip_dir / "v.mp4"), seconds=1, size="320x240", audio=False)


@pytest.fixture(scope="session")
def longer_clip(clip_dir: Path) -> str:
    return generate_clip(str(clip_dir / "long.mp4"), seconds=3, size="320x240", audio=True)
