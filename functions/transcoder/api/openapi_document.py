"""The OpenAPI document of the API, as its routes answer, and the Swagger UI page that shows it.

Powertools generates the document from the routes, their request models and their `responses`
(transcoder.api.answers); the schemas of the answers' models (transcoder.api.responses) are added to it.
Two things are corrected after it: the 422 "Validation Error" Powertools adds to
every route when validation is on (this API answers a failed validation with 400 and 1001/1002, and nothing
with 422; Powertools 3.37 has no switch for it), and the routes that need no signature.
Imported on the first request for the document (see handlers.docs_routes): the OpenAPI models cost ~90 ms.
"""

import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi import swagger_ui
from aws_lambda_powertools.event_handler.openapi.models import HTTPBase, Server
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from transcoder.api import responses

TITLE = "Video transcoding API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Tasks, templates and storages (the contract: docs/api.md). Every answer is the envelope "
    "`{code, msg, data, request_id}`: `code` 0 with the route's `data`, or an API code with `data` null and "
    "a `msg` naming what was wrong. Every route but `list_storage_type` needs the signature below."
)
SIGNATURE = "signature"
SIGNATURE_DESCRIPTION = """\
Each request is signed with an access key pair (AccessKeyId, 16 characters; SecretAccessKey, 32):

```
Authorization: Visionular AccessKeyId={AccessKeyId}, Signature={Signature}
Date: <RFC 1123 GMT, e.g. Mon, 30 Nov 2026 14:00:00 GMT>   (within 15 minutes of the server's clock)
X-WZ-Nonce: <random string>                              (optional; then usable once only)
Content-MD5: <upper-case hex MD5 of the body>            (when there is a body)

StringToSign = VERB "\\n" Content-MD5 "\\n" Content-Type "\\n" Date "\\n"
               CanonicalizedHeaders "\\n" CanonicalizedResource
Signature    = Base64(HMAC-SHA1(SecretAccessKey, UTF-8(StringToSign)))
```

- CanonicalizedHeaders: every `x-wz-*` header, name lower-cased, sorted, as `name:value` (no spaces around
  the colon), joined by `\\n`; empty when there is none.
- CanonicalizedResource: the path (`/api/create_task`), then `?` and the query parameters sorted by name as
  `k=v` joined by `&` when there is a query string.
- Content-MD5 and Content-Type are empty strings when there is no body; the MD5 must be the body's as sent.

A request that fails any of these is answered 401 with code 1003 and a message saying which. The Python
client (`transcoder_client`) and the `transcoder` CLI sign for you.
"""

# Validation errors are answered 400 (1001/1002), never 422: what Powertools adds for them is not an answer.
_UNANSWERED_STATUS = "422"
# Response validation is off (the routes return Response[Any]), so nothing answers ResponseValidationError either.
_UNANSWERED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def document(resolver: APIGatewayRestResolver, *, unsigned_paths: Collection[str], server_url: str) -> dict[str, Any]:
    """The OpenAPI document of `resolver`'s routes; `server_url` is where the API is served (the stage's path)."""
    schema = resolver.get_openapi_schema(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[Server(url=server_url or "/")],
        security_schemes={SIGNATURE: HTTPBase(scheme="Visionular", description=SIGNATURE_DESCRIPTION)},
        security=[{SIGNATURE: []}],
    )
    result: dict[str, Any] = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
    for path, operations in result["paths"].items():
        for operation in operations.values():
            operation["responses"].pop(_UNANSWERED_STATUS, None)
            if path in unsigned_paths:
                operation["security"] = []
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name in _UNANSWERED_SCHEMAS:
        schemas.pop(name, None)
    for name, schema in responses.component_schemas().items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two models are named {name}: a request model and an answer model")
    return result


def swagger_asset(name: str) -> str:
    """One of the Swagger UI files Powertools ships (swagger-ui-dist, pinned with Powertools in uv.lock)."""
    return (Path(swagger_ui.__file__).parent / name).read_text(encoding="utf-8")


def swagger_page(document_json: str, *, script_url: str, style_url: str) -> str:
    """The Swagger UI page showing `document_json`, with its script and style from the given URLs."""
    # `</` would end the inline <script> that carries the document.
    inline = document_json.replace("</", "<\\/")
    # Its fourth argument only needs to be set for the page to link the files instead of inlining 1.7 MB of them.
    return generate_swagger_html(inline, script_url, style_url, script_url, None, False)
