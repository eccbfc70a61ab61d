"""The state machine: Download → Plan → Transcode or [chunk map ‖ audio] → Join, then Upload; transient-only
retries, every failure recorded."""

import json
from typing import Any

import pytest

from tests.infra.conftest import Synthesized
from transcoder import errors
from transcoder.pipeline import payloads

STATE_MACHINE = "AWS::StepFunctions::StateMachine"
LAMBDA_TRANSIENT = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
}
TRANSIENT = LAMBDA_TRANSIENT | {"TransientStorageError"}
STEP_HANDLERS = {
    "Download": "handlers.pipeline.download",
    "Plan": "handlers.pipeline.plan",
    "Transcode": "handlers.pipeline.transcode",
    "EncodeChunk": "handlers.pipeline.encode_chunk",
    "EncodeAudio": "handlers.pipeline.encode_audio",
    "Join": "handlers.pipeline.join",
    "Upload": "handlers.pipeline.upload",
    "RecordFailure": "handlers.pipeline.record_failure",
    "RecordChunkFailure": "handlers.pipeline.record_failure",
}
CAUGHT_BY_RECORD_FAILURE = ("Download", "Plan", "Transcode", "EncodeChunked", "Join", "Upload")


def placeholder(token: dict[str, Any]) -> str:
    """A stand-in for an intrinsic function inside the definition string."""
    if "Fn::GetAtt" in token:
        logical_id, attribute = token["Fn::GetAtt"]
        return f"<<{logical_id}.{attribute}>>"
    if "Ref" in token:
        return f"<<{token['Ref']}>>"
    raise AssertionError(f"unexpected token in the definition: {token}")


def parse_definition(definition: Any) -> dict[str, Any]:
    if isinstance(definition, str):
        parsed: dict[str, Any] = json.loads(definition)
        return parsed
    delimiter, parts = definition["Fn::Join"]
    assert delimiter == ""
    text = "".join(part if isinstance(part, str) else placeholder(part) for part in parts)
    parsed = json.loads(text)
    return parsed


@pytest.fixture(scope="module")
def state_machine(synthesized: Synthesized) -> dict[str, Any]:
    (machine,) = synthesized.resources(STATE_MACHINE).values()
    properties: dict[str, Any] = machine["Properties"]
    return properties


@pytest.fixture(scope="module")
def definition(state_machine: dict[str, Any]) -> dict[str, Any]:
    return parse_definition(state_machine["DefinitionString"])


