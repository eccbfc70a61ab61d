"""The service functions: runtime, architecture, handlers, layers, environment, least-privilege roles.

"Our" functions are those whose code is the shared functions asset; the one other function in the stack is
CDK's own BucketNotificationsHandler (inline code), acknowledged in `test_the_only_other_function_is_cdks`.
"""

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.infra.conftest import CDK_NOTIFICATIONS_HANDLER, Synthesized

API_HANDLER = "handlers.api.handler"
INGEST_HANDLER = "handlers.ingest.handler"
PIPELINE_HANDLERS = {
    "Download": "handlers.pipeline.download",
    "Plan": "handlers.pipeline.plan",
    "Transcode": "handlers.pipeline.transcode",
    "EncodeChunk": "handlers.pipeline.encode_chunk",
    "EncodeAudio": "handlers.pipeline.encode_audio",
    "Join": "handlers.pipeline.join",
    "Upload": "handlers.pipeline.upload",
    "RecordFailure": "handlers.pipeline.record_failure",
}
NOTIFY_HANDLER = "handlers.notify.handler"
CALLBACK_HANDLER = "handlers.callback.handler"
RECONCILE_HANDLERS = ["handlers.reconcile.execution_ended", "handlers.reconcile.sweep"]
CONSOLE_HANDLER = "handlers.console_site.handler"
ALL_HANDLERS = sorted(
    [
        API_HANDLER,
        INGEST_HANDLER,
        *PIPELINE_HANDLERS.values(),
        NOTIFY_HANDLER,
        CALLBACK_HANDLER,
        *RECONCILE_HANDLERS,
        CONSOLE_HANDLER,
    ]
)
# The functions that start pipeline executions: the API and the drop-a-file ingest; and the sweep, which names
# executions to describe them (its role allows nothing else on them).
STARTERS = (API_HANDLER, INGEST_HANDLER, "handlers.reconcile.sweep")
SHARED_ENVIRONMENT = ("TASK_TABLE", "INPUT_BUCKET", "OUTPUT_BUCKET", "WORK_BUCKET")


def _role_of(function: dict[str, Any]) -> str:
    role = function["Properties"]["Role"]
    assert set(role) == {"Fn::GetAtt"} and role["Fn::GetAtt"][1] == "Arn", role
    role_id: str = role["Fn::GetAtt"][0]
    return role_id


def _managed_policy_arn(name: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/service-role/{name}"]]}


def test_service_functions_with_the_expected_handlers(synthesized: Synthesized) -> None:
    functions = synthesized.service_functions()
    assert sorted(f["Properties"]["Handler"] for f in functions.values()) == ALL_HANDLERS


def test_the_only_other_function_is_cdks(synthesized: Synthesized) -> None:
    """The acknowledged exception: CDK's deploy-time BucketNotificationsHandler, with CDK's inline code and role."""
    logical_id, function = synthesized.cdk_inline_function()
    assert len(synthesized.resources("AWS::Lambda::Function")) == len(ALL_HANDLERS) + 1
    properties = function["Properties"]
    assert set(properties["Code"]) == {"ZipFile"}
    assert properties["Handler"] == "index.handler"
    role_id = _role_of(function)
    assert role_id == synthesized.logical_id(f"{CDK_NOTIFICATIONS_HANDLER}/Role")
    role = synthesized.resources("AWS::IAM::Role")[role_id]["Properties"]
    assert role["ManagedPolicyArns"] == [_managed_policy_arn("AWSLambdaBasicExecutionRole")]
    assert role_id not in {_role_of(f) for f in synthesized.service_functions().values()}, logical_id


def test_each_function_has_its_own_role(synthesized: Synthesized) -> None:
    functions = synthesized.service_functions()
    roles = [_role_of(f) for f in functions.values()]
    assert len(set(roles)) == len(functions) == len(ALL_HANDLERS)
    iam_roles = synthesized.resources("AWS::IAM::Role")
    for role_id in roles:
        assume = iam_roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert assume == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ], role_id


