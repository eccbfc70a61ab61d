"""The Fargate worker's infrastructure: cluster, task definition, image asset, network, roles, and its states."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.constructs.fargate_worker import CAPACITY_ERRORS, CONTAINER_NAME
from tests.infra.conftest import Synthesized
from tests.worker_machine import synthesize as synthesize_worker_machine
from transcoder.pipeline import handoff

ARM64 = {
    "transcoder": {
        "architecture": "arm64",
        "worker_cpu": 2048,
        "worker_memory_mib": 4096,
        "worker_ephemeral_storage_gib": 200,
        "worker_time_budget_seconds": 3600,
    }
}


def _one(synthesized: Synthesized, type_: str) -> dict[str, Any]:
    (resource,) = synthesized.resources(type_).values()
    return resource


def _container(synthesized: Synthesized) -> dict[str, Any]:
    (container,) = _one(synthesized, "AWS::ECS::TaskDefinition")["Properties"]["ContainerDefinitions"]
    return container


def _image_asset(synthesized: Synthesized) -> dict[str, Any]:
    manifest = json.loads((synthesized.outdir / "Transcoder.assets.json").read_text())
    (image,) = manifest["dockerImages"].values()
    source: dict[str, Any] = image["source"]
    return source


def test_cluster_has_container_insights(synthesized: Synthesized) -> None:
    cluster = _one(synthesized, "AWS::ECS::Cluster")
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["Properties"]["ClusterSettings"]


def test_task_definition_follows_the_default_settings(synthesized: Synthesized) -> None:
    properties = _one(synthesized, "AWS::ECS::TaskDefinition")["Properties"]
    assert (properties["Cpu"], properties["Memory"]) == ("4096", "8192")
    assert properties["EphemeralStorage"] == {"SizeInGiB": 100}
    assert properties["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    assert (properties["RequiresCompatibilities"], properties["NetworkMode"]) == (["FARGATE"], "awsvpc")
    assert _image_asset(synthesized)["platform"] == "linux/amd64"
    assert _image_asset(synthesized)["dockerBuildArgs"] == {"ARCHITECTURE": "x86_64"}


def test_task_definition_follows_the_architecture_and_size_settings(
    synth_variant: Callable[..., Synthesized],
) -> None:
    variant = synth_variant(ARM64)
    properties = _one(variant, "AWS::ECS::TaskDefinition")["Properties"]
    assert properties["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert (properties["Cpu"], properties["Memory"], properties["EphemeralStorage"]) == (
        "2048",
        "4096",
        {"SizeInGiB": 200},
    )
    assert _image_asset(variant) | {"directory": None} == {
        "directory": None,
        "dockerFile": "Dockerfile",
        "dockerBuildArgs": {"ARCHITECTURE": "arm64"},
        "platform": "linux/arm64",
    }
    environment = {pair["Name"]: pair["Value"] for pair in _container(variant)["Environment"]}
    assert environment["WORKER_TIME_BUDGET_SECONDS"] == "3600"


def test_synth_only_copies_the_build_context(synthesized: Synthesized) -> None:
    """No Docker at synth: the image's context is copied into the cloud assembly, and only what it needs."""
    context = synthesized.outdir / _image_asset(synthesized)["directory"]
    top = sorted(path.name for path in context.iterdir())
    assert top == [".dockerignore", "Dockerfile", "functions", "layers", "pyproject.toml", "uv.lock"]
    assert (context / "functions" / "worker" / "main.py").is_file()
    assert (context / "layers" / "ffmpeg" / "build.py").is_file()
    assert not list(context.rglob("__pycache__"))


