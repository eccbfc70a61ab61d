"""The Fargate worker: an ECS cluster and task definition running `python -m worker`, and its Step Functions state.

What one Lambda cannot hold (a step longer than 15 minutes, an output beyond 10 GiB of /tmp) runs here, in a
container built from the repository's Dockerfile with the same static ffmpeg and the same domain code.

Networking: a VPC of its own with public subnets only, and tasks with a public IP. The worker only makes
outbound calls (S3, DynamoDB, Secrets Manager, and the inputs' https:// hosts); a NAT gateway would cost
about $33 a month per AZ before any byte moves, and the default VPC is not in every account. Nothing can
reach in: the security group has no inbound rule. S3 and DynamoDB traffic goes through free gateway endpoints.
"""

from pathlib import Path

import aws_cdk as cdk
import constructs
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.constructs.access import (
    INPUT_READ_ACTIONS,
    allow_items,
    allow_listing,
    allow_named_bucket_objects,
    allow_objects,
    allow_storage_secrets,
)
from infra.constructs.functions import SERVICE_NAME, log_retention
from infra.constructs.nag import acknowledge, acknowledge_resource
from infra.constructs.storage import Storage
from infra.constructs.workers import WORK_PREFIX
from infra.settings import DeploymentSettings
from transcoder import metric_names
from transcoder.pipeline import handoff

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "Dockerfile"
CONTAINER_NAME = "Worker"
CAPACITY_ERRORS = ["ECS.AmazonECSException", "AmazonECS.Unknown"]
"""What RunTask fails with when Fargate has no capacity now (AWS re:Post "Capacity is unavailable"), and what a
.sync RunTask fails with when ECS answers with a non-empty `failures` list (the Step Functions ECS guide)."""
START_MARGIN = cdk.Duration.minutes(15)
"""Beyond the worker's own budget: pulling the image and starting the task before the step runs."""

_PLATFORMS = {
    "x86_64": (ecs.CpuArchitecture.X86_64, ecr_assets.Platform.LINUX_AMD64),
    "arm64": (ecs.CpuArchitecture.ARM64, ecr_assets.Platform.LINUX_ARM64),
}
_TASK_KEYS = "Each task's work files (the worker's payload and result too) live under tasks/<task_id>/."
_INPUTS = "A task's input is any object of the input bucket, named by the user at run time."


class FargateWorker(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        self.settings = settings
        self.work_bucket = storage.work_bucket
        self.vpc = self._network(settings)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="Fargate worker: outbound only (AWS APIs and the hosts of inputs), nothing inbound",
        )
        self.cluster = ecs.Cluster(self, "Cluster", vpc=self.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)

        cpu_architecture, image_platform = _PLATFORMS[settings.architecture]
        self.task_role = iam.Role(self, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=settings.worker_cpu,
            memory_limit_mib=settings.worker_memory_mib,
            ephemeral_storage_gib=settings.worker_ephemeral_storage_gib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=cpu_architecture, operating_system_family=ecs.OperatingSystemFamily.LINUX
            ),
            task_role=self.task_role,
        )
        self.log_group = logs.LogGroup(
            self, "Logs", retention=log_retention(settings), removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.container = self.task_definition.add_container(
            CONTAINER_NAME,
            container_name=CONTAINER_NAME,
            # Copied into the cloud assembly at synth (no Docker needed); built and pushed by `cdk deploy`.
            image=ecs.ContainerImage.from_asset(
                str(ROOT),
                file=DOCKERFILE,
                platform=image_platform,
                build_args={"ARCHITECTURE": settings.architecture},
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=self.log_group),
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # Its metrics are EMF lines on stdout: the awslogs driver's PutLogEvents makes them metrics.
                metric_names.NAMESPACE_ENV: metric_names.NAMESPACE,
                "AWS_REGION": cdk.Stack.of(self).region,
                "WORKER_TIME_BUDGET_SECONDS": str(settings.worker_time_budget_seconds),
                **environment,
            },
            # SIGTERM first (a stopped execution, StopTask): the worker records the failure, then exits.
            stop_timeout=cdk.Duration.seconds(60),
        )
        self._grant(storage, settings)
        self._acknowledge()

    def _network(self, settings: DeploymentSettings) -> ec2.Vpc:
        vpc = ec2.Vpc(
            self,
            "Network",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC)],
            # The default security group is never used (the tasks have their own); restricting it would add
            # a custom resource and its Lambda function to the stack for nothing.
            restrict_default_security_group=False,
        )
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        vpc.add_gateway_endpoint("DynamoDB", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)
        rejected = logs.LogGroup(
            self, "RejectedTraffic", retention=log_retention(settings), removal_policy=cdk.RemovalPolicy.DESTROY
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(rejected),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return vpc

    def _grant(self, storage: Storage, settings: DeploymentSettings) -> None:
        """What the Transcode function may do, and RecordFailure's cleanup: the worker runs both."""
        role = self.task_role
        allow_items(role, storage.task_table, ["dynamodb:GetItem", "dynamodb:UpdateItem"])
        allow_items(role, storage.storage_table, ["dynamodb:GetItem"])
        allow_storage_secrets(
            role,
            ["secretsmanager:GetSecretValue"],
            reason="A task's storage is named at run time; its keys are the secret "
            "transcoder/storages/<account>/<storage_id>, read only, under that prefix only.",
        )
        allow_listing(role, storage.input_bucket)
        allow_objects(role, storage.input_bucket, INPUT_READ_ACTIONS, reason=_INPUTS)
        for name in settings.extra_input_buckets:
            allow_named_bucket_objects(role, name, INPUT_READ_ACTIONS, reason=_INPUTS)
        allow_listing(role, storage.work_bucket)
        allow_objects(
            role,
            storage.work_bucket,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            prefix=WORK_PREFIX,
            reason=_TASK_KEYS,
        )

    def _acknowledge(self) -> None:
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The worker's environment holds resource names, limits and its time budget, as the Lambda "
            "functions' does; no secret: a storage's keys are read from Secrets Manager at run time.",
        )
        execution_role = self.task_definition.execution_role
        if execution_role is not None:
            acknowledge(
                execution_role,
                "AwsSolutions-IAM5[Resource::*]",
                "ecr:GetAuthorizationToken, which pulling the worker's image needs, has no resource-level "
                "permissions (documented by AWS); the image pull itself is limited to the asset repository.",
            )

    def run_step(self, id: str, *, step: str, result_key: str, staged_payload: bool = False) -> "WorkerStep":
        """The states that run `step` on the worker and put its result at `$.<result_key>`, like its Lambda.

        The payload (the state's whole input) passes inline in WORKER_PAYLOAD, a container override, while it
        fits ECS's 8,192 characters of overrides; `staged_payload=True` passes only its location instead
        (WORKER_PAYLOAD_S3, derived from the task id), for a state before it that wrote it there
        (transcoder.pipeline.handoff.stage_payload).
        """
        return WorkerStep(self, id, worker=self, step=step, result_key=result_key, staged_payload=staged_payload)

    def acknowledge_state_machine(self, state_machine: sfn.StateMachine) -> None:
        """Acknowledge the wildcards of the state machine's role once a WorkerStep is part of it."""
        role = state_machine.role
        acknowledge_resource(
            role,
            self.work_bucket.arn_for_objects(f"{WORK_PREFIX}*"),
            "Reads the result a worker leaves under its task's work files, tasks/<task_id>/worker/.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecs:StopTask and ecs:DescribeTasks of a .sync RunTask name tasks that do not exist before it runs "
            "(CDK's EcsRunTask grants them on '*', as the Step Functions guide does).",
        )


