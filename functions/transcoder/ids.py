"""Task ids: unique and sortable by creation time (ULID layout, Crockford base32)."""

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_task_id(now_ms: int | None = None) -> str:
    """26 characters: 48 bits of milliseconds, then 80 random bits.

    Lexical order is creation order to the millisecond; the id is a valid Step Functions
    execution name, so one task can never start two executions.
    """
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return _encode(millis, 10) + _encode(secrets.randbits(80), 16)


def is_task_id(value: str) -> bool:
    return len(value) == 26 and all(c in _ALPHABET for c in value)
