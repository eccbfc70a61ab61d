"""moto's server as the local AWS endpoint, provisioned from the synthesized template."""

import itertools
import json
import logging
import os
import time
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.s3 import notifications as s3_notifications
from moto.server import ThreadedMotoServer

from localmode.dynamo_numbers import add_numbers_in_any_notation
from localmode.executions import route_execution_ends
from localmode.functions import FunctionRegistry, LocalFunction
from localmode.post_policy import enforce_post_policies
from localmode.queues import SqsPoller
from localmode.rules import EventRules, ScheduleRunner, rules_of
from localmode.streams import DynamoStreamPoller, parse_filters
from localmode.template import REGION, LocalTemplate
from localmode.worker import LocalTaskDefinition, LocalWorkers, read_sdk_bodies_as_text, route_ecs_to_local_workers

_DUMMY_CODE_ZIP = (
    b"PK\x05\x06" + b"\x00" * 18  # an empty zip archive: moto stores it, the handler runs in-process
)
_LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def set_local_environment(aws_port: int) -> None:
    """Point every AWS client of this process at the emulator, with credentials that exist nowhere else."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "MOTO_PORT": str(aws_port),
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_METRICS_NAMESPACE": "transcoder",
        }
    )
    # The handlers' metrics are EMF lines on stdout, the console's output here: shown only when asked for
    # (POWERTOOLS_METRICS_DISABLED=false).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(name, None)


def _route_lambda_to_registry(registry: FunctionRegistry) -> None:
    original = LambdaFunction.invoke

    def invoke(self: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> Any:
        if self.function_name not in registry:
            return original(self, body, request_headers, response_headers)
        payload, error = registry.invoke(self.function_name, json.loads(body) if body else {})
        if error:
            response_headers["x-amz-function-error"] = error
        return payload

    LambdaFunction.invoke = invoke  # type: ignore[method-assign]


def add_version_to_s3_events() -> None:
    """moto's S3 notifications lack the versionId and sequencer that S3 sends; add them as S3 does."""
    original = s3_notifications._get_s3_event
    if getattr(original, "adds_version", False):
        return
    counter = itertools.count(1)

    def get_s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = original(event_name, bucket, key, notification_id)
        obj = event["Records"][0]["s3"]["object"]
        version = getattr(key, "version_id", None)
        if version and version != "null":
            obj["versionId"] = version
        obj["sequencer"] = f"{time.time_ns():016X}{next(counter):08X}"
        return event

    get_s3_event.adds_version = True  # type: ignore[attr-defined]
    s3_notifications._get_s3_event = get_s3_event


