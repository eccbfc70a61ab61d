"""The transcoder command's habits: --version, quiet exit into `head`, ISO 8601 times, one time-flag style,
empty results said, downloads readable like any file, a clean progress bar."""

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.unit.fake_api import Answer, FakeApi, envelope, serve
from transcoder_client.cli import EXIT_BROKEN_PIPE, EXIT_USAGE, build_parser, main
from transcoder_client.progress import TaskProgress

COMMAND = Path(sys.executable).with_name("transcoder")
CREATED = 1_764_000_000


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeApi]:
    for api in serve():
        monkeypatch.setenv("TRANSCODER_CONFIG", str(tmp_path / "absent.toml"))
        monkeypatch.setenv("TRANSCODER_ENDPOINT", api.url)
        monkeypatch.setenv("TRANSCODER_ACCESS_KEY_ID", "CLIKEY0000000000")
        monkeypatch.setenv("TRANSCODER_SECRET_ACCESS_KEY", "habits-secret-habits-secret-habi")
        monkeypatch.delenv("TRANSCODER_PROFILE", raising=False)
        yield api


def _iso(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds).astimezone().isoformat(timespec="seconds")


def test_version_is_the_distribution_s(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"transcoder {version('transcoder-client')}"


@pytest.mark.parametrize(
    "argv",
    [
        ["-o", "json", "--endpoint", "http://h", "--profile", "p", "summary"],
        ["summary", "-o", "json", "--endpoint", "http://h", "--profile", "p"],
        ["templates", "list", "--output", "json", "--endpoint", "http://h", "--profile", "p"],
    ],
)
def test_global_options_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.output_format, args.endpoint, args.profile) == ("json", "http://h", "p")


def test_piped_into_head_it_stops_quietly(api: FakeApi, tmp_path: Path) -> None:
    """`transcoder list | head -1`: the reader leaves early; no traceback, no "Broken pipe" message."""
    tasks = [{"task_id": f"t{n:05d}", "status": "success", "create_time": CREATED} for n in range(5000)]
    api.on("/api/list_task", envelope({"list": tasks, "total": len(tasks), "num": len(tasks)}))
    environment = {**os.environ, "PYTHONUNBUFFERED": ""}
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"'{COMMAND}' list --since 1d | head -n 1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.split()[:2] == ["task_id", "status"]
    assert done.stderr == "", done.stderr
    assert done.returncode == EXIT_BROKEN_PIPE, "as a command killed by SIGPIPE"


def test_tables_show_times_in_iso_8601_and_json_keeps_the_numbers(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    task = {"task_id": "t1", "status": "running", "create_time": CREATED, "finish_time": 0}
    api.on("/api/list_task", envelope({"list": [task], "total": 1, "num": 1}))
    api.on("/api/query_task", envelope(task))
    assert main(["list"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert _iso(CREATED) in row.split()
    assert main(["query", "t1"]) == 0
    shown = {
        name: value.strip() for name, _, value in (line.partition(" ") for line in capsys.readouterr().out.splitlines())
    }
    assert (shown["create_time"], shown["finish_time"]) == (_iso(CREATED), ""), "finish_time 0: not ended"
    assert main(["-o", "json", "query", "t1"]) == 0
    assert json.loads(capsys.readouterr().out)["create_time"] == CREATED


@pytest.mark.parametrize(
    ("argv", "answer_path", "said"),
    [
        (["list", "--since", "1h"], "/api/list_task", "no tasks from "),
        (["templates", "list"], "/api/list_template", "no templates"),
        (["storages", "list"], "/api/list_storage", "no storages"),
        (["summary"], "/api/list_summary", "no tasks in that range"),
    ],
)
def test_an_empty_result_says_so(
    api: FakeApi, capsys: pytest.CaptureFixture[str], argv: list[str], answer_path: str, said: str
) -> None:
    api.on(answer_path, envelope({"list": [], "total": 0, "num": 0}))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(said) and len(out.splitlines()) == 1, out
    assert main(["-o", "json", *argv]) == 0
    assert json.loads(capsys.readouterr().out)["list"] == [], "json stays the API's data"


def test_summary_takes_the_same_time_flags_as_list(api: FakeApi) -> None:
    api.on("/api/list_summary", envelope({"list": [], "num": 0}))
    for argv in (["summary"], ["summary", "--since", "3d", "--until", "2d"], ["summary", "--since", "20m"]):
        assert main(argv) == 0
    sent = [dict(parse_qsl(urlsplit(request.path).query)) for request in api.received]
    assert sent == [
        {"start_time": "24", "end_time": "0"},  # as `list`: the last 24 hours
        {"start_time": "72", "end_time": "48"},
        {"start_time": "1", "end_time": "0"},  # within the hour: that hour
    ]


def test_summary_s_first_flags_still_work_but_are_not_shown(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.on("/api/list_summary", envelope({"list": [], "num": 0}))
    assert main(["summary", "--from-hours", "48", "--to-hours", "24"]) == 0
    assert dict(parse_qsl(urlsplit(api.received[0].path).query)) == {"start_time": "48", "end_time": "24"}
    with pytest.raises(SystemExit) as exited:
        main(["summary", "--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert "--since" in help_text and "--from-hours" not in help_text
    assert main(["summary", "--from-hours", "72"]) == 0
    assert dict(parse_qsl(urlsplit(api.received[1].path).query)) == {"start_time": "72"}, "the API's default end"
    assert main(["summary", "--since", "2d", "--from-hours", "48"]) == EXIT_USAGE
    assert len(api.received) == 2


def test_a_download_is_readable_like_any_new_file(api: FakeApi, tmp_path: Path) -> None:
    done = {"task_id": "t1", "status": "success", "objkey": "o/clip.mp4", "output_url": api.url + "/file"}
    api.on("/api/query_task", envelope(done))
    api.on("/file", Answer(200, b"mp4 bytes", "video/mp4"))
    previous = os.umask(0o022)
    try:
        assert main(["download", "t1", str(tmp_path)]) == 0
    finally:
        os.umask(previous)
    assert (tmp_path / "clip.mp4").stat().st_mode & 0o777 == 0o644
    assert [path.name for path in tmp_path.iterdir()] == ["clip.mp4"], "no partial file left"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_has_no_stray_punctuation() -> None:
    terminal = _Terminal()
    with TaskProgress("t1", stream=terminal) as progress:
        for status, percent in (("pending", 0), ("running", 40), ("success", 100)):
            progress({"status": status, "progress": percent})
    frames = [frame.strip() for frame in terminal.getvalue().split("\r") if frame.strip()]
    assert frames[-1].startswith("t1 success") and "100%|" in frames[-1], frames
    assert not any(", " in frame or "[" in frame for frame in frames), frames
