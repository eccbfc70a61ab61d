"""API Gateway: `/api/{proxy+}` ANY → the API function (proxy), one stage with access logs, tracing, throttling."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.conftest import Synthesized


@pytest.fixture(scope="module")
def rest_api_id(synthesized: Synthesized) -> str:
    (api_id,) = synthesized.resources("AWS::ApiGateway::RestApi")
    return api_id


def _resource_paths(synthesized: Synthesized, rest_api_id: str) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource → its full path."""
    resources = synthesized.resources("AWS::ApiGateway::Resource")
    root = {"Fn::GetAtt": [rest_api_id, "RootResourceId"]}

    def path(logical_id: str) -> str:
        properties = resources[logical_id]["Properties"]
        assert properties["RestApiId"] == {"Ref": rest_api_id}
        parent = properties["ParentId"]
        prefix = "" if parent == root else path(parent["Ref"])
        return f"{prefix}/{properties['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def test_rest_api_is_regional(synthesized: Synthesized, rest_api_id: str) -> None:
    properties = synthesized.resources("AWS::ApiGateway::RestApi")[rest_api_id]["Properties"]
    assert properties["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


CONSOLE_HANDLER = "handlers.console_site.handler"


def _methods_by_path(synthesized: Synthesized, rest_api_id: str) -> dict[str, dict[str, Any]]:
    paths = _resource_paths(synthesized, rest_api_id)
    return {
        f"{m['Properties']['HttpMethod']} {paths[m['Properties']['ResourceId']['Ref']]}": m
        for m in synthesized.resources("AWS::ApiGateway::Method").values()
    }


def test_only_api_proxy_any_and_the_console_are_exposed(synthesized: Synthesized, rest_api_id: str) -> None:
    paths = _resource_paths(synthesized, rest_api_id)
    assert sorted(paths.values()) == ["/api", "/api/{proxy+}", "/console", "/console/{file}"]
    # No root or /api method that bypasses the proxy; the console's static files are read-only.
    assert sorted(_methods_by_path(synthesized, rest_api_id)) == [
        "ANY /api/{proxy+}",
        "GET /console",
        "GET /console/{file}",
    ]


def _integrated_function(method: dict[str, Any]) -> str:
    integration = method["Properties"]["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    uri_parts = integration["Uri"]["Fn::Join"][1]
    assert uri_parts[-1] == "/invocations"
    (function,) = [p["Fn::GetAtt"][0] for p in uri_parts if isinstance(p, dict) and "Fn::GetAtt" in p]
    return str(function)


def test_proxy_integrates_the_api_function_and_the_console_its_own(synthesized: Synthesized, rest_api_id: str) -> None:
    methods = _methods_by_path(synthesized, rest_api_id)
    api_function, _ = synthesized.function_by_handler("handlers.api.handler")
    console_function, _ = synthesized.function_by_handler(CONSOLE_HANDLER)
    assert _integrated_function(methods["ANY /api/{proxy+}"]) == api_function
    assert _integrated_function(methods["GET /console"]) == console_function
    assert _integrated_function(methods["GET /console/{file}"]) == console_function


def test_api_gateway_may_invoke_only_the_api_and_console_functions(synthesized: Synthesized, rest_api_id: str) -> None:
    api_function, _ = synthesized.function_by_handler("handlers.api.handler")
    console_function, _ = synthesized.function_by_handler(CONSOLE_HANDLER)
    permissions = {
        logical_id: permission
        for logical_id, permission in synthesized.resources("AWS::Lambda::Permission").items()
        # EventBridge's (the reconcile rules') are the reconcile construct's to test.
        if permission["Properties"]["Principal"] != "events.amazonaws.com"
    }
    assert permissions
    invoked = set()
    for logical_id, permission in permissions.items():
        properties = permission["Properties"]
        assert properties["Principal"] == "apigateway.amazonaws.com", logical_id
        invoked.add(properties["FunctionName"]["Fn::GetAtt"][0])
        assert properties["Action"] == "lambda:InvokeFunction"
        source_arn: list[Any] = properties["SourceArn"]["Fn::Join"][1]
        assert {"Ref": rest_api_id} in source_arn, logical_id
    assert invoked == {api_function, console_function}


def test_the_input_bucket_lets_console_pages_post_upload_forms(synthesized: Synthesized) -> None:
    bucket = synthesized.resources("AWS::S3::Bucket")[synthesized.logical_id("Storage/Input")]
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    (origin,) = rule["AllowedOrigins"]
    assert origin == {
        "Fn::Join": ["", ["https://*.execute-api.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
    }


def test_stage_access_logs_tracing_and_throttling(synthesized: Synthesized) -> None:
    (stage,) = synthesized.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    access_log = properties["AccessLogSetting"]
    assert access_log["DestinationArn"] == {"Fn::GetAtt": [synthesized.logical_id("Api/AccessLogs"), "Arn"]}
    for field in ("$context.requestId", "$context.status", "$context.identity.sourceIp"):
        assert field in access_log["Format"]
    assert properties["TracingEnabled"] is True
    (settings,) = properties["MethodSettings"]
    assert settings["HttpMethod"] == "*" and settings["ResourcePath"] == "/*"
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["ThrottlingBurstLimit"] >= settings["ThrottlingRateLimit"]
    assert settings["LoggingLevel"] in ("ERROR", "INFO")
    assert settings["DataTraceEnabled"] is False  # request bodies (keys, signatures) stay out of the logs


def test_api_url_output(synthesized: Synthesized) -> None:
    parts = synthesized.template_dict["Outputs"]["ApiUrl"]["Value"]["Fn::Join"][1]
    (stage_id,) = synthesized.resources("AWS::ApiGateway::Stage")
    assert parts[0] == "https://"
    assert parts[-2:] == [{"Ref": stage_id}, "/"]
    assert synthesized.resources("AWS::ApiGateway::Stage")[stage_id]["Properties"]["StageName"] == "v1"


def _proxy_authorization(synthesized: Synthesized) -> set[str]:
    methods = synthesized.resources("AWS::ApiGateway::Method")
    return {method["Properties"]["AuthorizationType"] for method in methods.values()}


def test_the_function_checks_signatures_by_default(synthesized: Synthesized) -> None:
    """The contract's signature covers the body, which only the function sees: API Gateway passes requests on."""
    assert _proxy_authorization(synthesized) == {"NONE"}
    (_, function) = synthesized.function_by_handler("handlers.api.handler")
    environment = function["Properties"]["Environment"]["Variables"]
    assert {"KEYS_TABLE", "NONCE_TABLE", "KEYS_KMS_KEY_ID"} <= set(environment)
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    suppressed = {entry["ruleName"] for plugin in report["pluginReports"] for entry in plugin["suppressedViolations"]}
    assert "AwsSolutions-APIG4" in suppressed, "authorization in the function must be acknowledged, with its reason"


def test_iam_in_front_is_an_option(synth_variant: Callable[[dict[str, Any]], Synthesized]) -> None:
    variant = synth_variant({"transcoder": {"api_authorization": "iam"}})
    assert _proxy_authorization(variant) == {"AWS_IAM"}


def test_no_console_when_iam_is_in_front(synth_variant: Callable[[dict[str, Any]], Synthesized]) -> None:
    """A browser cannot SigV4-sign: the console is deployed only where its signed calls can reach the API."""
    variant = synth_variant({"transcoder": {"api_authorization": "iam"}})
    handlers = {f["Properties"]["Handler"] for f in variant.service_functions().values()}
    assert CONSOLE_HANDLER not in handlers


def test_an_open_api_cannot_be_configured(synth_variant: Callable[[dict[str, Any]], Synthesized]) -> None:
    with pytest.raises(ValueError, match="api_authorization"):
        synth_variant({"transcoder": {"api_authorization": "none"}})


def test_operators_find_the_key_table_and_kms_key(synthesized: Synthesized) -> None:
    outputs = synthesized.template_dict["Outputs"]
    assert {"AccessKeysTableName", "AccessKeyEncryptionKeyArn"} <= set(outputs)


def test_throttling_answers_in_the_documented_envelope(synthesized: Synthesized, rest_api_id: str) -> None:
    from tests.openapi_conformance import assert_documented
    from transcoder.api.envelope import ApiCode, envelope

    (response,) = synthesized.resources("AWS::ApiGateway::GatewayResponse").values()
    properties = response["Properties"]
    assert (properties["ResponseType"], properties["StatusCode"]) == ("THROTTLED", "429")
    assert properties["RestApiId"] == {"Ref": rest_api_id}
    body = json.loads(properties["ResponseTemplates"]["application/json"])
    assert body == envelope(ApiCode.TOO_MANY_REQUESTS, request_id="$context.requestId").body
    assert_documented("GET", "/api/query_task", 429, body)
