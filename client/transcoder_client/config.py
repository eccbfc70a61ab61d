"""Where the `transcoder` command finds its endpoint and keys: flag > environment > config file profile.

The config file (TOML, `~/.config/transcoder/config.toml`, or `$TRANSCODER_CONFIG`) holds one table per profile:

    [default]
    endpoint = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
    access_key_id = "AKEXAMPLE0000000"
    secret_access_key = "..."

    [local]
    endpoint = "http://127.0.0.1:8080"

The profile is `--profile`, else `$TRANSCODER_PROFILE`, else `default`.
"""

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcoder_client.errors import ConfigError

ENV_ENDPOINT = "TRANSCODER_ENDPOINT"
ENV_ACCESS_KEY_ID = "TRANSCODER_ACCESS_KEY_ID"
ENV_SECRET_ACCESS_KEY = "TRANSCODER_SECRET_ACCESS_KEY"  # noqa: S105 - the variable's name, not a secret
ENV_PROFILE = "TRANSCODER_PROFILE"
ENV_CONFIG = "TRANSCODER_CONFIG"
DEFAULT_PROFILE = "default"
_SETTINGS = ("endpoint", "access_key_id", "secret_access_key")


def default_config_path(environ: Mapping[str, str]) -> Path:
    if environ.get(ENV_CONFIG):
        return Path(environ[ENV_CONFIG]).expanduser()
    base = environ.get("XDG_CONFIG_HOME") or os.path.join(environ.get("HOME") or Path.home(), ".config")
    return Path(base) / "transcoder" / "config.toml"


@dataclass(frozen=True)
class Settings:
    endpoint: str | None
    access_key_id: str | None
    secret_access_key: str | None = field(repr=False)  # never printed, not even in a traceback's locals
    profile: str
    sources: dict[str, str]
    """Where each setting came from (`--endpoint`, `$TRANSCODER_ENDPOINT`, `<file> [profile]`): for messages."""
    warnings: list[str] = field(default_factory=list)


def resolve(
    *,
    endpoint: str | None = None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    config_path: Path | None = None,
) -> Settings:
    """Each setting from the first of: the flag given here, the environment, the profile in the config file."""
    environ = os.environ if environ is None else environ
    flags = {"endpoint": endpoint, "access_key_id": access_key_id, "secret_access_key": secret_access_key}
    variables = {
        "endpoint": ENV_ENDPOINT,
        "access_key_id": ENV_ACCESS_KEY_ID,
        "secret_access_key": ENV_SECRET_ACCESS_KEY,
    }
    chosen_profile = profile or environ.get(ENV_PROFILE) or DEFAULT_PROFILE
    path = config_path or default_config_path(environ)
    from_file, warnings = _profile_from_file(path, chosen_profile, explicit=bool(profile or environ.get(ENV_PROFILE)))
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for name in _SETTINGS:
        for value, source in (
            (flags[name], "--" + name.replace("_", "-")),
            (environ.get(variables[name]), "$" + variables[name]),
            (from_file.get(name), f"{path} [{chosen_profile}]"),
        ):
            if value:
                values[name], sources[name] = value, source
                break
        else:
            values[name] = None
    return Settings(
        endpoint=values["endpoint"],
        access_key_id=values["access_key_id"],
        secret_access_key=values["secret_access_key"],
        profile=chosen_profile,
        sources=sources,
        warnings=warnings,
    )


def _profile_from_file(path: Path, profile: str, *, explicit: bool) -> tuple[dict[str, str], list[str]]:
    if not path.exists():
        if explicit and profile != DEFAULT_PROFILE:
            raise ConfigError(f"profile {profile!r}: no config file at {path}")
        return {}, []
    try:
        with path.open("rb") as handle:
            document: dict[str, Any] = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    section = document.get(profile)
    if section is None:
        if explicit and profile != DEFAULT_PROFILE:
            raise ConfigError(f"{path}: no profile [{profile}] (profiles: {', '.join(sorted(document)) or 'none'})")
        return {}, []
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{profile}] must be a table")
    unknown = sorted(set(section) - set(_SETTINGS))
    if unknown:
        raise ConfigError(f"{path} [{profile}]: unknown setting(s) {', '.join(unknown)}")
    for name, value in section.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path} [{profile}]: {name} must be a string")
    warnings = []
    if section.get("secret_access_key") and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(f"{path} holds a secret and is readable by others: chmod 600 {path}")
    return dict(section), warnings
