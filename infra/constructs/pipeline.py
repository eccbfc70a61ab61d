"""The Step Functions state machine, with Retry and Catch on every state:

Download → Plan → (runner "lambda") Transcode ─────────────────────────────→ Upload
                  (runner "chunks")  [EncodeChunks (Distributed Map) ‖ EncodeAudio] → Join ↗
"""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from infra.constructs.fargate_worker import FargateWorker
from infra.constructs.functions import ServiceFunction, log_retention
from infra.constructs.nag import acknowledge, acknowledge_resource
from infra.constructs.workers import Workers
from infra.settings import DeploymentSettings
from transcoder.pipeline import payloads

MAP_RESULTS_PREFIX = "map-results"
"""Where the Distributed Map writes its runs' results (a manifest and result files per run, a few KB): they
expire with the work bucket's other files (`work_retention_days`)."""

# Only faults that another attempt can fix; a bad input fails the same way every time.
TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "TransientStorageError",
]


EXECUTION_TIMEOUT = cdk.Duration.hours(12)
"""Bounds a task whose steps each end in time but whose map waits for Lambda concurrency: a 4-hour input at 1,000
chunks at once finishes in minutes, at 10 at once (a tight account) in hours. A task whose execution times out
ends 3002 (infra/constructs/reconcile.py)."""


def executions_of(state_machine: sfn.IStateMachine) -> str:
    """Every execution of `state_machine`: the resource CDK's grant_execution writes."""
    name = cdk.Arn.split(state_machine.state_machine_arn, cdk.ArnFormat.COLON_RESOURCE_NAME).resource_name
    stack = cdk.Stack.of(state_machine)
    execution = stack.format_arn(
        service="states", resource="execution", resource_name=name, arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME
    )
    return f"{execution}:*"