def nested_states(states: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every state by name, with those of Parallel branches and Map item processors (names are unique)."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in states.items():
        assert name not in found, name
        found[name] = state
        inner = [branch["States"] for branch in state.get("Branches", [])]
        if "ItemProcessor" in state:
            inner.append(state["ItemProcessor"]["States"])
        for more in inner:
            found.update(nested_states(more))
    return found


@pytest.fixture(scope="module")
def states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return nested_states(definition["States"])


def follow(states: dict[str, dict[str, Any]], name: str) -> list[str]:
    path = [name]
    while "Next" in states[path[-1]]:
        path.append(states[path[-1]]["Next"])
    return path


def test_happy_paths(definition: dict[str, Any], states: dict[str, dict[str, Any]]) -> None:
    assert definition["StartAt"] == "Download"
    assert follow(states, "Download") == ["Download", "Plan", "Runner"]
    runner = states["Runner"]
    assert runner["Type"] == "Choice"
    assert runner["Choices"] == [
        {"Variable": f"$.{payloads.PLAN}.runner", "StringEquals": "chunks", "Next": "EncodeChunked"},
        {"Variable": f"$.{payloads.PLAN}.runner", "StringEquals": "fargate", "Next": "TranscodeOnFargate"},
    ]
    assert follow(states, runner["Default"]) == ["Transcode", "Upload", "TaskSucceeded"]
    assert follow(states, "EncodeChunked") == ["EncodeChunked", "Join", "Upload", "TaskSucceeded"]
    # The worker runs Transcode's very step; its result is read back to where Upload reads Transcode's.
    assert follow(states, "TranscodeOnFargate") == [
        *("TranscodeOnFargate", "TranscodeReadResult", "TranscodeHandOnResult", "Upload", "TaskSucceeded")
    ]
    assert states["TranscodeHandOnResult"]["ResultPath"] == payloads.result_path(payloads.TRANSCODED)
    for name in ("TranscodeOnFargate", "TranscodeReadResult"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ], name
    assert states["TaskSucceeded"]["Type"] == "Succeed"
    assert set(definition["States"]) == {
        *("Download", "Plan", "Runner", "Transcode", "EncodeChunked", "Join", "Upload"),
        *("TranscodeOnFargate", "TranscodeReadResult", "TranscodeHandOnResult"),
        *("TaskSucceeded", "RecordFailure", "TaskFailed"),
    }


def test_chunks_run_on_a_distributed_map_beside_the_audio(states: dict[str, dict[str, Any]]) -> None:
    parallel = states["EncodeChunked"]
    assert parallel["Type"] == "Parallel" and parallel["ResultPath"] is None
    assert [branch["StartAt"] for branch in parallel["Branches"]] == ["EncodeChunks", "HasAudio"]
    assert states["HasAudio"]["Choices"] == [
        {"Variable": f"$.{payloads.PLAN}.audio", "BooleanEquals": True, "Next": "EncodeAudio"}
    ]
    chunks = states["EncodeChunks"]
    assert chunks["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert chunks["ItemProcessor"]["StartAt"] == "EncodeChunk"
    assert chunks["MaxConcurrency"] == 1000  # DeploymentSettings.map_max_concurrency
    # No failure is tolerated: a chunk that fails for good fails the task (the map's default, nothing set).
    assert not {"ToleratedFailurePercentage", "ToleratedFailureCount"} & set(chunks)
    reader = chunks["ItemReader"]
    assert reader["ReaderConfig"] == {"InputType": "JSON"}
    assert reader["Parameters"]["Key.$"] == f"$.{payloads.PLAN}.items.key"
    assert chunks["ResultWriter"]["Parameters"]["Prefix"] == "map-results"
    assert reader["Parameters"]["Bucket"] == chunks["ResultWriter"]["Parameters"]["Bucket"]


def test_each_chunk_gets_what_the_chunk_step_reads(states: dict[str, dict[str, Any]]) -> None:
    """The map's ItemSelector builds exactly the typed ChunkEvent the chunk step parses."""
    selector = states["EncodeChunks"]["ItemSelector"]
    assert {key.removesuffix(".$") for key in selector} == set(payloads.ChunkEvent.__annotations__)
    assert selector["chunk.$"] == "$$.Map.Item.Value"
    assert selector["total.$"] == f"$.{payloads.PLAN}.chunks"


def test_a_failed_chunk_is_recorded_with_its_own_error(states: dict[str, dict[str, Any]]) -> None:
    """A map reports only that its failures exceeded the threshold: the chunk's error is recorded inside it."""
    assert states["EncodeChunk"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordChunkFailure"}
    ]
    assert follow(states, "RecordChunkFailure") == ["RecordChunkFailure", "ChunkFailed"]
    assert states["ChunkFailed"]["Type"] == "Fail"


def test_failure_path(states: dict[str, dict[str, Any]]) -> None:
    assert states["RecordFailure"]["Type"] == "Task"
    assert states["RecordFailure"]["Next"] == "TaskFailed"
    assert states["TaskFailed"]["Type"] == "Fail"
    assert "Catch" not in states["RecordFailure"]  # a failing RecordFailure must not loop into itself


def test_tasks_invoke_their_own_functions(synthesized: Synthesized, states: dict[str, dict[str, Any]]) -> None:
    tasks = {
        name: state for name, state in states.items() if state["Type"] == "Task" and state["Resource"].startswith("<<")
    }
    assert set(tasks) == set(STEP_HANDLERS)
    for name, state in tasks.items():
        function_id, _ = synthesized.function_by_handler(STEP_HANDLERS[name])
        assert state["Resource"] == f"<<{function_id}.Arn>>", name


@pytest.mark.parametrize("name", sorted(STEP_HANDLERS))
def test_retry_only_transient_errors(states: dict[str, dict[str, Any]], name: str) -> None:
    retries = states[name].get("Retry")
    assert retries, f"{name} has no Retry"
    for retry in retries:
        errors_ = set(retry["ErrorEquals"])
        assert errors_, name
        assert errors_ <= TRANSIENT, f"{name} retries non-transient errors: {errors_ - TRANSIENT}"
        assert "States.ALL" not in errors_ and "States.TaskFailed" not in errors_
        assert 1 <= retry.get("MaxAttempts", 3) <= 5
        assert retry.get("BackoffRate", 2.0) >= 1
    retried = set().union(*(set(r["ErrorEquals"]) for r in retries))
    assert retried == TRANSIENT, name


def test_transient_error_names_are_real_exceptions() -> None:
    """Step Functions matches a Python exception by its class name: the names must exist in the code."""
    for name in TRANSIENT - LAMBDA_TRANSIENT:
        exception = getattr(errors, name, None)
        assert isinstance(exception, type) and issubclass(exception, Exception), name
        assert exception.__name__ == name


@pytest.mark.parametrize("name", CAUGHT_BY_RECORD_FAILURE)
def test_every_step_catches_all_into_record_failure(states: dict[str, dict[str, Any]], name: str) -> None:
    catches = states[name].get("Catch")
    assert catches == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]


def test_step_results_do_not_overwrite_the_input(states: dict[str, dict[str, Any]]) -> None:
    """Each step keeps the task's input and adds its result under its own path."""
    paths = [states[name].get("ResultPath") for name in ("Download", "Plan", "Transcode", "Upload", "RecordFailure")]
    assert all(isinstance(p, str) and p.startswith("$.") for p in paths), paths
    assert len(set(paths)) == len(paths)
    assert "$.error" not in paths


def test_result_paths_are_where_the_steps_payloads_read_them(states: dict[str, dict[str, Any]]) -> None:
    """One definition of the payload's keys: the state machine stores each result where the next steps read it."""
    result_paths = {name: states[name].get("ResultPath", "$") for name in STEP_HANDLERS}
    assert result_paths == {
        "Download": payloads.result_path(payloads.SOURCE),
        "Plan": payloads.result_path(payloads.PLAN),
        "Transcode": payloads.result_path(payloads.TRANSCODED),
        "EncodeChunk": "$",  # the item's output: the chunk's files, which the map writes to S3
        "EncodeAudio": None,  # its file is where Join looks for it; the payload passes on
        "Join": payloads.result_path(payloads.TRANSCODED),  # Upload reads it as Transcode's
        "Upload": payloads.result_path(payloads.DELIVERED),
        "RecordFailure": payloads.result_path(payloads.FAILURE),
        "RecordChunkFailure": payloads.result_path(payloads.FAILURE),
    }
    steps = (*CAUGHT_BY_RECORD_FAILURE, "EncodeChunk")
    catch_paths = {catch["ResultPath"] for name in steps for catch in states[name]["Catch"]}
    assert catch_paths == {payloads.result_path(payloads.ERROR)}


def test_logging_and_tracing(synthesized: Synthesized, state_machine: dict[str, Any]) -> None:
    logging = state_machine["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is True
    (destination,) = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert group == synthesized.logical_id("Pipeline/Logs")
    assert state_machine["TracingConfiguration"] == {"Enabled": True}


def test_state_machine_role_invokes_only_the_pipeline_functions(synthesized: Synthesized) -> None:
    role = synthesized.logical_id("Pipeline/StateMachine/Role")
    pipeline_functions = {synthesized.function_by_handler(h)[0] for h in STEP_HANDLERS.values()}
    invoked = set()
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "lambda:InvokeFunction" in actions:
                for resource in statement["Resource"]:
                    getatt = resource.get("Fn::GetAtt") or resource["Fn::Join"][1][0]["Fn::GetAtt"]
                    invoked.add(getatt[0])
            else:
                # Besides logs and traces, what the Distributed Map needs (its items and results in the work
                # bucket, its own child executions) and the worker's RunTask.sync (its task, the roles it passes,
                # the EventBridge rule that reports the task's end, the result it leaves in the work bucket).
                allowed = ("logs", "xray", "s3", "states", "ecs", "iam", "events")
                assert all(a.split(":")[0] in allowed for a in actions), actions
    assert invoked == pipeline_functions
