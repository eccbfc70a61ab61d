"""Printing answers: `--output json` (the API's data, for scripts and jq) or `table` (for people)."""

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

FORMATS = ("table", "json")


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
            self._line(f"{name:<{width}}  {_cell(value)}")

    def rows(self, data: Any, columns: Sequence[str]) -> None:
        """A `{list, ...}` answer: the chosen columns of each entry, or the whole answer as JSON."""
        if self.format == "json":
            self._json(data)
            return
        entries = data.get("list", []) if isinstance(data, dict) else data
        table = [list(columns)] + [[_cell(entry.get(column)) for column in columns] for entry in entries]
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
