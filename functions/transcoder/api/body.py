"""The one parser of request bodies: JSON within bounds a request of this API never comes near.

Python's json module has no limits of its own: 1,000 nested arrays raise RecursionError, a 5,000-digit
integer raises ValueError (the interpreter's 4,300-digit guard), `1e400` becomes infinity and `NaN` is
accepted although JSON has no such token. Each of those would reach a route as an internal error or as
a number no field can hold; here each is refused with 1002 naming the problem.
"""

import json
import math
import re
from typing import Any

from transcoder.api.envelope import ApiCode, ApiError

MAX_BODY_CHARACTERS = 64 * 1024
"""The largest request (a template with every field at its maximum length) is under 8 KiB."""
MAX_DEPTH = 16
"""Nested arrays and objects; the contract's bodies are flat objects."""
MAX_NUMBER_CHARACTERS = 32
"""Digits of a number as written: a 10-digit time or a bitrate fits many times over."""

# JSON strings, so that brackets inside them are not counted as nesting.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class BodyRefused(ApiError):
    """A body that is JSON (or almost) but beyond what any route accepts: 1002, `body: <why>`."""

    def __init__(self, reason: str) -> None:
        super().__init__(ApiCode.BAD_PARAM, f"body: {reason}")


def parse_json_body(text: str) -> Any:
    """The body's value, or BodyRefused; text that is not JSON raises json.JSONDecodeError as json.loads does."""
    if len(text) > MAX_BODY_CHARACTERS:
        raise BodyRefused(f"must be at most {MAX_BODY_CHARACTERS} characters")
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise BodyRefused(f"arrays and objects nested {depth} deep (at most {MAX_DEPTH})")
    return json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)


def nesting_depth(text: str) -> int:
    """The deepest nesting of `[`/`{` outside strings, counted without recursion."""
    depth = deepest = 0
    for char in _STRING.sub('""', text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _check_length(literal: str) -> None:
    if len(literal) > MAX_NUMBER_CHARACTERS:
        raise BodyRefused(f"a number of {len(literal)} characters is out of range (at most {MAX_NUMBER_CHARACTERS})")


def _integer(literal: str) -> int:
    _check_length(literal)
    return int(literal)


def _float(literal: str) -> float:
    _check_length(literal)
    value = float(literal)
    if not math.isfinite(value):
        raise BodyRefused(f"the number {literal} is out of range")
    return value


def _constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON value")
