"""A storage's access keys in AWS Secrets Manager: one secret per storage, only its ARN in DynamoDB.

Names live under SECRET_PREFIX, the only names the functions' IAM policies allow.
"""

import json
import re
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from transcoder.endpoints import Keys

SECRET_PREFIX = "transcoder/storages/"  # noqa: S105 - a name prefix, not a secret; infra.constructs.access
SECRET_CACHE_SECONDS = 300
_NAME_PART = re.compile(r"^[A-Za-z0-9_+=.@-]{1,128}$")


@cache
def _client() -> Any:  # no Secrets Manager stubs in the lock file
    import boto3  # with the first client: importing this module needs only botocore

    return boto3.client("secretsmanager")


def secret_name(account_id: str, storage_id: str) -> str:
    for part in (account_id, storage_id):
        if not _NAME_PART.match(part):
            raise ValueError(f"{part!r} cannot be part of a secret name")
    return f"{SECRET_PREFIX}{account_id}/{storage_id}"


def create(account_id: str, storage_id: str, keys: Keys) -> str:
    """Store the keys; returns the secret's ARN."""
    response = _client().create_secret(
        Name=secret_name(account_id, storage_id),
        Description=f"Access keys of storage {storage_id} (account {account_id}) of the transcoding service",
        SecretString=json.dumps({"storage_ak": keys.access_key, "storage_sk": keys.secret_key}),
        Tags=[
            {"Key": "service", "Value": "transcoder"},
            {"Key": "account_id", "Value": account_id},
            {"Key": "storage_id", "Value": storage_id},
        ],
    )
    return str(response["ARN"])


class SecretUnavailable(Exception):
    """The storage's keys could not be read (deleted or changed outside the service, or access refused)."""


def read(secret_arn: str) -> Keys:
    """The keys, cached for a few minutes per execution environment (Powertools parameters)."""
    # Imported here: only calls that use a storage's keys pay for it, not the API function's cold start.
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

    try:
        value = parameters.get_secret(secret_arn, transform="json", max_age=SECRET_CACHE_SECONDS)
        return Keys(access_key=str(value["storage_ak"]), secret_key=str(value["storage_sk"]))
    except (GetParameterError, TransformParameterError, TypeError, KeyError) as exc:
        # The exception's text is not passed on: it could quote the secret's value.
        raise SecretUnavailable("the storage's keys could not be read") from exc


def delete(secret_arn: str) -> None:
    """Delete at once, without a recovery window: the storage's record is gone, so nothing could use the
    keys again, and a recoverable copy would only keep a user's credential alive with no owner."""
    try:
        _client().delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
