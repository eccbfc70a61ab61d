"""The caller's account: set from the verified signature before any route runs."""

from typing import Any

ACCOUNT_KEY = "account_id"


def account_of(context: dict[str, Any]) -> str:
    """Every read and write of a route is scoped to this account (api.md, "Authentication")."""
    return str(context[ACCOUNT_KEY])
