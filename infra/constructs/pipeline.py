"""The Step Functions state machine: Download → Transcode → Upload, with Retry and Catch on every state."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.constructs.functions import ServiceFunction, log_retention
from infra.constructs.nag import acknowledge, acknowledge_resource
from infra.constructs.workers import Workers
from infra.settings import DeploymentSettings
from transcoder.pipeline import payloads

# Only faults that another attempt can fix; a bad input fails the same way every time.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "TransientStorageError",
]


class Pipeline(constructs.Construct):
    def __init__(self, scope: constructs.Construct, id: str, *, settings: DeploymentSettings, workers: Workers) -> None:
        super().__init__(scope, id)

        record_failure = self._invoke("RecordFailure", workers.record_failure, result_key=payloads.FAILURE)
        failed = record_failure.next(
            sfn.Fail(self, "TaskFailed", error="TaskFailed", cause="The task ended as fail; query_task shows why.")
        )

        steps = [
            self._invoke("Download", workers.download, result_key=payloads.SOURCE),
            self._invoke("Transcode", workers.transcode, result_key=payloads.TRANSCODED),
            self._invoke("Upload", workers.upload, result_key=payloads.DELIVERED),
        ]
        for step in steps:
            step.add_catch(failed, errors=[sfn.Errors.ALL], result_path=payloads.result_path(payloads.ERROR))
        definition = sfn.Chain.start(steps[0]).next(steps[1]).next(steps[2]).next(sfn.Succeed(self, "TaskSucceeded"))

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(settings),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=cdk.Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray actions only accept Resource '*' (documented by AWS).",
        )
        for function in (workers.download, workers.transcode, workers.upload, workers.record_failure):
            acknowledge_resource(
                self.state_machine.role,
                f"{function.function.function_arn}:*",
                "Invoking any published version of the pipeline's own functions (CDK's grantInvoke).",
            )

    def _invoke(self, id: str, function: ServiceFunction, *, result_key: str) -> tasks.LambdaInvoke:
        """A step that runs `function` on the payload and puts its result under `result_key` for the next steps."""
        invoke = tasks.LambdaInvoke(
            self,
            id,
            lambda_function=function.function,
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=payloads.result_path(result_key),
        )
        invoke.add_retry(
            errors=TRANSIENT_ERRORS,
            interval=cdk.Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return invoke
