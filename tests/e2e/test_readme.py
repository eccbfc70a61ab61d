"""README.md's commands, as written, against a running local mode (the blocks marked `readme-test: local`).

They run in document order in one bash session, as a user pastes them into one terminal: after the `export`
lines local mode's banner prints, in a folder laid out like the checkout (`.venv/` and a `clip.mp4`), with a
fresh HOME, without uv on PATH and without PYTHONPATH. curl fails on HTTP errors (`fail-with-body` in the
session's .curlrc), so an unsigned or refused request fails the test instead of printing a 401.
"""

import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

from localmode.media import generate_clip, probe_file
from tests.e2e.conftest import ROOT, Local
from tests.readme import blocks

BANNER_END = "Press Ctrl-C to stop."


def _banner_exports(local: Local) -> dict[str, str]:
    """The variables local mode's banner tells the user to export (the README's commands use them)."""
    log = local.state_file.with_name("local.log")
    deadline = time.monotonic() + 30
    while BANNER_END not in log.read_text():
        assert time.monotonic() < deadline, f"no banner in {log}"
        time.sleep(0.1)
    assert "uv run" not in log.read_text(), "the banner's commands work without uv on PATH"
    exports: dict[str, str] = {}
    for line in log.read_text().splitlines():
        if line.strip().startswith("export "):
            exports.update(word.split("=", 1) for word in shlex.split(line)[1:])
    return exports


def _path_without_uv() -> str:
    """A new user's PATH: no uv, and the project's .venv not activated."""
    venv_bin = str(ROOT / ".venv" / "bin")
    keep = [
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and entry != venv_bin and not os.access(os.path.join(entry, "uv"), os.X_OK)
    ]
    return os.pathsep.join(keep)


def _session_script(workdir: Path) -> str:
    script = ["set -euo pipefail"]
    for block in blocks():
        if block.marker != "local":
            continue
        script.append(f"echo '### README.md line {block.line}' >&2")
        if block.is_shell:
            script.append(block.code)
        elif block.language == "python":
            program = workdir / f"readme_line_{block.line}.py"
            program.write_text(block.code)
            script.append(f".venv/bin/python {program.name}")
        else:
            raise AssertionError(f"README.md line {block.line}: cannot run a {block.language!r} block")
    return "\n".join(script) + "\n"


def test_the_readme_s_commands_run_as_written(local: Local, tmp_path: Path) -> None:
    workdir, home = tmp_path / "checkout", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    (workdir / ".venv").symlink_to(ROOT / ".venv")
    generate_clip(str(workdir / "clip.mp4"), seconds=2, size="1280x720", rate=30)
    (home / ".curlrc").write_text("fail-with-body\n")

    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "TRANSCODER_", "CDK_", "CURL_", "XDG_")) and name != "PYTHONPATH"
    }
    exports = _banner_exports(local)
    assert {"AWS_ENDPOINT_URL", "TRANSCODER_LOCAL_STATE", "API", "INPUT", "AK", "SK"} <= set(exports), exports
    environment = {**inherited, **exports, "HOME": str(home), "PATH": _path_without_uv()}
    assert shutil.which("uv", path=environment["PATH"]) is None

    script = _session_script(workdir)
    done = subprocess.run(
        ["bash", "-c", script], cwd=workdir, env=environment, capture_output=True, text=True, timeout=600
    )
    where = done.stderr.rsplit("### ", 1)[-1].splitlines()[0] if "### " in done.stderr else "?"
    assert done.returncode == 0, f"failed in the block at {where}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    # What the walkthroughs say a user gets: the 360p output downloaded beside the clip.
    output = probe_file(str(workdir / "clip-360p.mp4"))
    assert (output.video_codec, output.width, output.height, output.audio_codec) == ("h264", 640, 360, "aac")
