"""Alarms on what needs an operator, wired to one encrypted topic; the dashboard; tracing everywhere."""

from typing import Any

import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match

from infra.constructs.functions import ServiceFunction
from infra.constructs.monitoring import Monitoring
from tests.infra.conftest import Synthesized
from transcoder import metric_names

ALARM = "AWS::CloudWatch::Alarm"


def _alarms(synthesized: Synthesized) -> list[dict[str, Any]]:
    return [r["Properties"] for r in synthesized.resources(ALARM).values()]


def _alarms_on(synthesized: Synthesized, metric_name: str, dimension: dict[str, Any]) -> list[dict[str, Any]]:
    """Alarms whose metric (or one of its math expression's metrics) is `metric_name` with `dimension` among its."""
    found = []
    for alarm in _alarms(synthesized):
        metrics = (
            [alarm]
            if "MetricName" in alarm
            else [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
        )
        for metric in metrics:
            dimensions = [{d["Name"]: d["Value"]} for d in metric.get("Dimensions", [])]
            if metric["MetricName"] == metric_name and dimension in dimensions:
                found.append(alarm)
    return found


def _ref(logical_id: str) -> dict[str, Any]:
    return {"Ref": logical_id}


def _topic(synthesized: Synthesized) -> str:
    (topic,) = synthesized.resources("AWS::SNS::Topic")
    return topic


def test_every_alarm_notifies_the_one_topic(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    assert len(alarms) > 20
    for alarm in alarms:
        assert alarm["AlarmActions"] == [_ref(_topic(synthesized))], alarm
        assert alarm["AlarmDescription"]


def test_the_topic_is_encrypted_with_a_rotated_key_and_refuses_plain_http(synthesized: Synthesized) -> None:
    topic = synthesized.resources("AWS::SNS::Topic")[_topic(synthesized)]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = synthesized.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    assert any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"} for s in statements)
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_no_subscription_without_alarm_email(synthesized: Synthesized) -> None:
    assert synthesized.resources("AWS::SNS::Subscription") == {}


def test_alarm_email_subscribes_to_the_topic(synth_variant: Any) -> None:
    variant = synth_variant({"transcoder": {"alarm_email": "ops@example.com"}})
    variant.template.resource_count_is("AWS::SNS::Subscription", 1)
    variant.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": _ref(_topic(variant))},
    )


@pytest.mark.parametrize("bad", ["ops", "ops@", "@example.com", "ops@example", "two words@example.com"])
def test_alarm_email_must_be_an_address(bad: str) -> None:
    from infra.settings import DeploymentSettings

    with pytest.raises(ValueError, match="alarm_email"):
        DeploymentSettings(alarm_email=bad)


def test_every_dead_letter_queue_has_an_alarm(synthesized: Synthesized) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    dead_letter_targets = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    stream_failures = synthesized.logical_id("Callbacks/StreamFailures")
    expected = dead_letter_targets | {stream_failures}
    assert len(dead_letter_targets) >= 2
    for queue in expected:
        alarms = _alarms_on(
            synthesized,
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}},
        )
        assert len(alarms) == 1, queue
        assert alarms[0]["Threshold"] == 1


def test_every_function_has_error_and_throttle_alarms(synthesized: Synthesized) -> None:
    functions = synthesized.service_functions()
    assert len(functions) >= 10
    for logical_id in functions:
        dimension = {"FunctionName": _ref(logical_id)}
        assert len(_alarms_on(synthesized, "Errors", dimension)) == 1, logical_id
        assert len(_alarms_on(synthesized, "Throttles", dimension)) == 1, logical_id


def test_pipeline_steps_page_on_an_error_rate_and_other_functions_on_any_error(synthesized: Synthesized) -> None:
    """A step raises a task's error (an undecodable upload) to Step Functions by design: one is not a page."""
    step, _ = synthesized.function_by_handler("handlers.pipeline.download")
    (alarm,) = _alarms_on(synthesized, "Errors", {"FunctionName": _ref(step)})
    expressions = [q["Expression"] for q in alarm["Metrics"] if "Expression" in q]
    assert expressions == ["IF(failed >= 5 AND total > 0, 100 * failed / total, 0)"]
    assert alarm["Threshold"] == 50
    api, _ = synthesized.function_by_handler("handlers.api.handler")
    (alarm,) = _alarms_on(synthesized, "Errors", {"FunctionName": _ref(api)})
    assert (alarm["Threshold"], alarm["Statistic"]) == (1, "Sum")


def test_state_machine_alarms(synthesized: Synthesized) -> None:
    machine = {"StateMachineArn": _ref(synthesized.logical_id("Pipeline/StateMachine"))}
    assert len(_alarms_on(synthesized, "ExecutionsTimedOut", machine)) == 1
    assert len(_alarms_on(synthesized, "ExecutionsFailed", machine)) == 1
    internal = _alarms_on(synthesized, metric_names.TASKS_FAILED, {"err_code": "9000"})
    assert len(internal) == 1
    assert internal[0]["Namespace"] == metric_names.NAMESPACE


def test_api_5xx_alarm(synthesized: Synthesized) -> None:
    alarms = [a for a in _alarms(synthesized) if a.get("MetricName") == "5XXError"]
    assert len(alarms) == 1
    assert alarms[0]["Namespace"] == "AWS/ApiGateway"


def test_stuck_tasks_alarm_reads_the_sweeps_metric(synthesized: Synthesized) -> None:
    (alarm,) = _alarms_on(synthesized, metric_names.STUCK_TASKS, {"service": "transcoder"})
    assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == ("Transcoder", "Maximum", 1)
    assert alarm["TreatMissingData"] == "notBreaching"


def test_dashboard_shows_the_service_metrics(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = str(dashboard["Properties"]["DashboardBody"])
    for name in (
        metric_names.TASKS_CREATED,
        metric_names.TASKS_FAILED,
        metric_names.ENCODE_SPEED,
        metric_names.TASK_START_DELAY,
        metric_names.TASK_DURATION,
        metric_names.CALLBACKS_DELIVERED,
        metric_names.STUCK_TASKS,
    ):
        assert name in body, name


def test_tracing_from_the_api_to_every_step(synthesized: Synthesized) -> None:
    for logical_id, function in synthesized.service_functions().items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id
        environment = function["Properties"]["Environment"]["Variables"]
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == metric_names.NAMESPACE
    synthesized.template.has_resource_properties(
        "AWS::StepFunctions::StateMachine", {"TracingConfiguration": {"Enabled": True}}
    )
    synthesized.template.has_resource_properties("AWS::ApiGateway::Stage", {"TracingEnabled": True})


def test_the_construct_is_the_stacks_last(synthesized: Synthesized) -> None:
    """It finds the functions and queues that exist when it is created: none may be created after it."""
    children = list(synthesized.stack.node.children)
    (index,) = [i for i, child in enumerate(children) if isinstance(child, Monitoring)]
    watched = (ServiceFunction, sqs.Queue)
    later = [c.node.path for child in children[index + 1 :] for c in child.node.find_all() if isinstance(c, watched)]
    assert later == []
