"""Local mode's settings: `--context name=value` typed by DeploymentSettings' fields, merged over
$TRANSCODER_SETTINGS, and refused before any synth in one line naming the setting."""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from infra.settings import DeploymentSettings
from localmode import template
from localmode.settings import SettingError, local_settings, parse_assignment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cdk_json(tmp_path: Path) -> Path:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"transcoder": {"max_input_seconds": 900, "retain_data": True}}}))
    return path


def _as_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("field", dataclasses.fields(DeploymentSettings), ids=lambda field: field.name)
def test_every_setting_can_be_set_from_the_command_line(field: dataclasses.Field[Any]) -> None:
    """Settings added to DeploymentSettings come with a reading from text, or this fails naming them."""
    default = getattr(DeploymentSettings(), field.name)
    assert parse_assignment(f"{field.name}={_as_text(default)}") == (field.name, default)


@pytest.mark.parametrize(
    ("assignment", "typed"),
    [
        ("max_input_seconds=60", ("max_input_seconds", 60)),
        ("max_output_framerate=29.97", ("max_output_framerate", 29.97)),
        ("max_output_framerate=60", ("max_output_framerate", 60.0)),
        ("retain_data=false", ("retain_data", False)),
        ("retain_data=True", ("retain_data", True)),
        ("architecture=arm64", ("architecture", "arm64")),
        ("default_template=MP4_264_360p", ("default_template", "MP4_264_360p")),
        ("default_template=", ("default_template", "")),
        (
            "trusted_input_networks=10.0.0.0/8, 192.168.1.0/24",
            ("trusted_input_networks", ("10.0.0.0/8", "192.168.1.0/24")),
        ),
        ("extra_input_buckets=", ("extra_input_buckets", ())),
        ("extra_input_buckets=one", ("extra_input_buckets", ("one",))),
    ],
)
def test_values_are_typed_by_the_settings_field(assignment: str, typed: tuple[str, Any]) -> None:
    assert parse_assignment(assignment) == typed
    assert type(parse_assignment(assignment)[1]) is type(typed[1])


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("max_input_second=60", "unknown setting 'max_input_second'; the settings are architecture, api_memory_mb"),
        ("max_input_seconds=1.5", "max_input_seconds takes a whole number, not '1.5'"),
        ("max_input_seconds=", "max_input_seconds takes a whole number, not ''"),
        ("max_output_framerate=fast", "max_output_framerate takes a number, not 'fast'"),
        ("max_output_framerate=inf", "max_output_framerate takes a number"),
        ("retain_data=yes", "retain_data takes true or false, not 'yes'"),
        ("architecture=arm", "architecture takes one of x86_64, arm64, not 'arm'"),
        ("max_input_seconds", "expected name=value"),
        ("=60", "expected name=value"),
    ],
)
def test_a_wrong_name_or_type_is_refused_naming_the_setting(assignment: str, message: str, cdk_json: Path) -> None:
    with pytest.raises(SettingError) as refused:
        local_settings([assignment], {}, cdk_json)
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"--context {assignment}:")
    assert "\n" not in str(refused.value)


def test_the_command_line_wins_over_the_environment_and_only_the_overrides_are_returned(cdk_json: Path) -> None:
    environment = {"TRANSCODER_SETTINGS": json.dumps({"max_input_seconds": 60, "trusted_input_networks": ["::1/128"]})}
    settings = local_settings(["max_input_seconds=30", "retain_data=false"], environment, cdk_json)
    assert settings == {"max_input_seconds": 30, "trusted_input_networks": ("::1/128",), "retain_data": False}
    assert local_settings(["max_input_seconds=30", "max_input_seconds=20"], {}, cdk_json) == {"max_input_seconds": 20}
    assert local_settings([], {}, cdk_json) == {}, "cdk.json's own settings reach the synth through cdk.json"


