"""The transcoder command: argument parsing, exit codes, output formats, secrets never printed."""

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.unit.fake_api import Answer, FakeApi, envelope, serve
from transcoder_client.cli import COMMAND_MODULES, EXIT_ERROR, EXIT_TASK_FAILED, EXIT_USAGE, build_parser, main
from transcoder_client.commands.tasks import parse_time
from transcoder_client.progress import TaskProgress

SECRET = "cli-secret-cli-secret-cli-secret"
NOW = 1_764_000_000.0


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeApi]:
    for api in serve():
        monkeypatch.setenv("TRANSCODER_CONFIG", str(tmp_path / "absent.toml"))
        monkeypatch.setenv("TRANSCODER_ENDPOINT", api.url)
        monkeypatch.setenv("TRANSCODER_ACCESS_KEY_ID", "CLIKEY0000000000")
        monkeypatch.setenv("TRANSCODER_SECRET_ACCESS_KEY", SECRET)
        monkeypatch.delenv("TRANSCODER_PROFILE", raising=False)
        yield api


def test_create_needs_input_output_and_one_template() -> None:
    parser = build_parser()
    args = parser.parse_args(["create", "s3://in/a.mp4", "out/a", "--template", "MP4_264_360p", "--wait"])
    assert (args.input, args.output, args.template_name, args.template_id, args.wait) == (
        "s3://in/a.mp4", "out/a", "MP4_264_360p", None, True
    )  # fmt: skip
    for argv in (["create", "s3://in/a.mp4", "out/a"], ["create", "i", "o", "-t", "x", "--template-id", "y"]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(argv)
        assert exited.value.code == EXIT_USAGE


def test_global_options_and_list_defaults() -> None:
    args = build_parser().parse_args(["--endpoint", "http://h", "-o", "json", "--profile", "p", "list"])
    assert (args.endpoint, args.output_format, args.profile, args.count) == ("http://h", "json", "p", 50)
    assert 86400 <= args.until - args.since <= 86401, "the last 24 hours"
    assert abs(args.until - time.time()) < 5


def test_subcommands_come_from_the_module_registry() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices or {}  # type: ignore[union-attr]
    assert {"create", "query", "list", "watch", "download", "templates", "storages"} <= set(commands)
    assert all(callable(getattr(module, "register", None)) for module in COMMAND_MODULES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("24h", NOW - 86400),
        ("30m", NOW - 1800),
        ("7d", NOW - 7 * 86400),
        ("1764000000", 1764000000),
        ("2025-11-24T16:00:00+00:00", 1764000000),
        ("2025-11-24T17:00:00+01:00", 1764000000),
    ],
)
def test_times_for_list(text: str, expected: float) -> None:
    assert parse_time(text, now=NOW) == int(expected)


def test_a_bad_time_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["list", "--since", "yesterday"])
    assert exited.value.code == EXIT_USAGE
    assert "expected now, 30m/24h/7d ago, unix seconds or ISO 8601" in capsys.readouterr().err


