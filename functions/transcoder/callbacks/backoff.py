"""When a failed callback is tried again: exponential backoff, for up to 24 hours after the transition."""

FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
"""An hour between late attempts: a receiver back after a long outage hears within the hour."""
MAX_AGE_SECONDS = 24 * 3600


def delay_after(attempt: int) -> int:
    """Seconds to wait after failed attempt number `attempt` (1-based): 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    return int(min(FIRST_DELAY_SECONDS * 2 ** (attempt - 1), MAX_DELAY_SECONDS))


def next_delay(attempt: int, age_seconds: float) -> int | None:
    """The delay before the next attempt, or None when that attempt would come after the 24 hours."""
    delay = delay_after(attempt)
    if age_seconds + delay > MAX_AGE_SECONDS:
        return None
    return delay