@pytest.mark.parametrize(
    ("environment", "assignments", "message"),
    [
        ({}, ["api_memory_mb=100"], "api_memory_mb must be between 128 and 10240 (api_memory_mb=100 from --context)"),
        (
            {"TRANSCODER_SETTINGS": '{"log_retention_days": 5}'},
            [],
            "log_retention_days must be one of 1, 7, 14, 30, 90, 180, 365 "
            "(log_retention_days=5 from $TRANSCODER_SETTINGS)",
        ),
        (
            {},
            ["trusted_input_networks=10.0.0.0/8,not-a-network"],
            "trusted_input_networks: 'not-a-network' does not appear to be an IPv4 or IPv6 network",
        ),
        ({}, ["max_output_framerate=121"], "max_output_framerate must be between"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_the_setting_and_where_it_was_set(
    environment: dict[str, str], assignments: list[str], message: str, cdk_json: Path
) -> None:
    with pytest.raises(SettingError) as refused:
        local_settings(assignments, environment, cdk_json)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_checks_see_cdk_jsons_settings_too(cdk_json: Path) -> None:
    """A check across settings judges the effective ones: cdk.json's, under the overrides."""
    cdk_json.write_text(json.dumps({"context": {"transcoder": {"max_input_seconds": 0}}}))
    with pytest.raises(SettingError, match=r"max_input_seconds must be positive .*max_input_seconds=0 from cdk.json"):
        local_settings([], {}, cdk_json)
    assert local_settings(["max_input_seconds=10"], {}, cdk_json) == {"max_input_seconds": 10}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{", "TRANSCODER_SETTINGS is not JSON"),
        ('["max_input_seconds", 60]', "TRANSCODER_SETTINGS must be a JSON object of settings"),
        ('{"max_input_seconds": "60"}', 'TRANSCODER_SETTINGS: max_input_seconds takes a whole number, not "60"'),
        ('{"retain_data": 1}', "TRANSCODER_SETTINGS: retain_data takes true or false, not 1"),
        (
            '{"trusted_input_networks": "10.0.0.0/8"}',
            "TRANSCODER_SETTINGS: trusted_input_networks takes comma-separated",
        ),
        ('{"nope": 1}', "TRANSCODER_SETTINGS: unknown setting 'nope'"),
    ],
)
def test_the_environments_settings_are_typed_the_same_way(raw: str, message: str, cdk_json: Path) -> None:
    with pytest.raises(SettingError) as refused:
        local_settings([], {"TRANSCODER_SETTINGS": raw}, cdk_json)
    assert message in str(refused.value)


def test_the_repositorys_cdk_json_is_valid() -> None:
    assert local_settings([], {}) == {}


@pytest.mark.parametrize(
    ("command", "assignment", "message"),
    [
        ("run", "max_input_secondz=60", "error: --context max_input_secondz=60: unknown setting 'max_input_secondz'"),
        ("demo", "step_timeout_seconds=901", "error: step_timeout_seconds must be between 1 and 900"),
    ],
)
def test_local_mode_refuses_a_bad_setting_at_once_with_exit_code_2(
    command: str, assignment: str, message: str, tmp_path: Path
) -> None:
    """Before any synth (35-60 s) or server: one line, no traceback."""
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}:{ROOT / 'client'}:{ROOT}"}
    environment.pop("TRANSCODER_SETTINGS", None)
    extra = ["--ready-file", str(tmp_path / "ready.json")] if command == "run" else []
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "localmode", command, "--context", "retain_data=false", "--context", assignment, *extra],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 15, f"refused after {elapsed:.1f} s"
    assert not (tmp_path / "ready.json").exists()


def test_under_cdk_context_json_the_settings_are_checked_against_it_and_reach_the_synth_through_it(
    cdk_json: Path,
) -> None:
    """The app reads $CDK_CONTEXT_JSON over its own context, key by key: the settings must join it there."""
    deployed = {"transcoder": {"max_input_seconds": 0, "retain_data": False}, "other": 1}
    environment = {"CDK_CONTEXT_JSON": json.dumps(deployed)}
    with pytest.raises(SettingError, match=r"max_input_seconds=0 from \$CDK_CONTEXT_JSON"):
        local_settings([], environment, cdk_json)
    settings = local_settings(["max_input_seconds=60"], environment, cdk_json)

    synth = template.synth_environment(settings, environment)
    context = json.loads(synth["CDK_CONTEXT_JSON"])
    assert context == {"transcoder": {"max_input_seconds": 60, "retain_data": False}, "other": 1}
    assert "CDK_CONTEXT_JSON" not in template.synth_environment(settings, {})
    assert template.synth_environment({}, environment)["CDK_CONTEXT_JSON"] == environment["CDK_CONTEXT_JSON"]