class WorkerStep(sfn.StateMachineFragment):
    """RunTask.sync of the worker, then the result it left read back into the payload at `$.<result_key>`."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        worker: FargateWorker,
        step: str,
        result_key: str,
        staged_payload: bool,
    ) -> None:
        super().__init__(scope, id)
        task_id = sfn.JsonPath.string_at("$.task_id")
        if staged_payload:
            location = f"s3://{{}}/{handoff.payload_key_format(step)}"
            payload = tasks.TaskEnvironmentVariable(
                name="WORKER_PAYLOAD_S3", value=sfn.JsonPath.format(location, worker.work_bucket.bucket_name, task_id)
            )
        else:
            payload = tasks.TaskEnvironmentVariable(
                name="WORKER_PAYLOAD", value=sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$"))
            )
        budget = cdk.Duration.seconds(worker.settings.worker_time_budget_seconds)
        self.run = tasks.EcsRunTask(
            self,
            "Run",
            state_name=f"{id}OnFargate",
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            cluster=worker.cluster,
            task_definition=worker.task_definition,
            launch_target=tasks.EcsFargateLaunchTarget(platform_version=ecs.FargatePlatformVersion.LATEST),
            assign_public_ip=True,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[worker.security_group],
            container_overrides=[
                tasks.ContainerOverride(
                    container_definition=worker.container,
                    environment=[tasks.TaskEnvironmentVariable(name="WORKER_STEP", value=step), payload],
                )
            ],
            # ECS's description of the stopped task is large and says nothing the next steps need.
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(budget.plus(START_MARGIN)),
        )
        self.run.add_retry(
            errors=CAPACITY_ERRORS,
            interval=cdk.Duration.seconds(30),
            max_attempts=5,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        self.read = tasks.CallAwsService(
            self,
            "ReadResult",
            state_name=f"{id}ReadResult",
            service="s3",
            action="getObject",
            parameters={
                "Bucket": worker.work_bucket.bucket_name,
                "Key": sfn.JsonPath.format(handoff.result_key_format(step), task_id),
            },
            iam_resources=[worker.work_bucket.arn_for_objects(f"{WORK_PREFIX}*")],
            result_selector={"value": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.Body"))},
            result_path=f"$.{result_key}",
        )
        # A ResultSelector must build an object: unwrap it, so `$.<result_key>` is the step's result itself.
        self.hand_on = sfn.Pass(
            self,
            "HandOn",
            state_name=f"{id}HandOnResult",
            input_path=f"$.{result_key}.value",
            result_path=f"$.{result_key}",
        )
        self.run.next(self.read).next(self.hand_on)

    @property
    def start_state(self) -> sfn.State:
        return self.run

    @property
    def end_states(self) -> list[sfn.INextable]:
        return [self.hand_on]

    def add_catch(self, handler: sfn.IChainable, *, errors: list[str], result_path: str) -> "WorkerStep":
        """The same Catch on every state of the step that can fail."""
        for state in (self.run, self.read):
            state.add_catch(handler, errors=errors, result_path=result_path)
        return self
