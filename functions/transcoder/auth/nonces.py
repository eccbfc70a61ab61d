"""Replay protection: a request's X-WZ-Nonce may be used once per access key (and so may the signature
of a state-changing request sent without one; see transcoder.auth.verify).

A nonce is remembered a little longer than a signed Date stays acceptable, after which a replay is
refused for its Date alone; DynamoDB's TTL then removes it.
"""

import os
from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from transcoder import repository

NONCE_LIFETIME_SECONDS = 2 * 15 * 60 + 60


class NonceModel(Model):
    class Meta:
        table_name = os.environ.get("NONCE_TABLE", "transcoder-nonces")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    nonce_id = UnicodeAttribute(hash_key=True)
    expires_at = TTLAttribute()


def claim(access_key_id: str, nonce: str) -> bool:
    """True the first time this key presents this nonce; False on every replay."""
    item = NonceModel(nonce_id=f"{access_key_id}:{nonce}", expires_at=timedelta(seconds=NONCE_LIFETIME_SECONDS))
    return repository.save_new(item, NonceModel.nonce_id.does_not_exist())