class Pipeline(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        workers: Workers,
        fargate_worker: FargateWorker,
    ) -> None:
        super().__init__(scope, id)

        record_failure = self._invoke(
            "RecordFailure", workers.record_failure, result_path=payloads.result_path(payloads.FAILURE)
        )
        failed = record_failure.next(
            sfn.Fail(self, "TaskFailed", error="TaskFailed", cause="The task ended as fail; query_task shows why.")
        )

        download = self._invoke("Download", workers.download, result_path=payloads.result_path(payloads.SOURCE))
        plan = self._invoke("Plan", workers.plan, result_path=payloads.result_path(payloads.PLAN))
        transcode = self._invoke("Transcode", workers.transcode, result_path=payloads.result_path(payloads.TRANSCODED))
        join = self._invoke("Join", workers.join, result_path=payloads.result_path(payloads.TRANSCODED))
        upload = self._invoke("Upload", workers.upload, result_path=payloads.result_path(payloads.DELIVERED))
        chunked = self._chunked(settings, workers)
        for step in (download, plan, transcode, chunked, join, upload):
            step.add_catch(failed, errors=[sfn.Errors.ALL], result_path=payloads.result_path(payloads.ERROR))
        upload.next(sfn.Succeed(self, "TaskSucceeded"))
        runner = sfn.Choice(self, "Runner", comment="How Plan chose to encode: one Lambda, chunks, or the worker")
        # What one Lambda cannot hold: Transcode's very step on the Fargate worker, its payload staged by Plan.
        on_worker = fargate_worker.run_step(
            "Transcode", step="transcode", result_key=payloads.TRANSCODED, staged_payload=True
        )
        on_worker.add_catch(failed, errors=[sfn.Errors.ALL], result_path=payloads.result_path(payloads.ERROR))
        runner.when(sfn.Condition.string_equals(f"$.{payloads.PLAN}.runner", "chunks"), chunked.next(join).next(upload))
        runner.when(sfn.Condition.string_equals(f"$.{payloads.PLAN}.runner", "fargate"), on_worker.next(upload))
        runner.otherwise(transcode.next(upload))
        definition = sfn.Chain.start(download).next(plan).next(runner)

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
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        fargate_worker.acknowledge_state_machine(self.state_machine)
        executions = executions_of(self.state_machine)
        acknowledge_resource(
            self.state_machine,
            executions,
            "The Distributed Map runs each chunk as a child execution of this state machine, named at run time.",
        )
        acknowledge_resource(
            self.state_machine,
            executions.removesuffix(":*") + "/*:*",
            "The Distributed Map describes and stops its own map runs' child executions, named at run time.",
        )
        acknowledge_resource(
            self.state_machine.role,
            f"arn:{cdk.Aws.PARTITION}:s3:::{workers.work_bucket.bucket_name}/*",
            "The map reads each task's chunk items (tasks/<task_id>/plan/chunks.json, a key known at run time) and "
            "writes its runs' results under map-results/ (CDK's ItemReader and ResultWriter grants).",
        )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions' log delivery and X-Ray actions only accept Resource '*' (documented by AWS).",
        )
        for function in workers.steps:
            acknowledge_resource(
                self.state_machine.role,
                f"{function.function.function_arn}:*",
                "Invoking any published version of the pipeline's own functions (CDK's grantInvoke).",
            )

    def _chunked(self, settings: DeploymentSettings, workers: Workers) -> sfn.Parallel:
        """Every chunk on its own Lambda invocation (a Distributed Map), the audio beside them, encoded once."""
        # Its result (the chunk's files) is the item's output, which the map writes to S3.
        encode = self._invoke("EncodeChunk", workers.encode_chunk, result_path="$")
        # A map whose item fails reports only that its tolerated failures were exceeded: the task's err_code
        # and the chunk's time range are recorded here, where the chunk's own error is still known.
        record = self._invoke(
            "RecordChunkFailure", workers.record_failure, result_path=payloads.result_path(payloads.FAILURE)
        )
        encode.add_catch(
            record.next(
                sfn.Fail(self, "ChunkFailed", error="ChunkFailed", cause="A chunk failed; query_task shows why.")
            ),
            errors=[sfn.Errors.ALL],
            result_path=payloads.result_path(payloads.ERROR),
        )
        work = workers.work_bucket
        chunks = sfn.DistributedMap(
            self,
            "EncodeChunks",
            item_reader=sfn.S3JsonItemReader(bucket=work, key=sfn.JsonPath.string_at(f"$.{payloads.PLAN}.items.key")),
            item_selector={
                "task_id": sfn.JsonPath.string_at("$.task_id"),
                "account_id": sfn.JsonPath.string_at("$.account_id"),
                "template": sfn.JsonPath.object_at("$.template"),
                payloads.SOURCE: sfn.JsonPath.object_at(f"$.{payloads.SOURCE}"),
                "chunk": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                "total": sfn.JsonPath.number_at(f"$.{payloads.PLAN}.chunks"),
            },
            # No tolerated failures (the map's default): a chunk that fails for good fails the task.
            max_concurrency=settings.map_max_concurrency,
            # The chunks' results (their file names) go to S3, not into the execution's 256 KiB payload.
            result_writer_v2=sfn.ResultWriterV2(bucket=work, prefix=MAP_RESULTS_PREFIX),
            result_path=sfn.JsonPath.DISCARD,
        )
        chunks.item_processor(encode)
        audio = self._invoke("EncodeAudio", workers.encode_audio, result_path=sfn.JsonPath.DISCARD)
        needs_audio = sfn.Choice(self, "HasAudio")
        needs_audio.when(sfn.Condition.boolean_equals(f"$.{payloads.PLAN}.audio", True), audio)
        needs_audio.otherwise(sfn.Pass(self, "NoAudio"))
        encoded = sfn.Parallel(self, "EncodeChunked", result_path=sfn.JsonPath.DISCARD)
        encoded.branch(chunks)
        encoded.branch(needs_audio)
        return encoded

    def _invoke(self, id: str, function: ServiceFunction, *, result_path: str) -> tasks.LambdaInvoke:
        """A step that runs `function` on the payload and puts its result at `result_path` (a step's key, see
        payloads.result_path; DISCARD: the payload passes on unchanged; "$": the result replaces it)."""
        invoke = tasks.LambdaInvoke(
            self,
            id,
            lambda_function=function.function,
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        invoke.add_retry(
            errors=TRANSIENT_ERRORS,
            interval=cdk.Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
            jitter_strategy=sfn.JitterType.FULL,
        )
        return invoke
