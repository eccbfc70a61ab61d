"""The OpenAPI document describes the answers as the routes give them, and the signature they need."""

import json
import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from transcoder.api import responses
from transcoder.locations import S3Location
from transcoder.models import TaskModel
from transcoder.storages import Storage
from transcoder.summary import summarize
from transcoder.tasks import task_fields
from transcoder.templates import BUILTIN_TEMPLATES, Template, TemplateType
from transcoder.uploads import Upload


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from handlers.docs_routes import openapi_json

    return dict(json.loads(openapi_json()))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def _schema(document: dict[str, Any], ref: str) -> dict[str, Any]:
    return dict(document["components"]["schemas"][ref.removeprefix("#/components/schemas/")])


# What each route's `data` is (api.md's tables); None: data is null.
DATA = {
    "/api/create_task": "TaskId", "/api/query_task": "TaskView", "/api/list_task": "TaskList",
    "/api/list_summary": "SummaryList", "/api/cancel_task": "TaskView", "/api/del_task": None,
    "/api/add_template": "TemplateView", "/api/query_template": "TemplateView",
    "/api/update_template": "TemplateView", "/api/list_template": "TemplateList", "/api/del_template": None,
    "/api/add_storage": "StorageId", "/api/query_storage": "StorageView", "/api/storage": "StorageView",
    "/api/list_storage": "StorageList", "/api/list_storage_type": "StorageTypeList", "/api/del_storage": None,
    "/api/create_upload": "UploadForm", "/api/output_playlist": "OutputPlaylist",
}  # fmt: skip


def test_every_route_of_the_contract_is_documented(document: dict[str, Any]) -> None:
    assert set(DATA) <= set(document["paths"])


def test_every_route_answers_the_envelope_with_its_data(document: dict[str, Any]) -> None:
    for method, path, operation in _operations(document):
        success = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert success["required"] == ["code", "msg", "data", "request_id"], (method, path)
        assert success["properties"]["code"]["const"] == 0
        assert success["properties"]["msg"]["const"] == "success"
        data = success["properties"]["data"]
        if path in DATA and DATA[path] is None:
            assert data["type"] == "null", (method, path)
        elif path in DATA:
            assert data["$ref"] == f"#/components/schemas/{DATA[path]}", (method, path)


