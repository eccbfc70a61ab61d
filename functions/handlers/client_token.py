"""client_token: a retried create_task returns the task of its first call, for 24 hours.

Powertools' idempotency utility imports boto3 and its DynamoDB persistence layer builds a client (a
service model read from disk) when it is created. Most requests carry no client_token, so both are
built on the first request that does, not when the API function is imported.
"""

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from transcoder.api.envelope import ApiCode, ApiError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Takes the call ({account_id, client_token, request}), returns the answer's data.
CreateFromCall = Callable[[dict[str, Any]], dict[str, Any]]


@cache
def config() -> "IdempotencyConfig":
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[account_id, client_token]",
        payload_validation_jmespath="request",
        expires_after_seconds=24 * 3600,
    )


@cache
def persistence() -> "BasePersistenceLayer":
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=os.environ.get("IDEMPOTENCY_TABLE", "transcoder-idempotency"))


def create_once(
    create: CreateFromCall, *, account_id: str, client_token: str, request: dict[str, Any], context: "LambdaContext"
) -> dict[str, Any]:
    """`create(call)` the first time this account sends this token for this request; its stored answer on a retry."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    # The in-progress record expires with this invocation's remaining time: a timed-out create can be retried.
    config().register_lambda_context(context)
    call = {"account_id": account_id, "client_token": client_token, "request": request}
    try:
        # Answers are stored under the module and name of `create`: the caller's function keeps them stable.
        once: Callable[..., dict[str, Any]] = idempotent_function(
            create, data_keyword_argument="call", config=config(), persistence_store=persistence()
        )
        return once(call=call)
    except IdempotencyValidationError as exc:
        raise ApiError(ApiCode.BAD_PARAM, "client_token: already used for a different request") from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise ApiError(ApiCode.OPERATION_FAIL, "client_token: a request with this token is in progress") from exc
