"""The API's own documentation: the OpenAPI document and Swagger UI, public (README, "OpenAPI document").

What they need (Powertools' OpenAPI models, the Swagger UI files) loads with the first request for them,
never with the API function: the other routes' cold starts do not pay for the documentation.
"""

import functools
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.shared.version import VERSION as POWERTOOLS_VERSION

from transcoder.api.envelope import ApiCode, ApiError
from transcoder.lazy import lazy_import

if TYPE_CHECKING:
    from transcoder.api import openapi_document
else:
    openapi_document = lazy_import("transcoder.api.openapi_document")

router = APIGatewayRouter()  # type: ignore[no-untyped-call]  # Powertools declares no __init__ types

OPENAPI_PATH = "/api/openapi.json"
SWAGGER_PATH = "/api/swagger"
SWAGGER_SCRIPT, SWAGGER_STYLE = "swagger-ui-bundle.min.js", "swagger-ui.min.css"
SWAGGER_ASSETS = {SWAGGER_SCRIPT: "application/javascript; charset=utf-8", SWAGGER_STYLE: "text/css; charset=utf-8"}
# Asset URLs carry Powertools' version (whose files they are), so a browser may keep them until it changes.
ASSET_CACHE_CONTROL = "public, max-age=604800, immutable"
PUBLIC_PATHS = frozenset({OPENAPI_PATH, SWAGGER_PATH, *(f"{SWAGGER_PATH}/{name}" for name in SWAGGER_ASSETS)})
"""Answered without a signature: documentation describes the API, it reads and reveals no account's data."""


def served_from() -> str:
    """The path prefix the client called the API under: the stage (`/v1`) or a custom domain's base path.

    API Gateway's `requestContext.path` is the path as requested, the event's `path` the one the API routes.
    """
    event = router.current_event
    requested = str(event.request_context.path or event.path)
    prefix = requested.removesuffix(event.path) if requested.endswith(event.path) else ""
    # It goes into the page's HTML and the document: only what a path may hold, percent-encoded.
    return quote(prefix, safe="/-._~")


@functools.lru_cache(maxsize=4)
def openapi_json(*, server_url: str = "/") -> str:
    """The OpenAPI document, for an API served at `server_url` (the routes never change: built once)."""
    from handlers.api import UNSIGNED_PATHS  # the API function, whose routes are documented, imports this module

    resolver = router.api_resolver
    if not isinstance(resolver, APIGatewayRestResolver):
        raise RuntimeError("the documentation's router is not included in the API's resolver")
    document = openapi_document.document(resolver, unsigned_paths=UNSIGNED_PATHS, server_url=server_url)
    return json.dumps(document)


@router.get(OPENAPI_PATH, include_in_schema=False)
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi_json(server_url=served_from() or "/"))


@router.get(SWAGGER_PATH, include_in_schema=False)
def swagger() -> Response[str]:
    """Swagger UI; `?format=json` is the document itself, as Powertools' Swagger page links it."""
    prefix = served_from()
    document = openapi_json(server_url=prefix or "/")
    if (router.current_event.query_string_parameters or {}).get("format") == "json":
        return Response(200, content_types.APPLICATION_JSON, document)
    script, style = (
        f"{prefix}{SWAGGER_PATH}/{name}?v={POWERTOOLS_VERSION}" for name in (SWAGGER_SCRIPT, SWAGGER_STYLE)
    )
    page = openapi_document.swagger_page(document, script_url=script, style_url=style)
    return Response(200, content_types.TEXT_HTML, page)


@router.get(f"{SWAGGER_PATH}/<name>", include_in_schema=False)
def swagger_asset(name: str) -> Response[Any]:
    if name not in SWAGGER_ASSETS:
        raise ApiError(ApiCode.EMPTY_RESULT, f"no Swagger UI file {name!r}")
    return Response(
        200,
        SWAGGER_ASSETS[name],
        openapi_document.swagger_asset(name),
        headers={"Cache-Control": ASSET_CACHE_CONTROL},
    )
