"""A Lambda function of this service: its own role, log group and the shared code asset."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from infra.bundling import RUNTIME, functions_code
from infra.constructs.nag import acknowledge
from infra.settings import DeploymentSettings
from transcoder import metric_names

LAMBDA_ARCHITECTURES = {"x86_64": lambda_.Architecture.X86_64, "arm64": lambda_.Architecture.ARM_64}
SERVICE_NAME = "transcoder"


class ServiceFunction(constructs.Construct):
    """One function with a role that starts empty: each caller grants only what it needs."""

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        handler: str,
        memory_mb: int,
        timeout: cdk.Duration,
        environment: dict[str, str],
        layers: list[lambda_.ILayerVersion] | None = None,
        ephemeral_storage_mib: int = 512,
        code: lambda_.Code | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(settings),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=LAMBDA_ARCHITECTURES[settings.architecture],
            code=code or functions_code(settings.architecture),
            handler=handler,
            memory_size=memory_mb,
            timeout=timeout,
            ephemeral_storage_size=cdk.Size.mebibytes(ephemeral_storage_mib),
            role=self.role,
            log_group=self.log_group,
            layers=layers,
            # X-Ray: API Gateway and Step Functions trace too, so a task's trace runs from its request to its
            # last step (functions/handlers/tracing.py).
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                metric_names.NAMESPACE_ENV: metric_names.NAMESPACE,
                **environment,
            },
        )
        self.log_group.grant_write(self.role)
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Active tracing's xray:PutTraceSegments and xray:PutTelemetryRecords accept only Resource '*' "
            "(documented by AWS); CDK grants exactly these two.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"{RUNTIME.name} is a current runtime, and the newest whose interpreter the build uses to precompile "
            "the asset's bytecode and the tests use to import the asset; python3.14 (the latest CDK knows) waits "
            "until that interpreter is available on the project's machines.",
        )


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def log_retention(settings: DeploymentSettings) -> logs.RetentionDays:
    return _RETENTION[settings.log_retention_days]
