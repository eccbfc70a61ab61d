"""Uploads from disk (ext): a presigned S3 POST into the caller's own part of the input bucket."""

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from handlers.account import account_of
from transcoder.api.answers import answers
from transcoder.api.envelope import ApiCode, ApiError, envelope
from transcoder.api.upload_requests import CreateUploadRequest
from transcoder.lazy import lazy_import
from transcoder.logs import service_logger

if TYPE_CHECKING:
    from transcoder import tasks, uploads
else:
    tasks, uploads = lazy_import("transcoder.tasks"), lazy_import("transcoder.uploads")  # botocore: on first use

logger = service_logger()
router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools declares no __init__ types


@router.post("/api/create_upload", responses=answers("UploadForm"))
def create_upload(request: CreateUploadRequest) -> Response[Any]:
    try:
        upload = uploads.create_upload(
            account_id=account_of(router.context),
            filename=request.filename,
            size=request.size,
            content_type=request.content_type,
        )
    except tasks.InvalidParameter as exc:
        raise ApiError(ApiCode.BAD_PARAM, str(exc)) from exc
    logger.info("upload form issued", extra={"key": upload.location.key, "max_bytes": upload.max_bytes})
    request_id = str(router.current_event.request_context.request_id or "")
    return envelope(ApiCode.SUCCESS, upload.view(), request_id=request_id)
