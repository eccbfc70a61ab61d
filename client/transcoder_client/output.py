"""Printing answers: `--output json` (the API's data, for scripts and jq) or `table` (for people)."""

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

FORMATS = ("table", "json")
TIME_FIELDS = frozenset({"create_time", "finish_time", "update_time", "hour"})
"""Fields the API gives in unix seconds: a table shows them in ISO 8601 (json keeps the API's numbers)."""


def iso_time(unix_seconds: float) -> str:
    """ISO 8601 in the local time zone, with its offset: `2026-11-30T15:04:05+01:00`."""
    return datetime.fromtimestamp(unix_seconds).astimezone().isoformat(timespec="seconds")


class Printer:
    def __init__(self, fmt: str = "table", stream: TextIO | None = None) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"output format {fmt!r}")
        self.format = fmt
        self.stream = stream or sys.stdout

    def item(self, data: Any) -> None:
        """One object (a task, a template): `field  value` lines, or its JSON."""
        if self.format == "json" or not isinstance(data, dict):
            self._json(data)
            return
        width = max((len(name) for name in data), default=0)
        for name, value in data.items():
            self._line(f"{name:<{width}}  {_cell(value, name)}")

    def rows(self, data: Any, columns: Sequence[str], *, empty: str = "nothing found") -> None:
        """A `{list, ...}` answer: the chosen columns of each entry, or the whole answer as JSON.

        With no entries a table says so (`empty`, e.g. "no tasks") rather than printing a lone header.
        """
        if self.format == "json":
            self._json(data)
            return
        entries = data.get("list", []) if isinstance(data, dict) else data
        if not entries:
            self._line(empty)
            return
        table = [list(columns)] + [[_cell(entry.get(column), column) for column in columns] for entry in entries]
        widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
        for row in table:
            self._line("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())

    def message(self, text: str) -> None:
        """A confirmation for people; in json mode nothing, so stdout stays parseable."""
        if self.format == "table":
            self._line(text)

    def _json(self, data: Any) -> None:
        self._line(json.dumps(data, indent=2, ensure_ascii=False))

    def _line(self, text: str) -> None:
        print(text, file=self.stream)


def _cell(value: Any, name: str = "") -> str:
    if value is None:
        return ""
    if name in TIME_FIELDS and isinstance(value, int | float) and not isinstance(value, bool):
        return iso_time(value) if value > 0 else ""  # finish_time is 0 until the task ends
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
