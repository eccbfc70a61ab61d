"""Access keys: an AK names an account; its SK is stored encrypted under the deployment's KMS key.

The SK is bound to its AK by the KMS encryption context, so a ciphertext copied to another item does
not decrypt. Decrypted secrets are cached per ciphertext; the item itself is read on every request
so that disabling a key takes effect at once.
"""

import os
import secrets
import string
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from transcoder import repository

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

ACCESS_KEY_ID_LENGTH = 16
SECRET_ACCESS_KEY_LENGTH = 32
_ACCESS_KEY_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_PURPOSE = "transcoder-api-access-key"

ENABLED = "enabled"
DISABLED = "disabled"


class AccessKeyModel(Model):
    class Meta:
        table_name = os.environ.get("KEYS_TABLE", "transcoder-keys")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    access_key_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute()
    secret_ciphertext = BinaryAttribute(legacy_encoding=False)
    status = UnicodeAttribute(default=ENABLED)
    description = UnicodeAttribute(default="")
    create_time = NumberAttribute()
    update_time = NumberAttribute()


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    account_id: str
    status: str
    description: str
    create_time: int


@dataclass(frozen=True)
class NewAccessKey:
    access_key: AccessKey
    secret_access_key: str


class KeyExists(Exception):
    pass


class UnknownKey(Exception):
    pass


@cache
def _kms() -> "KMSClient":
    import boto3  # with the first client: importing this module needs only botocore

    return boto3.client("kms")


def _kms_key_id() -> str:
    key_id = os.environ.get("KEYS_KMS_KEY_ID", "")
    if not key_id:
        raise RuntimeError("KEYS_KMS_KEY_ID is not set: the KMS key that encrypts secret access keys")
    return key_id


def _context(access_key_id: str) -> dict[str, str]:
    return {"purpose": _PURPOSE, "access_key_id": access_key_id}


def is_access_key_id(value: str) -> bool:
    return len(value) == ACCESS_KEY_ID_LENGTH and all(c in _ACCESS_KEY_ALPHABET for c in value)


def is_secret_access_key(value: str) -> bool:
    return len(value) == SECRET_ACCESS_KEY_LENGTH and all(c in _SECRET_ALPHABET for c in value)


def create(
    account_id: str, *, description: str = "", access_key_id: str | None = None, secret_access_key: str | None = None
) -> NewAccessKey:
    """A new enabled key of the account; a given pair (local mode's fixed keys) is imported as is."""
    access_key_id = access_key_id or "".join(secrets.choice(_ACCESS_KEY_ALPHABET) for _ in range(16))
    secret_access_key = secret_access_key or "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(32))
    if not is_access_key_id(access_key_id):
        raise ValueError(f"an access key id is {ACCESS_KEY_ID_LENGTH} upper-case letters and digits")
    if not is_secret_access_key(secret_access_key):
        raise ValueError(f"a secret access key is {SECRET_ACCESS_KEY_LENGTH} letters and digits")
    if not account_id or len(account_id) > 64:
        raise ValueError("an account id is 1 to 64 characters")
    ciphertext = _kms().encrypt(
        KeyId=_kms_key_id(), Plaintext=secret_access_key.encode(), EncryptionContext=_context(access_key_id)
    )["CiphertextBlob"]
    now = repository.now()
    item = AccessKeyModel(
        access_key_id=access_key_id,
        account_id=account_id,
        secret_ciphertext=ciphertext,
        description=description,
        create_time=now,
        update_time=now,
    )
    if not repository.save_new(item, AccessKeyModel.access_key_id.does_not_exist()):
        raise KeyExists(f"access key {access_key_id} already exists")
    return NewAccessKey(_view(item), secret_access_key)


def set_status(access_key_id: str, status: str) -> AccessKey:
    try:
        item = AccessKeyModel.get(access_key_id, consistent_read=True)
    except DoesNotExist as exc:
        raise UnknownKey(f"access key {access_key_id} does not exist") from exc
    item.update(actions=[AccessKeyModel.status.set(status), AccessKeyModel.update_time.set(repository.now())])
    return _view(item)


def list_all(account_id: str | None = None) -> list[AccessKey]:
    """Every key, for the operator: the key table holds one small item per key."""
    # The table also holds each account's settings (transcoder.auth.accounts): items without a secret.
    condition = AccessKeyModel.secret_ciphertext.exists()
    if account_id:
        condition &= AccessKeyModel.account_id == account_id
    return sorted((_view(item) for item in AccessKeyModel.scan(condition)), key=lambda k: k.create_time)


def enabled_secret(access_key_id: str) -> tuple[str, str] | None:
    """(account_id, secret access key) of an enabled key; None for an unknown or disabled one."""
    if not is_access_key_id(access_key_id):
        return None  # nothing else in the key table (an account's settings item) is a key
    try:
        item = AccessKeyModel.get(access_key_id, consistent_read=True)
    except DoesNotExist:
        return None
    if item.status != ENABLED:
        return None
    return item.account_id, _decrypt(access_key_id, bytes(item.secret_ciphertext))


@lru_cache(maxsize=256)
def _decrypt(access_key_id: str, ciphertext: bytes) -> str:
    plaintext = _kms().decrypt(
        CiphertextBlob=ciphertext, KeyId=_kms_key_id(), EncryptionContext=_context(access_key_id)
    )["Plaintext"]
    return plaintext.decode()


def _view(item: AccessKeyModel) -> AccessKey:
    return AccessKey(
        access_key_id=item.access_key_id,
        account_id=item.account_id,
        status=item.status,
        description=item.description,
        create_time=int(item.create_time),
    )
