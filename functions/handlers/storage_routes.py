"""Storage endpoints of the API (api.md, "Storages")."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from handlers.account import account_of
from transcoder.api.answers import answers
from transcoder.api.envelope import ApiCode, ApiError, envelope
from transcoder.api.storage_requests import AddStorageRequest, StorageRef
from transcoder.endpoints import STORAGE_TYPES, Keys
from transcoder.lazy import lazy_import
from transcoder.logs import service_logger

if TYPE_CHECKING:
    from transcoder import storages
else:
    storages = lazy_import("transcoder.storages")  # pynamodb and botocore: on the first storage request

logger = service_logger()
router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools declares no __init__ types

StorageIdParam = Annotated[str | None, Query(min_length=1, max_length=64)]


def _request_id() -> str:
    return str(router.current_event.request_context.request_id or "")


def _found(account_id: str, storage_id: str | None) -> "storages.Storage":
    if not storage_id:
        raise ApiError(ApiCode.LACK_PARAM, "storage_id")
    found = storages.find(account_id, storage_id)
    if found is None:
        raise ApiError(ApiCode.EMPTY_RESULT, f"storage {storage_id!r} does not exist")
    return found


@router.post("/api/add_storage", responses=answers("StorageId", ApiCode.DUPLICATED_ENTITY))
def add_storage(request: AddStorageRequest) -> Response[Any]:
    keys = None
    if request.storage_ak is not None and request.storage_sk is not None:
        keys = Keys(request.storage_ak.get_secret_value(), request.storage_sk.get_secret_value())
    try:
        added = storages.add(
            account_of(router.context),
            storage_type=request.type,
            region=request.region,
            bucket=request.bucket,
            prefix=request.prefix,
            endpoint=request.endpoint or "",
            notify=request.notify or "",
            keys=keys,
        )
    except storages.DuplicateStorage as exc:
        raise ApiError(ApiCode.DUPLICATED_ENTITY, f"bucket: {exc}") from exc
    except storages.ReservedBucket as exc:
        raise ApiError(ApiCode.BAD_PARAM, f"bucket: {exc}") from exc
    except storages.KeysRequired as exc:
        raise ApiError(ApiCode.BAD_PARAM, f"storage_ak: {exc}") from exc
    # An audit line: what was added, never its keys (only whether it has some).
    logger.info("storage added", extra={"storage": added.view()})
    return envelope(ApiCode.SUCCESS, {"storage_id": added.storage_id}, request_id=_request_id())


@router.get("/api/query_storage", responses=answers("StorageView", ApiCode.EMPTY_RESULT))
@router.get("/api/storage", responses=answers("StorageView", ApiCode.EMPTY_RESULT))
def query_storage(storage_id: StorageIdParam = None, StorageId: StorageIdParam = None) -> Response[Any]:
    found = _found(account_of(router.context), storage_id or StorageId)
    return envelope(ApiCode.SUCCESS, found.view(), request_id=_request_id())


@router.get("/api/list_storage", responses=answers("StorageList"))
def list_storage() -> Response[Any]:
    views = [s.view() for s in storages.list_all(account_of(router.context))]
    return envelope(ApiCode.SUCCESS, {"list": views, "num": len(views)}, request_id=_request_id())


@router.get("/api/list_storage_type", responses=answers("StorageTypeList", signed=False))
def list_storage_type() -> Response[Any]:
    return envelope(ApiCode.SUCCESS, {"list": list(STORAGE_TYPES), "num": len(STORAGE_TYPES)}, request_id=_request_id())


@router.delete("/api/del_storage", responses=answers(None, ApiCode.EMPTY_RESULT, ApiCode.OPERATION_FAIL))
def del_storage(request: StorageRef) -> Response[Any]:
    account_id = account_of(router.context)
    found = _found(account_id, request.storage_id)
    if found.is_builtin:
        raise ApiError(ApiCode.OPERATION_FAIL, f"built-in storage {found.storage_id!r} cannot be deleted")
    try:
        storages.delete(account_id, found)
    except storages.StorageInUse as exc:
        raise ApiError(ApiCode.OPERATION_FAIL, f"storage_id: {exc}") from exc
    logger.info("storage deleted", extra={"storage_id": found.storage_id})
    return envelope(ApiCode.SUCCESS, None, request_id=_request_id())
