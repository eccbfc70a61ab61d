"""README.md's fenced code blocks and their test markers, read when the tests run (so they check today's text).

A block is preceded by one of:
    <!-- readme-test: local -->          run as written, in document order, in one shell, against local mode
    <!-- readme-test: skip (reason) -->  not run: the reason says why (it needs AWS, it starts local mode itself)
Every `sh` block must carry one; `python` blocks are run when marked `local`.
"""

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
SHELL_LANGUAGES = ("sh", "bash", "shell")
_FENCE = re.compile(r"^```(\w*)\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<kind>local|skip)\s*(?:\((?P<reason>.*)\))?\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    """Line number of the opening fence in README.md."""
    marker: str | None
    """`local`, `skip` or None."""
    reason: str

    @property
    def is_shell(self) -> bool:
        return self.language in SHELL_LANGUAGES


def blocks(text: str | None = None) -> list[Block]:
    """The top-level fenced blocks (fences at the start of a line), with the marker on the line above."""
    lines = (README.read_text() if text is None else text).splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        previous = lines[index - 1] if index > 0 else ""
        marker = _MARKER.match(previous.strip())
        found.append(
            Block(
                language=opening[1],
                code="\n".join(lines[index + 1 : end]) + "\n",
                line=index + 1,
                marker=marker["kind"] if marker else None,
                reason=(marker["reason"] or "").strip() if marker else "",
            )
        )
        index = end + 1
    return found
