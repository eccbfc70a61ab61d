"""The caller's account: set from the verified signature before any route runs."""

from typing import Any

ACCOUNT_KEY = "account_id"
ACCESS_KEY_ID_KEY = "access_key_id"


def account_of(context: dict[str, Any]) -> str:
    """Every read and write of a route is scoped to this account (api.md, "Authentication")."""
    return str(context[ACCOUNT_KEY])


def access_key_of(context: dict[str, Any]) -> str:
    """The access key that signed the request (tasks remember it, to sign their callbacks)."""
    return str(context[ACCESS_KEY_ID_KEY])
