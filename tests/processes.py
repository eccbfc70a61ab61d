"""Which ffmpeg processes this test process has started and not yet reaped (from /proc)."""

import os
from pathlib import Path


def ffmpeg_children() -> list[int]:
    """Children of this process whose command is an ffmpeg, zombies included (not reaped = not cleaned up)."""
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue  # it ended while being read
        # The command name in `stat` is parenthesised and may hold spaces: the fields after it are fixed.
        parent = int(stat.rpartition(")")[2].split()[1])
        if parent == os.getpid() and (b"ffmpeg" in command or "ffmpeg" in stat.partition("(")[2]):
            found.append(int(entry.name))
    return found
