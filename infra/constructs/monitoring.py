"""What pages an operator, and the dashboard to look at then: alarms on one encrypted SNS topic.

Alarms page on what needs a person, not on what users do: a user's undecodable file fails its task and its
execution (every Catch ends in the TaskFailed state) and a cancel aborts the execution, so neither pages alone.
- a message in any dead-letter queue (every queue's DLQ in the stack, and the notify stream's failure queue);
- executions that time out; a failure rate of at least half of a period's executions (a broken step, not a bad
  file); tasks ended with the internal err_code 9000;
- API Gateway 5xx answers (the API answers every user error itself, in the envelope, with 200);
- errors of each function (the pipeline's steps by rate: they raise a task's error to Step Functions by design)
  and throttles of each function;
- tasks left non-terminal past the sweep's bound (StuckTasks, emitted by the scheduled sweep).

The stack creates this construct last: it finds every function and queue the stack holds.
"""

from collections.abc import Sequence

import aws_cdk as cdk
import constructs
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

from infra.constructs.api import Api
from infra.constructs.functions import SERVICE_NAME, ServiceFunction
from infra.settings import DeploymentSettings
from transcoder import metric_names as names
from transcoder.errors import INTERNAL_ERROR_CODE

PERIOD = cdk.Duration.minutes(5)
FAILURE_RATE_PERCENT = 50
FAILURE_RATE_MIN_COUNT = 5
"""A failure rate pages only over at least this many failures in a period: two bad files of three are users'."""
STUCK_PERIOD = cdk.Duration.minutes(15)