def test_no_route_declares_422_which_nothing_answers(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert '"422"' not in text
    assert "HTTPValidationError" not in text and "ResponseValidationError" not in text


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(document["components"]["schemas"])


# The API codes each HTTP status carries (api.md's table).
CODES_BY_STATUS = {"400": [1001, 1002], "401": [1003], "404": [1004], "409": [1005, 1006], "429": [1007], "500": [1000]}
# The refusals particular to a route; every route may also answer 400, 429 and 500, and a signed one 401.
OWN_REFUSALS = {
    "/api/create_task": {"409"}, "/api/query_task": {"404"}, "/api/cancel_task": {"404"}, "/api/del_task": {"404"},
    "/api/add_template": {"409"}, "/api/query_template": {"404"}, "/api/update_template": {"404", "409"},
    "/api/del_template": {"404", "409"}, "/api/add_storage": {"409"}, "/api/query_storage": {"404"},
    "/api/storage": {"404"}, "/api/del_storage": {"404", "409"}, "/api/output_playlist": {"404", "409"},
}  # fmt: skip


def test_error_answers_are_declared_with_their_codes(document: dict[str, Any]) -> None:
    for _, path, operation in _operations(document):
        declared = set(operation["responses"]) - {"200"}
        signed = path != "/api/list_storage_type"
        assert declared == {"400", "429", "500", *(["401"] if signed else []), *OWN_REFUSALS.get(path, set())}, path
        for status in declared:
            schema = _schema(document, operation["responses"][status]["content"]["application/json"]["schema"]["$ref"])
            code = schema["properties"]["code"]
            assert code.get("enum", [code.get("const")]) == CODES_BY_STATUS[status], (path, status)
            assert schema["properties"]["data"] == {"type": "null", "title": "Data"}
            assert set(schema["required"]) == {"code", "msg", "data", "request_id"}


def test_the_signature_scheme_is_declared_and_required_by_every_signed_route(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["signature"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "Visionular")
    for part in ("AccessKeyId=", "Signature=", "Date", "X-WZ-Nonce", "Content-MD5", "StringToSign", "HMAC-SHA1"):
        assert part in scheme["description"], part
    assert document["security"] == [{"signature": []}]
    unsigned = {path for _, path, op in _operations(document) if op.get("security") == []}
    assert unsigned == {"/api/list_storage_type"}


def test_the_documentation_routes_are_not_in_the_document(document: dict[str, Any]) -> None:
    assert not [path for path in document["paths"] if "swagger" in path or "openapi" in path]


def test_the_server_is_where_the_api_is_served() -> None:
    from handlers.docs_routes import openapi_json

    assert json.loads(openapi_json(server_url="/v1"))["servers"] == [{"url": "/v1"}]
    assert json.loads(openapi_json())["servers"] == [{"url": "/"}]


# The models are checked against what the code that builds each `data` returns, field for field.


def _task(**fields: Any) -> TaskModel:
    base: dict[str, Any] = {
        "task_id": "01m87kg1p53hsf8sqhnfdpq86h", "account_id": "a", "status": "success", "create_time": 1_795_550_400,
        "input": "s3://b/k.mp4", "output": "o", "objkey": "o.mp4", "bucket": "b", "region": "us-east-1",
        "template_id": "t", "template_name": "n", "template": {"vcodec": "h264"},
    }  # fmt: skip
    return TaskModel(**{**base, **fields})


@pytest.mark.parametrize(
    "task",
    [
        _task(),
        _task(status="running", plan={"runner": "chunks", "chunks": 4, "chunk_seconds": 30.0}, dst_width=640),
        _task(status="fail", err_code=2002, err_message="not media", src_bitrate=1234.5, duration=10.01),
    ],
)
def test_the_task_model_is_what_query_task_returns(task: TaskModel) -> None:
    responses.TaskView.model_validate({**task_fields(task), "input_url": "", "output_url": ""})


def test_a_field_missing_from_the_task_model_fails_it() -> None:
    with pytest.raises(ValidationError, match="extra"):
        responses.TaskView.model_validate({**task_fields(_task()), "input_url": "", "output_url": "", "extra": 1})


@pytest.mark.parametrize("template", [*BUILTIN_TEMPLATES, Template("tpl-1", "mine", "1280x720", hls_seg_time=4)])
def test_the_template_model_is_what_the_template_routes_return(template: Template) -> None:
    responses.TemplateView.model_validate(template.to_dict())
    assert template.template_type in (TemplateType.BUILT_IN, TemplateType.CUSTOM)


def test_the_storage_model_is_what_the_storage_routes_return() -> None:
    storage = Storage("sto-1", "bucket", "us-east-1", prefix="p/", type="oss", secret_arn="arn", create_time=1)
    responses.StorageView.model_validate(storage.view())


def test_the_upload_model_is_what_create_upload_returns() -> None:
    upload = Upload(
        url="https://input.s3.amazonaws.com/",
        fields={"key": "accounts/a/uploads/u/clip.mp4", "Content-Type": "video/mp4", "policy": "e30="},
        location=S3Location("input", "accounts/a/uploads/u/clip.mp4"),
        content_type="video/mp4",
        max_bytes=1024,
        expire_time=1,
    )
    responses.UploadForm.model_validate(upload.view())


def test_the_summary_model_is_what_list_summary_returns() -> None:
    rows = summarize([_task(dst_width=1280, dst_height=720, duration=60), _task(status="fail")])
    responses.SummaryList.model_validate({"list": rows, "num": len(rows)})


def test_the_refusal_models_are_what_the_envelope_builds() -> None:
    from transcoder.api.envelope import envelope

    for code, model in responses.REFUSALS.items():
        answer = envelope(code, detail="why", request_id="r")
        assert isinstance(model, type) and issubclass(model, BaseModel)
        model.model_validate(answer.body)
        assert answer.status_code == int(next(s for s, c in CODES_BY_STATUS.items() if code in c))


def test_the_refusal_model_names_are_the_models() -> None:
    from transcoder.api.answers import REFUSAL_MODELS

    assert {code: model.__name__ for code, model in responses.REFUSALS.items()} == REFUSAL_MODELS
