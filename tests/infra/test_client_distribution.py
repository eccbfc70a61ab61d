"""The client distribution alone, as a user installs it: a fresh virtual environment, nothing of the service."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.bundling import find_interpreter, find_uv

ROOT = Path(__file__).resolve().parents[2]
CLIENT_DIR = ROOT / "client"
SERVICE_MODULES = ("boto3", "botocore", "pydantic", "pynamodb", "aws_lambda_powertools", "transcoder", "handlers")
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# What a user's import and commands load, checked for the service's modules.
PROBE = f"""
import json, sys
import transcoder_client
from transcoder_client import cli, client, config, download, local, progress
cli.build_parser()
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SERVICE_MODULES!r})))
"""


def _clean_environment() -> dict[str, str]:
    """No PYTHONPATH (the tests' own points into the checkout) and no transcoder settings from the machine."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not name.startswith("TRANSCODER_")
    }


def _interpreters() -> list[object]:
    """Each supported CPython found on this machine (the running one at least); none is downloaded."""
    found = {f"{sys.version_info.major}.{sys.version_info.minor}": sys.executable}
    for version in SUPPORTED_PYTHONS:
        located = found.get(version) or find_interpreter(version)
        if located:
            found[version] = located
    return [pytest.param(found[version], id=f"python{version}") for version in sorted(found)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built by uv from client/ alone (its build backend from uv's cache once `make setup` has run)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [find_uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(CLIENT_DIR)],
        check=True,
        env=_clean_environment(),
        timeout=300,
    )
    (built,) = out.glob("transcoder_client-*.whl")
    return built


def test_the_wheel_holds_the_client_and_the_protocol_and_depends_on_nothing(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        requirements = [
            line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")
        ]
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"transcoder_client", "transcoder_protocol"}
    assert not any(name.startswith("transcoder_client/commands/keys") for name in names), "the service's command"
    assert len(requirements) == 1 and "tqdm" in requirements[0] and "extra == 'progress'" in requirements[0]


@pytest.mark.parametrize("python", _interpreters())
def test_installed_alone_it_runs_without_the_service(wheel: Path, python: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    environment = _clean_environment()
    # A plain venv of that Python; uv installs into it as pip would (pip's own bootstrap costs ~10 s a venv).
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True, env=environment, timeout=120)
    # --no-index: the wheel needs nothing else, so nothing is fetched (and this works offline).
    subprocess.run(
        [find_uv(), "pip", "install", "--quiet", "--no-index", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        env=environment,
        timeout=300,
    )
    command = str(venv / "bin" / "transcoder")

    shown = subprocess.run([command, "--version"], capture_output=True, text=True, env=environment, timeout=60)
    assert (shown.returncode, shown.stdout.strip()) == (0, f"transcoder {wheel.name.split('-')[1]}"), shown.stderr

    helped = subprocess.run([command, "--help"], capture_output=True, text=True, env=environment, timeout=60)
    assert helped.returncode == 0 and "templates" in helped.stdout, helped.stderr
    assert "keys" not in helped.stdout.split("positional arguments")[1].split("options")[0], "a service command"

    probed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE], capture_output=True, text=True, env=environment, timeout=60
    )
    assert probed.returncode == 0, probed.stderr
    assert json.loads(probed.stdout) == []

    # --local reads local mode's state file only: with nothing listening it fails as a client, not an import.
    state = tmp_path / "localmode.json"
    state.write_text(json.dumps({"api_url": "http://127.0.0.1:9", "access_key_id": "K" * 16, "secret_access_key": "s"}))
    local = subprocess.run(
        [command, "--state-file", str(state), "templates", "list", "--timeout", "2"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert local.returncode == 1 and "error: GET http://127.0.0.1:9/api/list_template" in local.stderr, local.stderr
    assert "Traceback" not in local.stderr


def test_the_project_s_own_environment_loads_no_service_module_for_the_client() -> None:
    """In the checkout's venv every service dependency is installed: the client still imports none of them
    (the operator's `keys`, registered by the project, imports the service only when it runs)."""
    probed = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{CLIENT_DIR}:{ROOT}"},
        timeout=60,
    )
    assert probed.returncode == 0, probed.stderr
    assert json.loads(probed.stdout) == []