def test_runtime_and_default_architecture(synthesized: Synthesized) -> None:
    functions = synthesized.service_functions()
    assert len(functions) == len(ALL_HANDLERS)
    for logical_id, function in functions.items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13", logical_id
        assert properties["Architectures"] == ["x86_64"], logical_id
    (layer,) = synthesized.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == ["x86_64"]
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_arm64_context_switches_functions_and_layer(synth_variant: Callable[..., Synthesized]) -> None:
    arm = synth_variant({"transcoder": {"architecture": "arm64"}})
    functions = arm.service_functions()
    assert len(functions) == len(ALL_HANDLERS)
    for logical_id, function in functions.items():
        assert function["Properties"]["Architectures"] == ["arm64"], logical_id
    (layer,) = arm.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_arm64_assets_differ_from_x86_64(synthesized: Synthesized, synth_variant: Callable[..., Synthesized]) -> None:
    """The asset hashes are salted with the architecture: an arm64 deploy never reuses x86_64 wheels."""
    arm = synth_variant({"transcoder": {"architecture": "arm64"}})

    def code_keys(s: Synthesized) -> set[str]:
        # The console's asset is static text and a standard-library module: the same on both.
        functions = [f for f in s.service_functions().values() if f["Properties"]["Handler"] != CONSOLE_HANDLER]
        keys = {f["Properties"]["Code"]["S3Key"] for f in functions}
        keys |= {layer["Properties"]["Content"]["S3Key"] for layer in s.resources("AWS::Lambda::LayerVersion").values()}
        return keys

    assert len(code_keys(synthesized)) == 2  # one shared functions asset, one layer
    assert not code_keys(synthesized) & code_keys(arm)


def test_ffmpeg_layer_on_download_and_transcode_and_disk_on_transcode(synthesized: Synthesized) -> None:
    """Download probes the input through a presigned URL (no copy in /tmp); Transcode writes its output to /tmp."""
    (layer_id,) = synthesized.resources("AWS::Lambda::LayerVersion")
    disk = {"Download": 512, "Transcode": 10240}
    for name, size in disk.items():
        _, function = synthesized.function_by_handler(PIPELINE_HANDLERS[name])
        assert function["Properties"]["Layers"] == [{"Ref": layer_id}], name
        assert function["Properties"].get("EphemeralStorage", {"Size": 512}) == {"Size": size}, name
        assert function["Properties"]["Timeout"] == 900, name


def test_api_and_light_steps_have_no_layer(synthesized: Synthesized) -> None:
    light = (API_HANDLER, INGEST_HANDLER, PIPELINE_HANDLERS["Upload"], PIPELINE_HANDLERS["RecordFailure"])
    for handler in (*light, NOTIFY_HANDLER, CALLBACK_HANDLER):
        _, function = synthesized.function_by_handler(handler)
        assert not function["Properties"].get("Layers"), handler
        assert function["Properties"].get("EphemeralStorage", {"Size": 512}) == {"Size": 512}, handler
    _, api = synthesized.function_by_handler(API_HANDLER)
    assert api["Properties"]["Timeout"] <= 29  # API Gateway's integration limit


def test_environment(synthesized: Synthesized) -> None:
    refs = {
        "TASK_TABLE": {"Ref": synthesized.logical_id("Storage/Tasks")},
        "INPUT_BUCKET": {"Ref": synthesized.logical_id("Storage/Input")},
        "OUTPUT_BUCKET": {"Ref": synthesized.logical_id("Storage/Output")},
        "WORK_BUCKET": {"Ref": synthesized.logical_id("Storage/Work")},
    }
    state_machine = {"Ref": synthesized.logical_id("Pipeline/StateMachine")}
    functions = synthesized.service_functions()
    assert len(functions) == len(ALL_HANDLERS)
    for logical_id, function in functions.items():
        if function["Properties"]["Handler"] == CONSOLE_HANDLER:
            continue  # static files only: it reads no table or bucket (test_console_function_has_no_access)
        variables = function["Properties"]["Environment"]["Variables"]
        for name in SHARED_ENVIRONMENT:
            assert variables.get(name) == refs[name], f"{logical_id}: {name}"
        if function["Properties"]["Handler"] in STARTERS:
            assert variables.get("STATE_MACHINE_ARN") == state_machine, logical_id
        else:
            # A pipeline step that could start executions would be a privilege the design does not need.
            assert "STATE_MACHINE_ARN" not in variables, logical_id


