"""No task stays non-terminal: an EventBridge rule on the pipeline's ended executions and a scheduled sweep,
each with its function (handlers/reconcile.py), retries and a dead-letter queue.

- Rule: "Step Functions Execution Status Change" of this state machine with status TIMED_OUT, ABORTED or FAILED
  → ExecutionEnded, which ends the task fail 3002, 9001 or 9000 unless it already ended.
- Schedule: every `sweep_interval_minutes` → Sweep, which ends fail 9002 what no event ended.
"""

import aws_cdk as cdk
import constructs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_stepfunctions as sfn

from infra.constructs.access import allow_index_query, allow_items, allow_listing, allow_objects
from infra.constructs.functions import ServiceFunction
from infra.constructs.nag import acknowledge, acknowledge_resource
from infra.constructs.pipeline import executions_of
from infra.constructs.queues import dead_letter_queue
from infra.constructs.storage import OPEN_TASKS_BY_TIME, Storage
from infra.constructs.workers import WORK_PREFIX
from infra.settings import DeploymentSettings

ENDED_STATUSES = ["TIMED_OUT", "ABORTED", "FAILED"]  # transcoder.reconcile.ENDED_STATUSES
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
EXECUTION_ENDED_TIMEOUT_SECONDS = 60
SWEEP_TIMEOUT_SECONDS = 300
"""Describing each open task's execution (DescribeExecution is throttled past a few hundred at once)."""
EVENT_RETRY_ATTEMPTS = 8
EVENT_MAX_AGE = cdk.Duration.hours(2)


class Reconcile(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        storage: Storage,
        state_machine: sfn.IStateMachine,
        execution_timeout: cdk.Duration,
        environment: dict[str, str],
    ) -> None:
        super().__init__(scope, id)
        # Events that could not be delivered after EventBridge's retries, or that failed the function after Lambda's.
        self.dead_letters = dead_letter_queue(self)
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter destination: the rules' targets' dead-letter queue.",
        )
        reconcile_environment = {
            **environment,
            "EXECUTION_TIMEOUT_SECONDS": str(int(execution_timeout.to_seconds())),
            "STUCK_PENDING_SECONDS": str(settings.stuck_pending_seconds),
            "STUCK_GRACE_SECONDS": str(settings.stuck_grace_seconds),
        }

        def function(id: str, handler: str, timeout_seconds: int, **extra: str) -> ServiceFunction:
            made = ServiceFunction(
                self,
                id,
                settings=settings,
                handler=f"handlers.reconcile.{handler}",
                memory_mb=settings.api_memory_mb,
                timeout=cdk.Duration.seconds(timeout_seconds),
                environment={**reconcile_environment, **extra},
            )
            # EventBridge hands the event to Lambda, whose own retries (two) cover the function's errors; an event
            # that still fails is dead-lettered too.
            made.function.configure_async_invoke(
                retry_attempts=2, on_failure=destinations.SqsDestination(self.dead_letters)
            )
            # End a task (a conditional UpdateItem) and delete its work files, as RecordFailure does.
            allow_items(made.role, storage.task_table, ["dynamodb:GetItem", "dynamodb:UpdateItem"])
            allow_listing(made.role, storage.work_bucket)
            allow_objects(
                made.role,
                storage.work_bucket,
                ["s3:DeleteObject"],
                prefix=WORK_PREFIX,
                reason="Each task's work files live under tasks/<task_id>/, known only at run time.",
            )
            return made

        self.execution_ended = function("ExecutionEnded", "execution_ended", EXECUTION_ENDED_TIMEOUT_SECONDS)
        self.execution_rule = events.Rule(
            self,
            "ExecutionEndedRule",
            description="Ends the task of a pipeline execution that timed out, was stopped or failed uncaught",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[EXECUTION_STATUS_CHANGE],
                detail={"stateMachineArn": [state_machine.state_machine_arn], "status": ENDED_STATUSES},
            ),
        )
        self.execution_rule.add_target(self._target(self.execution_ended))

        # The sweep names executions (by task id) to describe them; the event carries its execution's facts.
        self.sweep = function(
            "Sweep", "sweep", SWEEP_TIMEOUT_SECONDS, STATE_MACHINE_ARN=state_machine.state_machine_arn
        )
        allow_index_query(self.sweep.role, storage.task_table, OPEN_TASKS_BY_TIME)
        executions = executions_of(state_machine)
        self.sweep.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
        )
        acknowledge_resource(
            self.sweep.role,
            executions,
            "The sweep describes the execution of any open task: executions are named by task ids.",
        )
        interval = cdk.Duration.minutes(settings.sweep_interval_minutes)
        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            description="Ends the open tasks that no execution will end",
            schedule=events.Schedule.rate(interval),
        )
        # A sweep that cannot run is replaced by the next one: no retry past the interval.
        self.sweep_rule.add_target(self._target(self.sweep, max_age=interval, retry_attempts=2))

    def _target(
        self,
        function: ServiceFunction,
        *,
        max_age: cdk.Duration = EVENT_MAX_AGE,
        retry_attempts: int = EVENT_RETRY_ATTEMPTS,
    ) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            function.function,
            dead_letter_queue=self.dead_letters,
            max_event_age=max_age,
            retry_attempts=retry_attempts,
        )
