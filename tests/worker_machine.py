"""A tiny app whose state machine runs one step on the Fargate worker, until the pipeline itself does."""

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import AwsSolutionsChecks

from infra.app import cdk_json_context
from infra.constructs.fargate_worker import FargateWorker
from infra.constructs.storage import Storage
from infra.settings import DROP_PREFIX, DeploymentSettings
from transcoder.pipeline import payloads

STACK = "WorkerProbe"
FAILED_ERROR = "WorkerStepFailed"


def worker_machine_app(outdir: Path, settings: DeploymentSettings | None = None) -> cdk.App:
    """Storage, the worker, and a machine: the Transcode step on the worker, Catch → Fail with the error."""
    settings = settings or DeploymentSettings()
    # cdk.json's feature flags, as the real app has them.
    app = cdk.App(outdir=str(outdir), context={**cdk_json_context(), "aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, STACK)
    storage = Storage(stack, "Storage", settings=settings)
    environment = {
        "TASK_TABLE": storage.task_table.table_name,
        "INPUT_BUCKET": storage.input_bucket.bucket_name,
        "OUTPUT_BUCKET": storage.output_bucket.bucket_name,
        "WORK_BUCKET": storage.work_bucket.bucket_name,
        "STORAGE_TABLE": storage.storage_table.table_name,
        "TEMPLATE_TABLE": storage.template_table.table_name,
        "DROP_PREFIX": DROP_PREFIX,
    }
    worker = FargateWorker(stack, "FargateWorker", settings=settings, storage=storage, environment=environment)
    step = worker.run_step("Transcode", step="transcode", result_key=payloads.TRANSCODED)
    failed = sfn.Fail(stack, "Failed", error=FAILED_ERROR, cause="the worker's step failed")
    step.add_catch(failed, errors=[sfn.Errors.ALL], result_path=payloads.result_path(payloads.ERROR))
    machine = sfn.StateMachine(
        stack,
        "Machine",
        definition_body=sfn.DefinitionBody.from_chainable(step.next(sfn.Succeed(stack, "Done"))),
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=logs.LogGroup(stack, "MachineLogs"), level=sfn.LogLevel.ALL),
    )
    worker.acknowledge_state_machine(machine)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def synthesize(outdir: Path, settings: DeploymentSettings | None = None) -> dict[str, Any]:
    worker_machine_app(outdir, settings).synth()  # raises on an unacknowledged cdk-nag finding
    template: dict[str, Any] = json.loads((outdir / f"{STACK}.template.json").read_text())
    return template
