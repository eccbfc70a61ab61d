"""`transcoder upload`'s arguments: its own --output (the output key) beside the global -o (the format)."""

from pathlib import Path

import pytest

from transcoder_client.cli import build_parser, main


def test_output_is_the_key_and_o_stays_the_format() -> None:
    args = build_parser().parse_args(["upload", "clip.mp4", "--output", "clips/x", "-o", "json", "--wait"])
    assert (args.file, args.output_key, args.output_format, args.wait) == ("clip.mp4", "clips/x", "json", True)
    args = build_parser().parse_args(["-o", "json", "upload", "clip.mp4", "-t", "MP4_264_360p"])
    assert (args.output_key, args.output_format, args.template_name) == (None, "json", "MP4_264_360p")


def test_template_name_and_id_exclude_each_other() -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["upload", "clip.mp4", "-t", "A", "--template-id", "B"])
    assert exited.value.code == 2


def test_a_missing_file_exits_1_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRANSCODER_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: no request may be made
    monkeypatch.setenv("TRANSCODER_ACCESS_KEY_ID", "AKEXAMPLE0000000")
    monkeypatch.setenv("TRANSCODER_SECRET_ACCESS_KEY", "x" * 32)
    monkeypatch.setenv("TRANSCODER_CONFIG", str(tmp_path / "none.toml"))
    assert main(["upload", str(tmp_path / "missing.mp4")]) == 1
    error = capsys.readouterr().err
    assert "missing.mp4" in error and "127.0.0.1:9" not in error, error
