"""Template endpoints of the API (api.md, "Templates")."""

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from handlers.account import account_of
from transcoder.api.answers import answers
from transcoder.api.envelope import ApiCode, ApiError, envelope
from transcoder.api.requests import validation_error
from transcoder.api.template_requests import AddTemplateRequest, TemplateFields, TemplateRef, UpdateTemplateRequest
from transcoder.lazy import lazy_import
from transcoder.templates import Template, TemplateType

if TYPE_CHECKING:
    from transcoder import storages, template_store
else:
    # pynamodb and botocore: on the first template request
    storages, template_store = lazy_import("transcoder.storages"), lazy_import("transcoder.template_store")

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools declares no __init__ types


def _request_id() -> str:
    return str(router.current_event.request_context.request_id or "")


def _found(name: str | None, template_id: str | None) -> Template:
    if not name and not template_id:
        raise ApiError(ApiCode.LACK_PARAM, "template_id or name")
    template = template_store.find(name=name, template_id=template_id, account_id=account_of(router.context))
    if template is None:
        raise ApiError(ApiCode.EMPTY_RESULT, f"template {name or template_id!r} does not exist")
    return template


def _custom(template: Template, action: str) -> Template:
    if template.template_type is TemplateType.BUILT_IN:
        raise ApiError(ApiCode.OPERATION_FAIL, f"built-in template {template.name!r} cannot be {action}")
    return template


def _readable_logo(template: Template) -> Template:
    """s3:// logos come from the deployment's own buckets, which only its own account may read."""
    own_bucket_logo = bool(template.logo_path and template.logo_path.startswith("s3://"))
    if own_bucket_logo and not storages.may_read_own_buckets(account_of(router.context)):
        raise ApiError(ApiCode.BAD_PARAM, "logo_path: s3:// logos are the deployment's own; use an https:// URL")
    return template


@router.post("/api/add_template", responses=answers("TemplateView", ApiCode.DUPLICATED_ENTITY))
def add_template(request: AddTemplateRequest) -> Response[Any]:
    template = _readable_logo(request.to_template(template_id=template_store.new_template_id(), name=request.name))
    try:
        template_store.add(template, account_id=account_of(router.context))
    except template_store.DuplicateName as exc:
        raise ApiError(ApiCode.DUPLICATED_ENTITY, f"name: {exc}") from exc
    return envelope(ApiCode.SUCCESS, template.to_dict(), request_id=_request_id())


@router.get("/api/query_template", responses=answers("TemplateView", ApiCode.EMPTY_RESULT))
def query_template(
    template_id: Annotated[str | None, Query(max_length=64)] = None,
    name: Annotated[str | None, Query(max_length=64)] = None,
) -> Response[Any]:
    return envelope(ApiCode.SUCCESS, _found(name, template_id).to_dict(), request_id=_request_id())


@router.put("/api/update_template", responses=answers("TemplateView", ApiCode.EMPTY_RESULT, ApiCode.OPERATION_FAIL))
def update_template(request: UpdateTemplateRequest) -> Response[Any]:
    current = _custom(_found(request.name, None), "changed")
    merged = {**current.to_dict(), **request.changes()}
    try:
        fields = TemplateFields(**merged)
    except ValidationError as exc:
        raise validation_error(exc.errors()) from exc
    updated = _readable_logo(fields.to_template(template_id=current.template_id, name=current.name))
    template_store.replace(updated, account_id=account_of(router.context))
    return envelope(ApiCode.SUCCESS, updated.to_dict(), request_id=_request_id())


@router.get("/api/list_template", responses=answers("TemplateList"))
def list_template() -> Response[Any]:
    templates = [t.to_dict() for t in template_store.list_all(account_id=account_of(router.context))]
    return envelope(ApiCode.SUCCESS, {"list": templates, "num": len(templates)}, request_id=_request_id())


@router.delete("/api/del_template", responses=answers(None, ApiCode.EMPTY_RESULT, ApiCode.OPERATION_FAIL))
def del_template(request: TemplateRef) -> Response[Any]:
    template = _custom(_found(request.name, request.template_id), "deleted")
    template_store.delete(template, account_id=account_of(router.context))
    return envelope(ApiCode.SUCCESS, None, request_id=_request_id())