def test_each_function_logs_to_its_own_log_group(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    seen = []
    for logical_id, function in synthesized.service_functions().items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert group in groups, logical_id
        assert groups[group]["Properties"]["RetentionInDays"] == 30
        seen.append(group)
    assert len(set(seen)) == len(ALL_HANDLERS)


# --- IAM: exact actions only, no managed policies ------------------------------------------------

_WILDCARD = re.compile(r"\*|\?")


def _identity_statements(synthesized: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every statement of every identity policy: AWS::IAM::Policy, inline role policies, managed policies."""
    for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, policy in synthesized.resources("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            yield logical_id, statement
    for logical_id, role in synthesized.resources("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            for statement in inline["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def _actions(statement: dict[str, Any]) -> list[str]:
    assert "NotAction" not in statement, statement
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_identity_policies_use_exact_actions(synthesized: Synthesized) -> None:
    statements = list(_identity_statements(synthesized))
    assert len(statements) >= 10
    for logical_id, statement in statements:
        assert statement["Effect"] == "Allow", (logical_id, statement)
        for action in _actions(statement):
            assert not _WILDCARD.search(action), f"{logical_id}: wildcard action {action!r}"


def test_bucket_policies_allow_no_wildcard_actions(synthesized: Synthesized) -> None:
    """Bucket policies may *deny* s3:* (TLS only); whatever they allow must be exact."""
    for logical_id, policy in synthesized.resources("AWS::S3::BucketPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                for action in _actions(statement):
                    assert not _WILDCARD.search(action), f"{logical_id}: wildcard action {action!r}"


def test_only_the_api_gateway_logging_role_and_cdks_handler_have_a_managed_policy(synthesized: Synthesized) -> None:
    with_managed = {
        logical_id: role["Properties"]["ManagedPolicyArns"]
        for logical_id, role in synthesized.resources("AWS::IAM::Role").items()
        if role["Properties"].get("ManagedPolicyArns")
    }
    assert with_managed == {
        synthesized.logical_id("Api/RestApi/CloudWatchRole"): [
            _managed_policy_arn("AmazonAPIGatewayPushToCloudWatchLogs")
        ],
        synthesized.logical_id(f"{CDK_NOTIFICATIONS_HANDLER}/Role"): [
            _managed_policy_arn("AWSLambdaBasicExecutionRole")
        ],
    }


STORAGE_SECRETS = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":secretsmanager:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            ":secret:transcoder/storages/*",
        ],
    ]
}
"""The secrets of storages, by name prefix: the only secrets any function may touch."""


def _objects(bucket_id: str, prefix: str = "") -> dict[str, Any]:
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{prefix}*"]]}


@pytest.fixture(scope="module")
def ids(synthesized: Synthesized) -> dict[str, str]:
    names = ("Input", "Output", "Work", "Tasks", "Templates", "Idempotency", "Storages", "AccessKeys", "Nonces")
    result = {name: synthesized.logical_id(f"Storage/{name}") for name in names}
    result["StateMachine"] = synthesized.logical_id("Pipeline/StateMachine")
    return result


def test_api_decrypts_only_access_key_secrets(synthesized: Synthesized) -> None:
    """kms:Decrypt on the access-key KMS key, and only for ciphertexts made for an access key."""
    _, function = synthesized.function_by_handler(API_HANDLER)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    key_id = synthesized.logical_id("Storage/AccessKeyEncryption")
    statements = [
        statement
        for policy in synthesized.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "kms:Decrypt" in statement["Action"]
    ]
    assert statements == [
        {
            "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "transcoder-api-access-key"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        }
    ]
    assert synthesized.resources("AWS::KMS::Key")[key_id]["Properties"]["EnableKeyRotation"] is True


def test_api_role_is_least_privilege(synthesized: Synthesized, ids: dict[str, str]) -> None:
    allowed = synthesized.allowed(API_HANDLER)
    assert sorted(allowed) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:TagResource",
        "states:StartExecution",
        "states:StopExecution",
    ]
    assert allowed["states:StartExecution"] == [{"Ref": ids["StateMachine"]}]
    # create_upload's presigned POST: the accounts' uploads in the input bucket, nothing else.
    assert allowed["s3:PutObject"] == [_objects(ids["Input"], "accounts/*/uploads/")]
    tables = [{"Fn::GetAtt": [ids[name], "Arn"]} for name in ("Tasks", "Templates", "Idempotency", "Storages")]
    # Signature auth reads keys and spends nonces: nothing else on those tables.
    extra = {"dynamodb:GetItem": ["AccessKeys"], "dynamodb:PutItem": ["Nonces"]}
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
        expected = tables + [{"Fn::GetAtt": [ids[name], "Arn"]} for name in extra.get(action, [])]
        assert sorted(map(str, allowed[action])) == sorted(map(str, expected)), action
    # Storages are never updated in place: added and deleted whole.
    assert sorted(map(str, allowed["dynamodb:UpdateItem"])) == sorted(map(str, tables[:3]))
    # Query: an account's templates and storages, list_task's index and the template-id index; never a wildcard index.
    queried = json.dumps(allowed["dynamodb:Query"])
    assert len(allowed["dynamodb:Query"]) == 4
    assert "account-create_time" in queried and "/index/template_id" in queried and ids["Templates"] in queried
    assert ids["Storages"] in queried
    for action in ("CreateSecret", "TagResource", "DeleteSecret", "GetSecretValue"):
        assert allowed[f"secretsmanager:{action}"] == [STORAGE_SECRETS], action
    assert "*" not in queried
    (stop_resource,) = allowed["states:StopExecution"]
    assert ":execution:" in json.dumps(stop_resource)
    # Presigned URLs name the input version a task read and the output version it wrote.
    for action in ("s3:GetObject", "s3:GetObjectVersion"):
        assert sorted(map(str, allowed[action])) == sorted(
            map(str, [_objects(ids["Input"]), _objects(ids["Output"], "accounts/")])
        ), action


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        # Download probes the input in place and pins its version; Transcode reads that version.
        # https:// inputs are staged under tasks/ first: Download writes them there, both read them.
        # Both clear tasks/<id>/ when the task is cancelled or deleted under them.
        (
            "Download",
            {
                "s3:ListBucket": [("Input", None), ("Work", None)],
                "s3:GetObject": [("Input", ""), ("Work", "tasks/")],
                "s3:GetObjectVersion": [("Input", "")],
                "s3:PutObject": [("Work", "tasks/")],
                "s3:DeleteObject": [("Work", "tasks/")],
            },
        ),
        (
            "Transcode",
            {
                "s3:ListBucket": [("Input", None), ("Work", None)],
                "s3:GetObject": [("Input", ""), ("Work", "tasks/")],
                "s3:GetObjectVersion": [("Input", "")],
                "s3:PutObject": [("Work", "tasks/")],
                "s3:DeleteObject": [("Work", "tasks/")],
            },
        ),
        (
            "Upload",
            {
                "s3:ListBucket": [("Work", None)],
                "s3:GetObject": [("Work", "tasks/")],
                "s3:DeleteObject": [("Output", "accounts/"), ("Work", "tasks/")],
                "s3:DeleteObjectVersion": [("Output", "accounts/")],
                "s3:PutObject": [("Output", "accounts/")],  # only ever in an account's part
            },
        ),
        ("RecordFailure", {"s3:ListBucket": [("Work", None)], "s3:DeleteObject": [("Work", "tasks/")]}),
    ],
)
def test_pipeline_roles_are_least_privilege(
    synthesized: Synthesized, ids: dict[str, str], step: str, expected: dict[str, list[tuple[str, str | None]]]
) -> None:
    allowed = synthesized.allowed(PIPELINE_HANDLERS[step])
    s3_allowed = {action: sorted(map(str, resources)) for action, resources in allowed.items() if action[:3] == "s3:"}
    s3_expected = {
        action: sorted(
            str({"Fn::GetAtt": [ids[bucket], "Arn"]} if prefix is None else _objects(ids[bucket], prefix))
            for bucket, prefix in resources
        )
        for action, resources in expected.items()
    }
    assert s3_allowed == s3_expected
    others = sorted(action for action in allowed if action[:3] != "s3:")
    tasks, storages = ({"Fn::GetAtt": [ids[name], "Arn"]} for name in ("Tasks", "Storages"))
    base = ["dynamodb:GetItem", "dynamodb:UpdateItem", "logs:CreateLogStream", "logs:PutLogEvents"]
    assert allowed["dynamodb:UpdateItem"] == [tasks]
    if step == "RecordFailure":
        assert others == base
        assert allowed["dynamodb:GetItem"] == [tasks]
    else:
        # A task's storage (by id) and its keys: read only, the storages' secrets only.
        assert others == sorted([*base, "secretsmanager:GetSecretValue"])
        assert sorted(map(str, allowed["dynamodb:GetItem"])) == sorted(map(str, [tasks, storages]))
        assert allowed["secretsmanager:GetSecretValue"] == [STORAGE_SECRETS]


def test_console_function_has_no_access(synthesized: Synthesized) -> None:
    """The console's function serves files from its asset: no environment, no permission beyond its logs."""
    _, function = synthesized.function_by_handler(CONSOLE_HANDLER)
    variables = function["Properties"]["Environment"]["Variables"]
    assert set(variables) == {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"}
    assert function["Properties"]["MemorySize"] == 128
    allowed = synthesized.allowed(CONSOLE_HANDLER)
    assert set(allowed) <= {"logs:CreateLogStream", "logs:PutLogEvents"}, allowed