def test_create_and_wait_shows_progress_and_exits_0_on_success(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on("/api/create_task", envelope({"task_id": "t1"}))
    api.on(
        "/api/query_task",
        envelope({"task_id": "t1", "status": "running", "progress": 50}),
        envelope({"task_id": "t1", "status": "success", "progress": 100, "err_code": 0}),
    )
    code = main(
        ["-o", "json", "create", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p", "--wait", "--interval", "0.01"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["status"] == "success"
    assert "running" in err and " 50%" in err and "100%" in err
    assert json.loads(api.received[0].body) == {
        "input": "s3://in/a.mp4",
        "output": "out/a",
        "template_name": "MP4_264_360p",
    }


@pytest.mark.parametrize("status", ["fail", "cancelled"])
def test_watch_exits_3_when_the_task_does_not_succeed(
    api: FakeApi, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    task = {"task_id": "t1", "status": status, "progress": 10, "err_code": 2002, "err_message": "not a video"}
    api.on("/api/query_task", envelope(task))
    assert main(["watch", "t1", "--no-progress"]) == EXIT_TASK_FAILED
    assert f"task t1 ended {status}: 2002 not a video" in capsys.readouterr().err


def test_api_errors_exit_1_with_code_and_message_and_never_the_secret(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on("/api/query_task", envelope(None, 1003, "auth fail: signature does not match", status=401))
    assert main(["query", "t1"]) == EXIT_ERROR
    out, err = capsys.readouterr()
    assert "1003 auth fail: signature does not match (HTTP 401, request_id req-1)" in err
    assert SECRET not in out + err


def test_missing_keys_is_a_usage_error(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRANSCODER_SECRET_ACCESS_KEY")
    assert main(["templates", "list"]) == EXIT_USAGE
    assert "TRANSCODER_SECRET_ACCESS_KEY" in capsys.readouterr().err
    assert api.received == [], "nothing is sent unsigned"


def test_flags_win_over_the_environment(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.on("/api/list_template", envelope({"list": [], "num": 0}))
    assert main(["--access-key-id", "FLAGKEY000000000", "templates", "list"]) == 0
    assert "AccessKeyId=FLAGKEY000000000," in api.received[0].headers["authorization"]


def test_list_sends_the_time_range_and_prints_a_table(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    task = {"task_id": "t1", "status": "success", "progress": 100, "create_time": 1764000000, "template_name": "X"}
    api.on("/api/list_task", envelope({"list": [task], "total": 1, "num": 1}))
    assert main(["list", "--since", "1764000000", "--until", "1764003600", "--status", "success"]) == 0
    query = dict(parse_qsl(urlsplit(api.received[0].path).query))
    assert query == {
        "start_time": "1764000000",
        "end_time": "1764003600",
        "status": "success",
        "start_num": "0",
        "count": "50",
    }
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "task_id",
        "status",
        "progress",
        "create_time",
        "template_name",
        "input",
        "objkey",
        "err_code",
    ]
    assert lines[1].split()[:3] == ["t1", "success", "100"]
    assert lines[-1].startswith("1 of 1 task(s)")


def test_list_all_follows_the_pages(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    page = [{"task_id": f"t{i}"} for i in range(3)]
    api.on(
        "/api/list_task",
        envelope({"list": page[:2], "total": 3, "num": 2}),
        envelope({"list": page[2:], "total": 3, "num": 1}),
    )
    assert main(["-o", "json", "list", "--all", "--count", "2"]) == 0
    assert [t["task_id"] for t in json.loads(capsys.readouterr().out)["list"]] == ["t0", "t1", "t2"]
    assert dict(parse_qsl(urlsplit(api.received[1].path).query))["start_num"] == "2"


def test_create_sends_the_cost_cap_it_is_given(api: FakeApi) -> None:
    api.on("/api/create_task", envelope({"task_id": "t1"}))
    assert main(["create", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p", "--max-cost", "0.05", "-q"]) == 0
    assert json.loads(api.received[0].body)["max_cost"] == 0.05


def test_templates_add_sends_only_the_given_fields(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.on("/api/add_template", envelope({"name": "mine", "template_id": "tpl-1"}))
    assert main(["templates", "add", "mine", "--resolution", "720p", "--quality", "7"]) == 0
    assert json.loads(api.received[0].body) == {"name": "mine", "quality": 7, "resolution": "720p"}
    assert "template_id  tpl-1" in capsys.readouterr().out


def test_templates_take_fractional_frame_rates(api: FakeApi) -> None:
    api.on("/api/update_template", envelope({"name": "mine", "template_id": "tpl-1"}))
    assert main(["templates", "update", "mine", "--framerate", "29.97", "--gop-seconds", "0.5"]) == 0
    assert json.loads(api.received[0].body) == {"name": "mine", "framerate": 29.97, "gop_seconds": 0.5}


def test_templates_show_by_id_and_delete_by_name(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.on("/api/query_template", envelope({"name": "MP4_264_360p"}))
    api.on("/api/del_template", envelope(None))
    assert main(["templates", "show", "--id", "builtin-MP4-264-360p"]) == 0
    assert api.received[0].path == "/api/query_template?template_id=builtin-MP4-264-360p"
    assert main(["templates", "delete", "mine"]) == 0
    assert (api.received[1].method, json.loads(api.received[1].body)) == ("DELETE", {"name": "mine"})


def test_storages_types_needs_no_keys(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRANSCODER_ACCESS_KEY_ID")
    api.on("/api/list_storage_type", envelope({"list": ["s3", "oss", "obs"], "num": 3}))
    assert main(["storages", "types"]) == 0
    assert capsys.readouterr().out.split() == ["s3", "oss", "obs"]


def test_storages_add_reads_the_buckets_secret_from_the_environment_only(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.on("/api/add_storage", envelope({"storage_id": "st-1"}))
    argv = ["storages", "add", "--type", "oss", "--region", "cn-hangzhou", "--bucket", "b1", "--storage-ak", "AK1"]
    with pytest.raises(SystemExit, match="TRANSCODER_STORAGE_SK"):
        main(argv)
    with pytest.raises(SystemExit):  # keys are required: the service's credentials act only for `default`
        main(argv[:-2])
    assert "--storage-ak" in capsys.readouterr().err
    monkeypatch.setenv("TRANSCODER_STORAGE_SK", "bucket-secret")
    assert main(argv) == 0
    sent = json.loads(api.received[0].body)
    assert (sent["storage_ak"], sent["storage_sk"], sent["bucket"]) == ("AK1", "bucket-secret", "b1")
    assert "bucket-secret" not in capsys.readouterr().out


def test_download_prints_the_files_written(api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    done = {"task_id": "t1", "status": "success", "objkey": "o/clip.mp4", "output_url": api.url + "/file"}
    api.on("/api/query_task", envelope(done))
    api.on("/file", Answer(200, b"mp4 bytes", "video/mp4"))
    assert main(["download", "t1", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "clip.mp4")
    assert (tmp_path / "clip.mp4").read_bytes() == b"mp4 bytes"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere() -> None:
    updates = [("pending", 0), ("running", 40), ("running", 40), ("success", 100)]
    lines, terminal = io.StringIO(), _Terminal()
    for stream in (lines, terminal):
        with TaskProgress("t1", stream=stream) as progress:
            for status, percent in updates:
                progress({"status": status, "progress": percent})
    assert [line.split()[3:] for line in lines.getvalue().splitlines()] == [
        ["pending", "0%"], ["running", "40%"], ["success", "100%"]
    ], "one line per change"  # fmt: skip
    drawn = terminal.getvalue()
    assert "100%|" in drawn and "success" in drawn and "\r" in drawn, drawn


@pytest.mark.parametrize(
    "argv",
    [
        ["--local", "create", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p"],
        ["create", "--local", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p"],
        ["create", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p", "--local"],
    ],
)
def test_local_is_a_flag_that_never_takes_the_subcommand_as_its_value(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.local, args.state_file) == ("create", True, None)
    assert (args.input, args.output, args.template_name) == ("s3://in/a.mp4", "out/a", "MP4_264_360p")


@pytest.mark.parametrize(
    "argv",
    [
        ["--local", "keys", "list"],
        ["keys", "--local", "list"],
        ["keys", "list", "--local"],
    ],
)
def test_global_options_are_accepted_before_and_after_the_subcommand(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.command, args.keys_action, args.local) == ("keys", "list", True)


def test_an_option_given_before_the_subcommand_is_not_reset_by_the_subcommand() -> None:
    args = build_parser().parse_args(["-o", "json", "--endpoint", "http://h", "--local", "templates", "list"])
    assert (args.output_format, args.endpoint, args.local, args.timeout) == ("json", "http://h", True, 30.0)
    after = build_parser().parse_args(["templates", "list", "-o", "json", "--timeout", "5"])
    assert (after.output_format, after.timeout, after.local) == ("json", 5.0, False)


def test_the_state_file_comes_from_the_flag_then_the_environment_then_the_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRANSCODER_LOCAL_STATE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["--local", "templates", "list"]) == EXIT_USAGE
    assert ".cache/localmode.json not found" in capsys.readouterr().err
    monkeypatch.setenv("TRANSCODER_LOCAL_STATE", str(tmp_path / "from-env.json"))
    assert main(["templates", "list", "--local"]) == EXIT_USAGE
    assert "from-env.json not found" in capsys.readouterr().err
    # --state-file wins and implies --local.
    assert main(["templates", "list", "--state-file", str(tmp_path / "flag.json")]) == EXIT_USAGE
    assert "flag.json not found" in capsys.readouterr().err


def test_local_mode_s_state_gives_the_endpoint_and_key(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"api_url": api.url, "access_key_id": "LOCALKEY00000000", "secret_access_key": SECRET}))
    api.on("/api/list_template", envelope({"list": [], "num": 0}))
    assert main(["templates", "list", "--state-file", str(state), "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"list": [], "num": 0}
    assert "AccessKeyId=LOCALKEY00000000" in api.received[0].headers["authorization"]


def test_create_quiet_prints_only_the_task_id_even_when_waiting(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.on("/api/create_task", envelope({"task_id": "t1"}))
    api.on("/api/query_task", envelope({"task_id": "t1", "status": "success", "progress": 100, "err_code": 0}))
    assert main(["create", "s3://in/a.mp4", "out/a", "-t", "MP4_264_360p", "-q", "--wait", "--interval", "0.01"]) == 0
    assert capsys.readouterr().out == "t1\n"


def test_a_subcommand_s_own_option_wins_over_a_global_one_of_the_same_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from transcoder_client import cli

    class Mirror:
        """A command module whose subcommand has its own --output (as a future `export --output FILE` might)."""

        @staticmethod
        def register(subcommands: Any) -> None:
            subcommands.add_parser("mirror").add_argument("--output", dest="mirror_to")

    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, Mirror))
    args = cli.build_parser().parse_args(["-o", "json", "mirror", "--output", "here", "-o", "table", "--local"])
    assert (args.mirror_to, args.output_format, args.local) == ("here", "table", True)