def test_no_nat_gateway_and_nothing_inbound(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::EC2::NatGateway") == {}
    subnets = synthesized.resources("AWS::EC2::Subnet").values()
    assert subnets and all(subnet["Properties"]["MapPublicIpOnLaunch"] for subnet in subnets)
    group = _one(synthesized, "AWS::EC2::SecurityGroup")["Properties"]
    assert "SecurityGroupIngress" not in group
    endpoints = [e["Properties"]["ServiceName"] for e in synthesized.resources("AWS::EC2::VPCEndpoint").values()]
    assert len(endpoints) == 2, "S3 and DynamoDB gateway endpoints"


def test_logs_have_retention(synthesized: Synthesized) -> None:
    options = _container(synthesized)["LogConfiguration"]
    assert options["LogDriver"] == "awslogs"
    group_id = options["Options"]["awslogs-group"]["Ref"]
    assert synthesized.template_dict["Resources"][group_id]["Properties"]["RetentionInDays"] == 30
    assert _container(synthesized)["Name"] == CONTAINER_NAME
    assert handoff.fits_inline.__defaults__ == (CONTAINER_NAME,), "the overrides measured are the ones sent"


def _statements_of_role(synthesized: Synthesized, role_id: str) -> set[tuple[str, str]]:
    allowed = set()
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            allowed |= {(action, json.dumps(resource, sort_keys=True)) for action in actions for resource in resources}
    return allowed


def test_task_role_may_do_what_the_transcode_function_may(synthesized: Synthesized) -> None:
    """The worker runs the same step (and records failures as RecordFailure does, within the same grants)."""
    task_role = _one(synthesized, "AWS::ECS::TaskDefinition")["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    _, transcode = synthesized.function_by_handler("handlers.pipeline.transcode")
    function_role = transcode["Properties"]["Role"]["Fn::GetAtt"][0]
    of_function = {
        grant
        for grant in _statements_of_role(synthesized, function_role)
        if grant[0].startswith(("s3:", "dynamodb:", "secretsmanager:"))
    }
    assert _statements_of_role(synthesized, task_role) == of_function
    _, failure = synthesized.function_by_handler("handlers.pipeline.record_failure")
    of_failure = _statements_of_role(synthesized, failure["Properties"]["Role"]["Fn::GetAtt"][0])
    assert {g for g in of_failure if not g[0].startswith(("logs:", "xray:"))} <= of_function


@pytest.fixture(scope="module")
def worker_machine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A state machine made of the worker's step, synthesized with cdk-nag on (raises on a finding)."""
    return synthesize_worker_machine(tmp_path_factory.mktemp("worker-machine"))


def _definition(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    _, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    definition: dict[str, Any] = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
    return definition


def test_the_worker_states_render(worker_machine: dict[str, Any]) -> None:
    states = _definition(worker_machine)["States"]
    run, read, hand_on = states["TranscodeOnFargate"], states["TranscodeReadResult"], states["TranscodeHandOnResult"]

    assert run["Resource"] == "arn:TOKEN:states:::ecs:runTask.sync"
    parameters = run["Parameters"]
    assert (parameters["LaunchType"], parameters["PlatformVersion"]) == ("FARGATE", "LATEST")
    assert parameters["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    (override,) = parameters["Overrides"]["ContainerOverrides"]
    assert override["Name"] == CONTAINER_NAME
    assert override["Environment"] == [
        {"Name": "WORKER_STEP", "Value": "transcode"},
        {"Name": "WORKER_PAYLOAD", "Value.$": "States.JsonToString($)"},
    ]
    assert run["ResultPath"] is None
    assert run["TimeoutSeconds"] == 12 * 3600 + 15 * 60
    (retry,) = run["Retry"]
    assert retry["ErrorEquals"] == CAPACITY_ERRORS == ["ECS.AmazonECSException", "AmazonECS.Unknown"]
    assert retry["MaxAttempts"] >= 3

    assert read["Resource"] == "arn:TOKEN:states:::aws-sdk:s3:getObject"
    expected_key = handoff.result_key_format("transcode")
    assert read["Parameters"]["Key.$"] == f"States.Format('{expected_key}', $.task_id)"
    assert expected_key.format("01abc") == handoff.result_key("01abc", "transcode")
    assert read["ResultSelector"] == {"value.$": "States.StringToJson($.Body)"}
    assert (read["ResultPath"], read["Next"]) == ("$.transcoded", "TranscodeHandOnResult")
    assert (hand_on["Type"], hand_on["InputPath"], hand_on["ResultPath"]) == (
        "Pass",
        "$.transcoded.value",
        "$.transcoded",
    )
    for state in (run, read):
        assert state["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}]


def test_state_machine_may_run_only_the_worker(worker_machine: dict[str, Any]) -> None:
    """RunTask on the worker's task definition, PassRole of its two roles, and nothing else of ECS."""
    resources = worker_machine["Resources"]
    (role_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role" and "MachineRole" in k]
    grants: dict[str, list[Any]] = {}
    for policy in (r for r in resources.values() if r["Type"] == "AWS::IAM::Policy"):
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    grants.setdefault(action, []).append(statement["Resource"])
    (task_definition,) = [k for k, r in resources.items() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert grants["ecs:RunTask"] == [{"Ref": task_definition}]
    assert len(grants["iam:PassRole"][0]) == 2
    assert grants["s3:getObject"] == [
        {
            "Fn::Join": [
                "",
                [{"Fn::GetAtt": [next(k for k in resources if k.startswith("StorageWork")), "Arn"]}, "/tasks/*"],
            ]
        }
    ]


def test_staged_payload_passes_only_its_location(tmp_path: Path) -> None:
    from aws_cdk import aws_stepfunctions as sfn

    from tests.worker_machine import worker_machine_app

    app = worker_machine_app(tmp_path)
    worker = app.node.find_child("WorkerProbe").node.find_child("FargateWorker")
    staged = worker.run_step("Staged", step="transcode", result_key="transcoded", staged_payload=True)
    rendered = app.node.find_child("WorkerProbe").resolve(staged.run.to_state_json())
    environment = rendered["Parameters"]["Overrides"]["ContainerOverrides"][0]["Environment"]
    location = environment[1]
    assert location["Name"] == "WORKER_PAYLOAD_S3"
    assert location["Value.$"]["Fn::Join"][1][0] == "States.Format('s3://{}/tasks/{}/worker/transcode.payload.json', '"
    assert location["Value.$"]["Fn::Join"][1][2] == "', $.task_id)"
    assert handoff.payload_key_format("transcode") == "tasks/{}/worker/transcode.payload.json"
    assert isinstance(staged, sfn.StateMachineFragment)
