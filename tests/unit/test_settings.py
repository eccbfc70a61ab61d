"""Deployment settings: defaults, validation, and reading them from the CDK context."""

import dataclasses
from typing import Any

import aws_cdk as cdk
import pytest

from infra.settings import CONTEXT_KEY, DeploymentSettings


def test_defaults_are_valid() -> None:
    settings = DeploymentSettings()
    assert settings.architecture == "x86_64"
    assert 128 <= settings.api_memory_mb <= 10240
    assert 1 <= settings.step_timeout_seconds <= 900
    assert settings.log_retention_days in (1, 7, 14, 30, 90, 180, 365)
    assert 60 <= settings.presign_expiry_seconds <= 604800
    # Inputs of at least 4 hours: what one Lambda cannot encode in time goes in chunks.
    assert settings.max_input_seconds >= 4 * 3600
    assert settings.chunk_min_input_seconds < settings.step_timeout_seconds
    assert settings.extra_input_buckets == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"architecture": "arm64"},
        {"api_memory_mb": 128},
        {"transcode_memory_mb": 10240},
        {"step_timeout_seconds": 1},
        {"step_timeout_seconds": 900},
        {"ephemeral_storage_mib": 512},
        {"log_retention_days": 365},
        {"presign_expiry_seconds": 60},
        {"presign_expiry_seconds": 604800},
        {"retain_data": False, "extra_input_buckets": ("other-bucket",)},
        {"max_output_pixels": 1920 * 1080, "max_output_dimension": 1920, "max_output_framerate": 60},
        {"max_output_framerate": 29.97},
    ],
)
def test_valid_values_accepted(changes: dict[str, Any]) -> None:
    settings = DeploymentSettings(**changes)
    for name, value in changes.items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize(
    "changes",
    [
        {"architecture": "x86"},
        {"architecture": "ARM64"},
        {"architecture": ""},
        {"api_memory_mb": 127},
        {"step_memory_mb": 10241},
        {"transcode_memory_mb": 0},
        {"step_timeout_seconds": 0},
        {"step_timeout_seconds": 901},
        {"ephemeral_storage_mib": 511},
        {"ephemeral_storage_mib": 10241},
        {"log_retention_days": 0},
        {"log_retention_days": 31},
        {"log_retention_days": -1},
        {"presign_expiry_seconds": 59},
        {"presign_expiry_seconds": 604801},
        {"max_output_pixels": 255},
        {"max_output_dimension": 15},
        {"max_output_dimension": 16385},
        {"max_output_framerate": 0.5},
        {"max_output_framerate": 121},
    ],
)
def test_invalid_values_raise(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        DeploymentSettings(**changes)


def test_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DeploymentSettings().api_memory_mb = 1024  # type: ignore[misc]


def _app(context: dict[str, Any] | None) -> cdk.App:
    return cdk.App(context={CONTEXT_KEY: context} if context is not None else {})


def test_from_context_without_settings_gives_defaults() -> None:
    assert DeploymentSettings.from_context(_app(None)) == DeploymentSettings()
    assert DeploymentSettings.from_context(_app({})) == DeploymentSettings()


def test_from_context_reads_values() -> None:
    settings = DeploymentSettings.from_context(
        _app({"architecture": "arm64", "api_memory_mb": 1024, "extra_input_buckets": ["a-bucket", "b-bucket"]})
    )
    assert settings.architecture == "arm64"
    assert settings.api_memory_mb == 1024
    assert settings.extra_input_buckets == ("a-bucket", "b-bucket")
    assert settings.step_memory_mb == DeploymentSettings().step_memory_mb


def test_from_context_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="api_memory"):
        DeploymentSettings.from_context(_app({"api_memory": 1024}))


def test_from_context_validates_values() -> None:
    with pytest.raises(ValueError):
        DeploymentSettings.from_context(_app({"log_retention_days": 5}))


def test_output_limits_reach_the_functions_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the stack writes (MAX_OUTPUT_*) is what the functions read back."""
    from transcoder.settings import settings

    deployment = DeploymentSettings(max_output_pixels=1280 * 720, max_output_dimension=1280, max_output_framerate=50)
    monkeypatch.setenv("MAX_OUTPUT_PIXELS", str(deployment.max_output_pixels))
    monkeypatch.setenv("MAX_OUTPUT_DIMENSION", str(deployment.max_output_dimension))
    monkeypatch.setenv("MAX_OUTPUT_FRAMERATE", str(deployment.max_output_framerate))
    settings.cache_clear()
    try:
        assert settings().output_limits == deployment.output_limits()
    finally:
        settings.cache_clear()
