"""`max_cost` (ext): the most a task may cost, in USD. One rule for the API, drops and account defaults.

Light on imports: the API function imports it at cold start.
"""

import math

MAX_COST_LIMIT = 1_000_000.0
"""Far above any task: a bound that keeps the field a plain number."""


def checked_max_cost(value: float) -> float:
    """A cap a task can have: a positive, finite number of dollars; ValueError saying why not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of dollars")
    if not math.isfinite(value) or not 0 < value <= MAX_COST_LIMIT:
        raise ValueError(f"must be a positive number of dollars, at most {MAX_COST_LIMIT:,.0f}")
    return float(value)


def exceeds(estimated: float, max_cost: float | None) -> bool:
    """Whether an estimate is over the cap (no cap: None or 0)."""
    return bool(max_cost) and estimated > float(max_cost or 0)
