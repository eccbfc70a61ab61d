"""Per-account settings an operator sets (ext): today the default `max_cost` of the account's tasks.

Accounts exist through their access keys (transcoder.auth.keys), so their settings live in the key table too,
one item per account under the key `account#<account_id>`: an access key id is 16 upper-case letters and
digits, so the two never collide, and such an item has no secret (keys.enabled_secret never serves it).
"""

import os

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from transcoder import repository
from transcoder.cost_cap import checked_max_cost

ACCOUNT_ITEM_PREFIX = "account#"


class AccountModel(Model):
    class Meta:
        table_name = os.environ.get("KEYS_TABLE", "transcoder-keys")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    access_key_id = UnicodeAttribute(hash_key=True)
    """`account#<account_id>`: the key table's hash key."""
    account_id = UnicodeAttribute()
    max_cost = NumberAttribute(default=0)
    """The cap of the account's tasks that give none; 0: none."""
    update_time = NumberAttribute()


def _item_key(account_id: str) -> str:
    if not account_id or len(account_id) > 64:
        raise ValueError("an account id is 1 to 64 characters")
    return ACCOUNT_ITEM_PREFIX + account_id


def default_max_cost(account_id: str) -> float | None:
    """The account's default cap, or None when it has none."""
    try:
        item = AccountModel.get(_item_key(account_id), consistent_read=True)
    except DoesNotExist:
        return None
    return float(item.max_cost) if item.max_cost else None


def set_max_cost(account_id: str, max_cost: float | None) -> None:
    """Set (a positive number of dollars) or clear (None) the account's default cap; ValueError when refused."""
    try:
        value = checked_max_cost(max_cost) if max_cost is not None else 0
    except ValueError as exc:
        raise ValueError(f"max_cost: {exc}") from exc
    AccountModel(_item_key(account_id), account_id=account_id, max_cost=value, update_time=repository.now()).save()
