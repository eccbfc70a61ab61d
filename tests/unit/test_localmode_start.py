"""Local mode starts fast and fails clearly: the synthesized template is reused, a taken port is reported at once."""

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localmode import template
from localmode.ports import DEFAULT_API_PORT, DEFAULT_AWS_PORT, free_port
from localmode.settings import local_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files a synth depends on, in a folder of their own."""
    for name in ("TRANSCODER_SETTINGS", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "CDK_CONTEXT_JSON"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "infra" / "constructs").mkdir(parents=True)
    (tmp_path / "infra" / "app.py").write_text("app = 1\n")
    (tmp_path / "infra" / "constructs" / "api.py").write_text("stage = 'v1'\n")
    (tmp_path / "cdk.json").write_text('{"context": {"transcoder": {}}}')
    (tmp_path / "uv.lock").write_text("aws-cdk-lib 2.0\n")
    (tmp_path / "functions").mkdir()
    (tmp_path / "functions" / "handler.py").write_text("def handler(): ...\n")
    return tmp_path


def test_the_cache_key_changes_with_any_input_of_the_synth(checkout: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings: dict[str, Any] = {}
    first = template.synthesis_key(settings, checkout)
    assert template.synthesis_key(settings, checkout) == first, "stable across calls"
    changes = [
        lambda: (checkout / "infra" / "constructs" / "api.py").write_text("stage = 'v2'\n"),
        lambda: (checkout / "infra" / "constructs" / "new.py").write_text(""),
        lambda: (checkout / "cdk.json").write_text('{"context": {"transcoder": {"architecture": "arm64"}}}'),
        lambda: (checkout / "uv.lock").write_text("aws-cdk-lib 2.1\n"),
        lambda: settings.update(trusted_input_networks=("127.0.0.1/32",)),
        lambda: settings.update(max_input_seconds=60),
        lambda: settings.update(max_input_seconds=61),
        lambda: monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1"),
    ]
    seen = {first}
    for change in changes:
        change()
        key = template.synthesis_key(settings, checkout)
        assert key not in seen, "every change of an input gives a new key"
        seen.add(key)


def test_the_cache_key_is_the_effective_settings_wherever_they_were_set(
    checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$TRANSCODER_SETTINGS and --context are one set of settings: the key changes with either, not with the route."""
    (checkout / "cdk.json").write_text(json.dumps({"context": {"transcoder": {"max_input_seconds": 900}}}))

    def key(environment: dict[str, str], assignments: tuple[str, ...] = ()) -> str:
        settings = local_settings(assignments, environment, cdk_json=checkout / "cdk.json")
        return template.synthesis_key(settings, checkout)

    from_environment = key({"TRANSCODER_SETTINGS": '{"max_input_seconds": 60, "retain_data": false}'})
    from_command_line = key({}, ("retain_data=false", "max_input_seconds=60"))
    both = key({"TRANSCODER_SETTINGS": '{"max_input_seconds": 5, "retain_data": false}'}, ("max_input_seconds=60",))
    assert from_environment == from_command_line == both
    assert key({}) != key({}, ("max_input_seconds=61",)) != from_command_line
    assert key({"TRANSCODER_SETTINGS": '{"max_input_seconds": 61}'}) == key({}, ("max_input_seconds=61",))


def test_the_cache_key_ignores_what_local_mode_does_not_take_from_the_template(checkout: Path) -> None:
    before = template.synthesis_key({}, checkout)
    # Handlers run from the source: only the assets' hashes depend on them, and local mode never reads those.
    (checkout / "functions" / "handler.py").write_text("def handler(): return 1\n")
    (checkout / "infra" / "__pycache__").mkdir()
    (checkout / "infra" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00")
    assert template.synthesis_key({}, checkout) == before


def test_a_cached_template_is_reused_without_a_synth(tmp_path: Path) -> None:
    cached = {"Resources": {}, "Description": "from the cache"}
    (tmp_path / f"{template.synthesis_key({})}.template.json").write_text(json.dumps(cached))
    started = time.monotonic()
    assert template.synthesize({}, cache_dir=tmp_path) == cached
    assert time.monotonic() - started < 1, "no synth (it takes 35-60 s)"


def test_the_default_ports_avoid_the_ones_other_tools_hold() -> None:
    assert DEFAULT_AWS_PORT not in (5000, 4566, 8000, 8081, 9000, DEFAULT_API_PORT)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(("flag", "variable"), [("API", "TRANSCODER_API_PORT"), ("AWS", "TRANSCODER_AWS_PORT")])
def test_a_port_in_use_is_reported_at_once_with_the_variable_to_change(
    busy_port: int, flag: str, variable: str, tmp_path: Path
) -> None:
    ports = {"API": free_port(), "AWS": free_port(), flag: busy_port}
    environment = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT / 'client'}:{ROOT}",
        "TRANSCODER_API_PORT": str(ports["API"]),
        "TRANSCODER_AWS_PORT": str(ports["AWS"]),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "localmode", "run", "--ready-file", str(tmp_path / "ready.json")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert done.returncode != 0
    assert f"port {busy_port} is in use: set {variable} to a free port" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 15, f"reported after {elapsed:.1f} s"
    assert not (tmp_path / "ready.json").exists()


def test_one_port_for_both_servers_is_refused_before_anything_starts() -> None:
    from localmode.stack import LocalStack

    port = free_port()
    with pytest.raises(SystemExit, match=f"TRANSCODER_API_PORT and TRANSCODER_AWS_PORT are both {port}"):
        LocalStack(api_port=port, aws_port=port).start()


def test_a_damaged_cached_template_is_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    damaged = tmp_path / f"{template.synthesis_key({})}.template.json"
    damaged.write_text('{"Resources": ')
    synthesized = {"Resources": {"Fresh": {}}}
    # The real synth takes a minute; this test is about what happens around it.
    monkeypatch.setattr(template, "_synthesize", lambda settings: synthesized)
    assert template.synthesize({}, cache_dir=tmp_path) == synthesized
    assert json.loads(damaged.read_text()) == synthesized, "the cache holds the new synth"


def test_only_the_most_recent_templates_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for age in range(template.CACHE_KEEP + 2):
        old = tmp_path / f"old{age}.template.json"
        old.write_text("{}")
        os.utime(old, (time.time() - 100 - age, time.time() - 100 - age))
    monkeypatch.setattr(template, "_synthesize", lambda settings: {"Resources": {}})
    template.synthesize({}, cache_dir=tmp_path)
    kept = {path.name for path in tmp_path.glob("*.template.json")}
    expected = {f"{template.synthesis_key({})}.template.json"} | {f"old{age}.template.json" for age in range(3)}
    assert kept == expected
