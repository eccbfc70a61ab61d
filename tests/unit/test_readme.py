"""README.md stands on its own: every shell block is run by tests/e2e/test_readme.py or says why not, no command
needs a tool a new user lacks, and every link stays in the repository."""

import re

from tests.readme import README, blocks

ROOT = README.parent


def test_every_shell_block_is_run_against_local_mode_or_says_why_not() -> None:
    shell = [block for block in blocks() if block.is_shell]
    assert shell, "the README has shell blocks"
    unmarked = [block.line for block in shell if block.marker is None]
    assert not unmarked, f"README.md lines {unmarked}: precede each with <!-- readme-test: local --> or skip (reason)"
    assert all(block.reason for block in shell if block.marker == "skip"), "a skipped block says why"
    assert sum(block.marker == "local" for block in shell) >= 5, "the walkthroughs run"


def test_no_command_needs_uv_on_the_path() -> None:
    """`make setup` keeps its own uv in .tools/; a new user has .venv/bin/transcoder, not `uv run`."""
    assert "uv run" not in README.read_text()


def test_links_stay_in_the_repository() -> None:
    text = README.read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    assert targets, "the README links to docs/api.md at least"
    for target in targets:
        if re.match(r"^[a-z]+://", target):
            continue
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"link {target} leaves the repository or is broken"
    assert "docs/api.md" in targets


def test_the_marker_parser_reads_kinds_and_reasons() -> None:
    text = "\n".join(
        ["<!-- readme-test: skip (needs AWS) -->", "```sh", "cdk deploy", "```", "", "```sh", "ls", "```", "  ```json"]
    )
    first, second = blocks(text)[:2]
    assert (first.marker, first.reason, first.code, first.line) == ("skip", "needs AWS", "cdk deploy\n", 2)
    assert (second.marker, second.code) == (None, "ls\n")