class Emulator:
    def __init__(self, aws_port: int) -> None:
        self.aws_port = aws_port
        self.registry = FunctionRegistry()
        self.workers = LocalWorkers()
        self.pollers: list[SqsPoller | DynamoStreamPoller | ScheduleRunner] = []
        self.event_rules = EventRules(self.registry)
        """The template's rules on events: the pipeline's execution ends reach them (localmode.executions)."""
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def start(self) -> None:
        # Must be set before any state machine exists: moto picks the executing backend per request.
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        _route_lambda_to_registry(self.registry)
        route_ecs_to_local_workers(self.workers)
        read_sdk_bodies_as_text()
        add_version_to_s3_events()
        enforce_post_policies()
        add_numbers_in_any_notation()
        route_execution_ends(self.event_rules)
        self._server.start()

    def start_event_sources(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        self.workers.stop_all()
        self._server.stop()

    def provision(self, local: LocalTemplate) -> dict[str, str]:
        """Create what the template declares; returns the function environment, resolved."""
        kms = boto3.client("kms", endpoint_url=self.endpoint_url)
        for logical_id, resource in local.of_type("AWS::KMS::Key").items():
            description = resource.get("Properties", {}).get("Description", logical_id)
            local.assigned_ids[logical_id] = kms.create_key(Description=description)["KeyMetadata"]["KeyId"]

        s3 = boto3.client("s3", endpoint_url=self.endpoint_url)
        for logical_id, resource in local.of_type("AWS::S3::Bucket").items():
            name = local.physical_name(logical_id)
            s3.create_bucket(Bucket=name)
            versioning = resource.get("Properties", {}).get("VersioningConfiguration")
            if versioning:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning["Status"]})

        dynamodb = boto3.client("dynamodb", endpoint_url=self.endpoint_url)
        for logical_id, resource in local.of_type("AWS::DynamoDB::Table").items():
            properties = resource["Properties"]
            table: dict[str, Any] = {
                "TableName": local.physical_name(logical_id),
                "KeySchema": properties["KeySchema"],
                "AttributeDefinitions": properties["AttributeDefinitions"],
                "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if properties.get("GlobalSecondaryIndexes"):
                table["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
            if properties.get("StreamSpecification"):
                view_type = properties["StreamSpecification"]["StreamViewType"]
                table["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
            created = dynamodb.create_table(**table)["TableDescription"]
            if "LatestStreamArn" in created:
                local.attributes[(logical_id, "StreamArn")] = created["LatestStreamArn"]

        sqs = boto3.client("sqs", endpoint_url=self.endpoint_url)
        queues = local.of_type("AWS::SQS::Queue")
        # Dead-letter queues first: a redrive policy names its target's ARN.
        for logical_id, resource in sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1]["Properties"]):
            properties = local.resolve(resource.get("Properties", {}))
            attributes: dict[Any, str] = {"VisibilityTimeout": str(properties.get("VisibilityTimeout", 30))}
            if "RedrivePolicy" in properties:
                attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
            sqs.create_queue(QueueName=local.physical_name(logical_id), Attributes=attributes)
        for resource in local.of_type("Custom::S3BucketNotifications").values():
            properties = local.resolve(resource["Properties"])
            s3.put_bucket_notification_configuration(
                Bucket=properties["BucketName"], NotificationConfiguration=properties["NotificationConfiguration"]
            )

        iam = boto3.client("iam", endpoint_url=self.endpoint_url)
        role_arn = iam.create_role(RoleName="local-lambda", AssumeRolePolicyDocument=json.dumps(_LAMBDA_TRUST))["Role"][
            "Arn"
        ]
        lambda_client = boto3.client("lambda", endpoint_url=self.endpoint_url)
        environment: dict[str, str] = {}
        for logical_id, resource in local.of_type("AWS::Lambda::Function").items():
            properties = resource["Properties"]
            if "ZipFile" in properties.get("Code", {}):
                continue  # CDK's inline custom-resource handlers run at deploy time only
            name = local.physical_name(logical_id)
            lambda_client.create_function(
                FunctionName=name,
                Runtime=properties["Runtime"],
                Role=role_arn,
                Handler=properties["Handler"],
                Code={"ZipFile": _DUMMY_CODE_ZIP},
                Timeout=properties.get("Timeout", 3),
                MemorySize=properties.get("MemorySize", 128),
            )
            self.registry.add(
                LocalFunction(
                    name=name,
                    arn=local.arn(logical_id),
                    handler_path=properties["Handler"],
                    timeout_seconds=int(properties.get("Timeout", 3)),
                    memory_mb=int(properties.get("MemorySize", 128)),
                )
            )
            variables = local.resolve(properties.get("Environment", {}).get("Variables", {}))
            _merge_environment(environment, variables, name)

        for resource in local.of_type("AWS::Lambda::EventSourceMapping").values():
            properties = local.resolve(resource["Properties"])
            source = properties["EventSourceArn"]
            if source.startswith("arn:aws:dynamodb:"):
                self.pollers.append(
                    DynamoStreamPoller(
                        self.registry,
                        function_name=properties["FunctionName"],
                        stream_arn=source,
                        batch_size=int(properties.get("BatchSize", 100)),
                        filters=parse_filters(properties.get("FilterCriteria")),
                        retry_attempts=int(properties.get("MaximumRetryAttempts", 3)),
                    )
                )
                continue
            if properties.get("FilterCriteria"):
                raise ValueError(f"{properties['FunctionName']}: filters on SQS mappings are not emulated")
            self.pollers.append(
                SqsPoller(
                    self.registry,
                    function_name=properties["FunctionName"],
                    queue_arn=source,
                    batch_size=int(properties.get("BatchSize", 10)),
                )
            )

        pattern_rules, schedules = rules_of(local)
        self.event_rules.rules = pattern_rules
        self.pollers.extend(ScheduleRunner(self.registry, schedule) for schedule in schedules)

        for logical_id, resource in local.of_type("AWS::ECS::TaskDefinition").items():
            self.workers.add(local_task_definition(local, logical_id, resource))

        sfn = boto3.client("stepfunctions", endpoint_url=self.endpoint_url)
        for logical_id, resource in local.of_type("AWS::StepFunctions::StateMachine").items():
            definition = local.resolve(resource["Properties"]["DefinitionString"])
            for arn in distributed_item_functions(json.loads(definition)):
                self.registry.allow_parallel(arn, os.cpu_count() or 1)
            sfn.create_state_machine(name=local.physical_name(logical_id), definition=definition, roleArn=role_arn)
        return environment


def distributed_item_functions(definition: dict[str, Any]) -> set[str]:
    """ARNs of the functions a Distributed Map of `definition` invokes for its items, however deeply nested."""
    found: set[str] = set()

    def walk(states: dict[str, Any], in_distributed_map: bool) -> None:
        for state in states.values():
            if in_distributed_map and state.get("Type") == "Task" and ":function:" in str(state.get("Resource")):
                found.add(str(state["Resource"]))
            for branch in state.get("Branches", []):
                walk(branch.get("States", {}), in_distributed_map)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
                walk(processor.get("States", {}), in_distributed_map or distributed)

    walk(definition.get("States", {}), False)
    return found


def local_task_definition(local: LocalTemplate, logical_id: str, resource: dict[str, Any]) -> LocalTaskDefinition:
    """The worker's task definition as local mode runs it: its container's name, environment, stop timeout."""
    (container,) = resource["Properties"]["ContainerDefinitions"]
    variables = local.resolve(container.get("Environment", []))
    return LocalTaskDefinition(
        arn=local.ref(logical_id),
        family=str(local.resolve(resource["Properties"].get("Family", logical_id))),
        container_name=container["Name"],
        environment={pair["Name"]: str(pair["Value"]) for pair in variables},
        stop_timeout_seconds=int(container.get("StopTimeout", 30)),
    )


def _merge_environment(environment: dict[str, str], variables: dict[str, str], function_name: str) -> None:
    """All handlers share this process's environment, so their variables must agree."""
    for key, value in variables.items():
        if environment.get(key, value) != value:
            raise ValueError(f"{function_name}: {key}={value!r} differs from another function's {environment[key]!r}")
        environment[key] = str(value)
