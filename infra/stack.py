"""The service's stack: storage, workers, pipeline and API, wired together."""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_iam as iam

from infra.constructs.api import Api
from infra.constructs.callbacks import Callbacks
from infra.constructs.console import ConsoleSite
from infra.constructs.fargate_worker import FargateWorker
from infra.constructs.ingest import Ingest
from infra.constructs.monitoring import Monitoring
from infra.constructs.nag import acknowledge_resource
from infra.constructs.pipeline import EXECUTION_TIMEOUT, Pipeline, executions_of
from infra.constructs.reconcile import Reconcile
from infra.constructs.storage import Storage
from infra.constructs.workers import Workers
from infra.settings import DROP_PREFIX, DeploymentSettings


class TranscoderStack(cdk.Stack):
    def __init__(self, scope: constructs.Construct, id: str, *, settings: DeploymentSettings, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.storage = Storage(self, "Storage", settings=settings)
        environment = {
            "TASK_TABLE": self.storage.task_table.table_name,
            "INPUT_BUCKET": self.storage.input_bucket.bucket_name,
            "OUTPUT_BUCKET": self.storage.output_bucket.bucket_name,
            "WORK_BUCKET": self.storage.work_bucket.bucket_name,
            "PRESIGN_EXPIRY_SECONDS": str(settings.presign_expiry_seconds),
            "MAX_INPUT_BYTES": str(settings.max_input_bytes),
            "MAX_INPUT_SECONDS": str(settings.max_input_seconds),
            "CHUNK_SECONDS": str(settings.chunk_seconds),
            "CHUNK_MIN_INPUT_SECONDS": str(settings.chunk_min_input_seconds),
            "LAMBDA_MAX_OUTPUT_MIB": str(settings.lambda_max_output_mib),
            "MAX_OUTPUT_PIXELS": str(settings.max_output_pixels),
            "MAX_OUTPUT_DIMENSION": str(settings.max_output_dimension),
            "MAX_OUTPUT_FRAMERATE": str(settings.max_output_framerate),
            "EXTRA_INPUT_BUCKETS": ",".join(settings.extra_input_buckets),
            "DEFAULT_TEMPLATE": settings.default_template,
            "DROP_PREFIX": DROP_PREFIX,
            "TRUSTED_INPUT_NETWORKS": ",".join(settings.trusted_input_networks),
            "IDEMPOTENCY_TABLE": self.storage.idempotency_table.table_name,
            "TEMPLATE_TABLE": self.storage.template_table.table_name,
            "STORAGE_TABLE": self.storage.storage_table.table_name,
            **settings.cost_environment(),
        }
        self.workers = Workers(self, "Workers", settings=settings, storage=self.storage, environment=environment)
        self.fargate_worker = FargateWorker(
            self, "FargateWorker", settings=settings, storage=self.storage, environment=environment
        )
        self.pipeline = Pipeline(
            self, "Pipeline", settings=settings, workers=self.workers, fargate_worker=self.fargate_worker
        )
        self.api = Api(
            self,
            "Api",
            settings=settings,
            storage=self.storage,
            environment={**environment, "STATE_MACHINE_ARN": self.pipeline.state_machine.state_machine_arn},
        )
        # A browser cannot SigV4-sign its calls: with IAM in front of the API, the console could not use it.
        if settings.api_authorization == "signature":
            ConsoleSite(
                self, "Console", settings=settings, rest_api=self.api.rest_api, input_bucket=self.storage.input_bucket
            )
        self.pipeline.state_machine.grant_start_execution(self.api.handler.role)
        # cancel_task and del_task stop a task's execution, named by the task id.
        executions = executions_of(self.pipeline.state_machine)
        self.api.handler.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StopExecution"], resources=[executions])
        )
        acknowledge_resource(
            self.api.handler.role,
            executions,
            "cancel_task stops the execution of any task of the pipeline: executions are named by task ids.",
        )
        self.ingest = Ingest(
            self,
            "Ingest",
            settings=settings,
            storage=self.storage,
            state_machine=self.pipeline.state_machine,
            environment=environment,
        )
        self.callbacks = Callbacks(self, "Callbacks", settings=settings, storage=self.storage, environment=environment)
        self.reconcile = Reconcile(
            self,
            "Reconcile",
            settings=settings,
            storage=self.storage,
            state_machine=self.pipeline.state_machine,
            execution_timeout=EXECUTION_TIMEOUT,
            environment=environment,
        )
        # Last: it finds every function and dead-letter queue created above.
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            api=self.api,
            state_machine=self.pipeline.state_machine,
            task_steps=self.workers.steps,
            failure_queues=[self.callbacks.stream_failures],
        )

        cdk.CfnOutput(self, "ApiUrl", value=self.api.url)
        cdk.CfnOutput(self, "InputBucketName", value=self.storage.input_bucket.bucket_name)
        cdk.CfnOutput(self, "OutputBucketName", value=self.storage.output_bucket.bucket_name)
        cdk.CfnOutput(self, "IngestDeadLetterQueueUrl", value=self.ingest.dead_letters.queue_url)
        cdk.CfnOutput(self, "CallbackDeadLetterQueueUrl", value=self.callbacks.dead_letters.queue_url)
        cdk.CfnOutput(self, "ReconcileDeadLetterQueueUrl", value=self.reconcile.dead_letters.queue_url)
        cdk.CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
        cdk.CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        cdk.CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)
        # What `transcoder keys` needs to manage access keys of this deployment.
        cdk.CfnOutput(self, "AccessKeysTableName", value=self.storage.access_key_table.table_name)
        cdk.CfnOutput(self, "AccessKeyEncryptionKeyArn", value=self.storage.access_key_encryption.key_arn)

    @property
    def availability_zones(self) -> list[str]:
        """The Fargate worker's VPC spans the region's first two AZs, chosen at deploy time (Fn::GetAZs).

        CDK's default looks them up at synth when the stack is bound to an account (the CDK CLI binds it), which
        needs credentials and would put literal AZs in the template; `make synth` and `cdk synth` need neither.
        """
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(2)]