class Monitoring(constructs.Construct):
    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        *,
        settings: DeploymentSettings,
        api: Api,
        state_machine: sfn.StateMachine,
        task_steps: Sequence[ServiceFunction],
        failure_queues: Sequence[sqs.IQueue] = (),
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the alarm topic's messages",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        # CloudWatch publishes alarms to the encrypted topic: it needs the key, for this account's alarms only.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic = sns.Topic(self, "AlarmTopic", master_key=self.key, enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        functions = [c for c in stack.node.find_all() if isinstance(c, ServiceFunction)]
        self.dead_letter_queues = _dead_letter_queues(stack, failure_queues)
        step_paths = {step.node.path for step in task_steps}
        for queue in self.dead_letter_queues:
            self._alarm_on_queue(queue)
        self._alarm_on_executions(state_machine)
        self._alarm(
            "ApiServerErrors",
            api.rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The API answered 5xx: API Gateway could not reach the API function, or the function failed.",
        )
        for function in functions:
            self._alarm_on_function(function, task_step=function.node.path in step_paths)
        self._alarm(
            "StuckTasks",
            _service_metric(names.STUCK_TASKS, "Maximum", period=STUCK_PERIOD),
            "Tasks older than the sweep's bound are not terminal: their executions ended without a status.",
        )
        self.dashboard = self._dashboard(api, state_machine, functions)

    def _alarm(self, id: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)

    def _alarm_on_queue(self, queue: sqs.IQueue) -> None:
        self._alarm(
            f"DeadLetters{_path_id(queue)}",
            queue.metric_approximate_number_of_messages_visible(period=cdk.Duration.minutes(1), statistic="Maximum"),
            f"Messages wait in the dead-letter queue {queue.node.path}: they were not processed; read and redrive.",
        )

    def _alarm_on_executions(self, state_machine: sfn.StateMachine) -> None:
        self._alarm(
            "ExecutionsTimedOut",
            state_machine.metric_timed_out(period=PERIOD, statistic="Sum"),
            "Executions of the pipeline timed out (12 h): their tasks end fail only through the sweep.",
        )
        self._alarm(
            "ExecutionsFailureRate",
            _failure_rate(
                state_machine.metric_failed(period=PERIOD, statistic="Sum"),
                state_machine.metric_started(period=PERIOD, statistic="Sum"),
            ),
            f"At least {FAILURE_RATE_PERCENT} % of the pipeline's executions failed: more than users' bad files.",
            threshold=FAILURE_RATE_PERCENT,
        )
        self._alarm(
            "InternalErrors",
            _service_metric(names.TASKS_FAILED, "Sum", {names.ERR_CODE: str(INTERNAL_ERROR_CODE)}),
            "Tasks ended fail with the internal err_code 9000: the service failed them, not their input.",
        )

    def _alarm_on_function(self, function: ServiceFunction, *, task_step: bool) -> None:
        name = _path_id(function)
        errors = function.function.metric_errors(period=PERIOD, statistic="Sum")
        if task_step:
            invocations = function.function.metric_invocations(period=PERIOD, statistic="Sum")
            self._alarm(
                f"{name}ErrorRate",
                _failure_rate(errors, invocations),
                f"At least {FAILURE_RATE_PERCENT} % of {function.node.path}'s invocations failed.",
                threshold=FAILURE_RATE_PERCENT,
            )
        else:
            self._alarm(f"{name}Errors", errors, f"{function.node.path} failed: see its log group.")
        self._alarm(
            f"{name}Throttles",
            function.function.metric_throttles(period=PERIOD, statistic="Sum"),
            f"{function.node.path} was throttled: the account's Lambda concurrency is exhausted.",
        )

    def _dashboard(
        self, api: Api, state_machine: sfn.StateMachine, functions: Sequence[ServiceFunction]
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=cdk.Duration.hours(6))
        tasks = [
            _service_metric(name, "Sum", label=label)
            for name, label in (
                (names.TASKS_CREATED, "created"),
                (names.TASKS_SUCCEEDED, "succeeded"),
                (names.TASKS_FAILED, "failed"),
                (names.TASKS_CANCELLED, "cancelled"),
            )
        ]
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
            cloudwatch.GraphWidget(title="Tasks", left=tasks, width=8),
            cloudwatch.GraphWidget(
                title="Failed tasks by err_code",
                left=[_search(names.TASKS_FAILED, names.ERR_CODE, "Sum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Created tasks by template",
                left=[_search(names.TASKS_CREATED, names.TEMPLATE, "Sum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Create → first step, create → end (s)",
                left=[
                    _service_metric(names.TASK_START_DELAY, "p90", label="start delay p90"),
                    _service_metric(names.TASK_START_DELAY, "Maximum", label="start delay max"),
                ],
                right=[_search(names.TASK_DURATION, names.STATUS, "p50")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Encode speed (x real time)",
                left=[_search(names.ENCODE_SPEED, names.STEP, "Average")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Callbacks",
                left=[
                    _service_metric(names.CALLBACKS_DELIVERED, "Sum", label="delivered"),
                    _service_metric(names.CALLBACK_FAILURES, "Sum", label="failed attempts"),
                    _service_metric(names.CALLBACKS_ABANDONED, "Sum", label="abandoned"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Executions",
                left=[
                    state_machine.metric_started(period=PERIOD, label="started"),
                    state_machine.metric_succeeded(period=PERIOD, label="succeeded"),
                    state_machine.metric_failed(period=PERIOD, label="failed"),
                    state_machine.metric_timed_out(period=PERIOD, label="timed out"),
                    state_machine.metric_aborted(period=PERIOD, label="aborted (cancel_task)"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    api.rest_api.metric_count(period=PERIOD, label="requests"),
                    api.rest_api.metric_client_error(period=PERIOD, label="4xx"),
                    api.rest_api.metric_server_error(period=PERIOD, label="5xx"),
                ],
                right=[api.rest_api.metric_latency(period=PERIOD, statistic="p90", label="latency p90 (ms)")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dead-letter queues, stuck tasks",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=queue.node.path
                    )
                    for queue in self.dead_letter_queues
                ],
                right=[_service_metric(names.STUCK_TASKS, "Maximum", label="stuck tasks")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.function.metric_errors(period=PERIOD, label=f.node.id) for f in functions],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[f.function.metric_throttles(period=PERIOD, label=f.node.id) for f in functions],
                width=12,
            ),
        )
        return dashboard


def _dead_letter_queues(stack: cdk.Stack, failure_queues: Sequence[sqs.IQueue]) -> list[sqs.IQueue]:
    """Every queue that is another queue's dead-letter queue, then `failure_queues` (on-failure destinations)."""
    found: list[sqs.IQueue] = []
    for queue in stack.node.find_all():
        if isinstance(queue, sqs.Queue) and queue.dead_letter_queue is not None:
            found.append(queue.dead_letter_queue.queue)
    for queue in failure_queues:
        if all(queue is not known for known in found):
            found.append(queue)
    return found


def _path_id(construct: constructs.IConstruct) -> str:
    """A construct id from the construct's path under the stack: Callbacks/DeadLetters → CallbacksDeadLetters."""
    stack_path = cdk.Stack.of(construct).node.path
    return "".join(part for part in construct.node.path.removeprefix(stack_path).split("/") if part)


def _service_metric(
    name: str,
    statistic: str,
    dimensions: dict[str, str] | None = None,
    *,
    period: cdk.Duration = PERIOD,
    label: str | None = None,
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=names.NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME, **(dimensions or {})},
        statistic=statistic,
        period=period,
        label=label,
    )


def _search(name: str, dimension: str, statistic: str) -> cloudwatch.MathExpression:
    """One line per value of `dimension` (each template, err_code, ...): whatever values occur."""
    query = f'{{{names.NAMESPACE},service,{dimension}}} MetricName="{name}" service="{SERVICE_NAME}"'
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{query}', '{statistic}', {PERIOD.to_seconds()})",
        using_metrics={},
        period=PERIOD,
    )


def _failure_rate(failed: cloudwatch.IMetric, total: cloudwatch.IMetric) -> cloudwatch.MathExpression:
    """Percent of `total` that `failed`, counted only from FAILURE_RATE_MIN_COUNT failures in a period."""
    return cloudwatch.MathExpression(
        expression=f"IF(failed >= {FAILURE_RATE_MIN_COUNT} AND total > 0, 100 * failed / total, 0)",
        using_metrics={"failed": failed, "total": total},
        label="failure rate (%)",
        period=PERIOD,
    )
