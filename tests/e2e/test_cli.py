"""The `transcoder` command as a user runs it (the installed console script), against local mode."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from localmode.media import probe_file
from tests.e2e.conftest import Local

COMMAND = Path(sys.executable).with_name("transcoder")


@pytest.fixture(scope="module")
def transcoder(local: Local, tmp_path_factory: pytest.TempPathFactory) -> Any:
    assert COMMAND.exists(), "the project installs the transcoder command (uv sync)"
    access_key_id, secret_access_key = local.access_key_id, local.secret_access_key
    environment = {
        **os.environ,
        # The settings a user of local mode exports; a config file must not leak in from the machine.
        "TRANSCODER_CONFIG": str(tmp_path_factory.mktemp("cli") / "config.toml"),
        "TRANSCODER_ENDPOINT": local.api_url,
        "TRANSCODER_ACCESS_KEY_ID": access_key_id,
        "TRANSCODER_SECRET_ACCESS_KEY": secret_access_key,
    }

    def run(*argv: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(COMMAND), *argv], env=environment, capture_output=True, text=True, timeout=300)
        assert done.returncode == expect, f"transcoder {' '.join(argv)}: {done.returncode}\n{done.stderr}"
        assert secret_access_key not in done.stdout + done.stderr
        return done

    return run


def test_create_wait_download_and_list(transcoder: Any, local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    started = int(time.time())
    input_url = local.upload(clips["720p"], "cli/clip.mp4")
    created = transcoder("-o", "json", "create", input_url, "cli/clip-360p", "-t", "MP4_264_360p", "--wait")
    task = json.loads(created.stdout)
    assert (task["status"], task["err_code"], task["progress"], task["objkey"]) == (
        "success",
        0,
        100,
        "cli/clip-360p.mp4",
    )
    assert "success" in created.stderr and "100%" in created.stderr, "progress is shown while waiting"

    downloaded = transcoder("download", task["task_id"], str(tmp_path))
    assert downloaded.stdout.strip() == str(tmp_path / "clip-360p.mp4")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "clip-360p.mp4").stat().st_mode & 0o777 == 0o666 & ~umask, "as any new file"
    source, output = probe_file(str(clips["720p"])), probe_file(str(tmp_path / "clip-360p.mp4"))
    assert (output.video_codec, output.width, output.height, output.audio_codec) == ("h264", 640, 360, "aac")
    assert abs(output.duration - source.duration) <= 1 / 30

    listed = json.loads(transcoder("-o", "json", "list", "--since", str(started - 1), "--status", "success").stdout)
    assert task["task_id"] in [entry["task_id"] for entry in listed["list"]]
    table = transcoder("list", "--since", "10m").stdout
    (row,) = [line for line in table.splitlines() if task["task_id"] in line]
    assert re.search(r" \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d ", row), "create_time in ISO 8601"
    empty = transcoder("list", "--since", "2002-01-01T00:00:00", "--until", "2002-01-02T00:00:00").stdout
    assert empty.startswith("no tasks from 2002-01-01T00:00:00")


def test_templates_list_shows_the_built_ins(transcoder: Any) -> None:
    listed = json.loads(transcoder("-o", "json", "templates", "list").stdout)
    names = {template["name"] for template in listed["list"]}
    assert {"MP4_264_360p", "MP4_264_1080p", "MP4_265_720p", "MP4_264_Original"} <= names
    shown = transcoder("templates", "show", "MP4_264_360p").stdout
    assert "builtin-MP4-264-360p" in shown


def test_a_failed_task_exits_3_and_an_unknown_task_exits_1(transcoder: Any, local: Local) -> None:
    missing = f"s3://{local.input_bucket}/cli/not-there.mp4"
    failed = transcoder("create", missing, "cli/never", "-t", "MP4_264_360p", "--wait", expect=3)
    assert "ended fail: 2001" in failed.stderr
    unknown = transcoder("query", "01m87ken790ez9c6fq6336xxkz", expect=1)
    assert "1004" in unknown.stderr and "HTTP 404" in unknown.stderr


def test_operators_manage_keys_and_a_disabled_key_is_refused(transcoder: Any, local: Local) -> None:
    """`transcoder --local` talks to the running local mode: keys in its emulator, API calls with its key.

    `--state-file` (which implies `--local`) names this test's instance instead of the checkout's."""
    state = str(local.state_file)
    created = transcoder("--state-file", state, "keys", "create", "--account", "acme", "--description", "e2e").stdout
    fields = dict(line.split(":", 1) for line in created.splitlines())
    access_key_id, secret = fields["access key id"].strip(), fields["secret access key"].strip()
    assert (len(access_key_id), len(secret), fields["account"].strip()) == (16, 32, "acme")
    listed = transcoder("--state-file", state, "keys", "list", "--account", "acme").stdout
    assert access_key_id in listed and secret not in listed

    as_acme = ("--access-key-id", access_key_id, "--secret-access-key", secret)
    templates = json.loads(transcoder("-o", "json", *as_acme, "templates", "list").stdout)
    assert templates["num"] >= 10
    # acme sees none of the default account's tasks.
    tasks = json.loads(transcoder("-o", "json", *as_acme, "list", "--since", "1d").stdout)
    assert tasks["total"] == 0

    transcoder("--state-file", state, "keys", "disable", access_key_id)
    refused = transcoder(*as_acme, "templates", "list", expect=1)
    assert "1003" in refused.stderr and "disabled" in refused.stderr
    transcoder("--state-file", state, "keys", "enable", access_key_id)
    transcoder(*as_acme, "templates", "list")
    # --local alone also gives the API URL and local mode's own key.
    own = json.loads(transcoder("--state-file", state, "-o", "json", "templates", "list").stdout)
    assert own["num"] == templates["num"]


def test_upload_from_disk_with_only_an_access_key(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    """An account with a key and no AWS credentials: `transcoder upload FILE --wait` ends success, its output is
    the clip transcoded, stored in the account's part of the output bucket."""
    created = subprocess.run(
        [str(COMMAND), "--state-file", str(local.state_file), "keys", "create", "--account", "uploader"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    key = {name.strip(): value.strip() for name, value in (line.split(":", 1) for line in created.splitlines())}
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "TRANSCODER_"))
    } | {
        "TRANSCODER_CONFIG": str(tmp_path / "config.toml"),
        "TRANSCODER_ENDPOINT": local.api_url,
        "TRANSCODER_ACCESS_KEY_ID": key["access key id"],
        "TRANSCODER_SECRET_ACCESS_KEY": key["secret access key"],
    }

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(COMMAND), *argv], env=environment, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"transcoder {' '.join(argv)}: {done.returncode}\n{done.stderr}"
        return done

    uploaded = run(
        "upload", str(clips["720p"]), "--template", "MP4_264_360p", "--output", "cli/up", "--wait", "-o", "json"
    )
    task = json.loads(uploaded.stdout)
    assert (task["status"], task["err_code"], task["objkey"]) == ("success", 0, "cli/up.mp4"), task
    assert task["input"].startswith(f"s3://{local.input_bucket}/accounts/uploader/uploads/")
    assert task["input"].endswith("/720p.mp4")
    assert "success" in uploaded.stderr and "100%" in uploaded.stderr, "progress is shown while waiting"
    assert local.s3.head_object(Bucket=local.output_bucket, Key="accounts/uploader/cli/up.mp4")

    run("download", task["task_id"], str(tmp_path))
    source, output = probe_file(str(clips["720p"])), probe_file(str(tmp_path / "up.mp4"))
    assert (output.video_codec, output.width, output.height, output.audio_codec) == ("h264", 640, 360, "aac")
    assert abs(output.duration - source.duration) <= 1 / 30
