"""Where the transcoder command's settings come from: flag > environment > config file profile."""

import os
from pathlib import Path

import pytest

from transcoder_client.config import default_config_path, resolve
from transcoder_client.errors import ConfigError

FILE = """
[default]
endpoint = "https://file.example/prod"
access_key_id = "FILEKEY000000000"
secret_access_key = "file-secret-file-secret-file-sec"

[local]
endpoint = "http://127.0.0.1:8080"
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(FILE)
    path.chmod(0o600)
    return path


def test_the_file_profile_fills_what_nothing_else_gives(config_file: Path) -> None:
    settings = resolve(environ={}, config_path=config_file)
    assert (settings.endpoint, settings.access_key_id, settings.secret_access_key) == (
        "https://file.example/prod", "FILEKEY000000000", "file-secret-file-secret-file-sec"
    )  # fmt: skip
    assert settings.sources["endpoint"] == f"{config_file} [default]"


def test_environment_beats_the_file_and_flags_beat_both(config_file: Path) -> None:
    environ = {"TRANSCODER_ENDPOINT": "http://env.example", "TRANSCODER_ACCESS_KEY_ID": "ENVKEY0000000000"}
    settings = resolve(environ=environ, config_path=config_file)
    assert (settings.endpoint, settings.access_key_id) == ("http://env.example", "ENVKEY0000000000")
    assert settings.secret_access_key == "file-secret-file-secret-file-sec", "each setting resolved on its own"
    flagged = resolve(endpoint="http://flag.example", environ=environ, config_path=config_file)
    assert (flagged.endpoint, flagged.access_key_id) == ("http://flag.example", "ENVKEY0000000000")
    assert flagged.sources == {
        "endpoint": "--endpoint",
        "access_key_id": "$TRANSCODER_ACCESS_KEY_ID",
        "secret_access_key": f"{config_file} [default]",
    }


def test_profile_from_flag_or_environment(config_file: Path) -> None:
    assert resolve(profile="local", environ={}, config_path=config_file).endpoint == "http://127.0.0.1:8080"
    by_env = resolve(environ={"TRANSCODER_PROFILE": "local"}, config_path=config_file)
    assert (by_env.profile, by_env.endpoint, by_env.access_key_id) == ("local", "http://127.0.0.1:8080", None)


def test_a_named_profile_that_does_not_exist_is_an_error(config_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no profile \[prod\] \(profiles: default, local\)"):
        resolve(profile="prod", environ={}, config_path=config_file)
    with pytest.raises(ConfigError, match="no config file"):
        resolve(profile="prod", environ={}, config_path=tmp_path / "missing.toml")
    assert resolve(environ={}, config_path=tmp_path / "missing.toml").endpoint is None, "no file, no default: fine"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[default]\nendpont = 'x'\n", "unknown setting"),
        ("[default]\nendpoint = 1\n", "must be a string"),
        ("default = 'x'\n", "must be a table"),
        ("[default\n", "not valid TOML"),
    ],
)
def test_malformed_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve(environ={}, config_path=path)


def test_a_secret_readable_by_others_is_warned_about(config_file: Path) -> None:
    config_file.chmod(0o644)
    assert "chmod 600" in resolve(environ={}, config_path=config_file).warnings[0]


def test_settings_never_show_the_secret(config_file: Path) -> None:
    assert "file-secret" not in repr(resolve(environ={}, config_path=config_file))


def test_default_path_and_its_overrides(tmp_path: Path) -> None:
    assert default_config_path({"HOME": "/home/u"}) == Path("/home/u/.config/transcoder/config.toml")
    assert default_config_path({"HOME": "/home/u", "XDG_CONFIG_HOME": "/x"}) == Path("/x/transcoder/config.toml")
    assert default_config_path({"TRANSCODER_CONFIG": str(tmp_path / "c.toml")}) == tmp_path / "c.toml"
    resolve(environ={"TRANSCODER_CONFIG": os.devnull})  # an empty file is a file without profiles


def test_client_from_profile_reads_the_command_s_config_file(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transcoder_client import Client

    for name in ("TRANSCODER_ENDPOINT", "TRANSCODER_ACCESS_KEY_ID", "TRANSCODER_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TRANSCODER_PROFILE", raising=False)
    monkeypatch.setenv("TRANSCODER_CONFIG", str(config_file))
    default = Client.from_profile()
    assert (default.endpoint, default.access_key_id) == ("https://file.example/prod", "FILEKEY000000000")
    assert Client.from_profile("local").endpoint == "http://127.0.0.1:8080"
    monkeypatch.setenv("TRANSCODER_PROFILE", "local")
    assert Client.from_profile().endpoint == "http://127.0.0.1:8080", "as the command: $TRANSCODER_PROFILE"
    with pytest.raises(ConfigError, match=r"no profile \[staging\]"):
        Client.from_profile("staging")


def test_client_from_profile_needs_an_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder_client import Client

    monkeypatch.delenv("TRANSCODER_ENDPOINT", raising=False)
    monkeypatch.delenv("TRANSCODER_PROFILE", raising=False)
    path = tmp_path / "config.toml"
    path.write_text('[keys-only]\naccess_key_id = "AK"\n')
    with pytest.raises(ConfigError, match=r"no endpoint.*\[keys-only\]"):
        Client.from_profile("keys-only", config_path=path)
