"""The typed step payloads read and write the pipeline's JSON exactly as executions already running carry it."""

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from transcoder.pipeline import payloads
from transcoder.pipeline.payloads import (
    DeliveredResult,
    ExecutionInput,
    FailureEvent,
    FailureResult,
    SourceResult,
    TranscodedResult,
    TranscodeEvent,
    UploadEvent,
    parse,
)
from transcoder.templates import Template, find_builtin

_BUILTIN = find_builtin(name="MP4_264_360p")
assert _BUILTIN is not None
TEMPLATE = _BUILTIN.to_dict()
MEDIA = {
    "format_name": "mov,mp4,m4a,3gp,3g2,mj2",
    "duration": 2.0,
    "size_bytes": 123456,
    "bitrate_kbps": 493.824,
    "video": {
        "codec": "h264",
        "width": 1280,
        "height": 720,
        "display_width": 1280,
        "display_height": 720,
        "fps": 25.0,
        "frame_count": 50,
    },
    "audio": {"codec": "aac", "channels": 2, "sample_rate": 44100},
}
DESTINATION = {"bucket": "out", "key": "out/clip.mp4", "objkey": "out/clip.mp4", "storage_id": "default"}

# What tasks.start_pipeline writes, one per kind of input, and what executions started by older code carry.
EXECUTION_INPUTS = {
    "s3 object": {
        "task_id": "t-1",
        "account_id": "default",
        "input": {"bucket": "in", "key": "in/clip.mp4"},
        "destination": DESTINATION,
        "template": TEMPLATE,
    },
    "dropped version": {
        "task_id": "t-2",
        "account_id": "default",
        "input": {"bucket": "in", "key": "drop/MP4_264_360p/clip.mp4", "version_id": "v-7"},
        "destination": DESTINATION,
        "template": TEMPLATE,
    },
    "account storage": {
        "task_id": "t-3",
        "account_id": "acct-a",
        "input": {"bucket": "theirs", "key": "clips/a.mp4", "storage_id": "sto-1"},
        "destination": {"bucket": "theirs", "key": "acct-a/out.mp4", "objkey": "out.mp4", "storage_id": "sto-1"},
        "template": TEMPLATE,
    },
    "https": {
        "task_id": "t-4",
        "account_id": "default",
        "input": {"url": "https://example.com/clip.mp4"},
        "destination": DESTINATION,
        "template": TEMPLATE,
    },
    "before accounts and objkey": {
        "task_id": "t-5",
        "input": {"bucket": "in", "key": "in/clip.mp4"},
        "destination": {"bucket": "out", "key": "out/clip.mp4"},
        "template": TEMPLATE,
    },
}

SOURCE_RESULTS = {
    "unversioned": {"staged": {"bucket": "in", "key": "in/clip.mp4", "version_id": None}, "media": MEDIA},
    "versioned, in a storage, with a logo": {
        "staged": {"bucket": "theirs", "key": "clips/a.mp4", "version_id": "v-1", "storage_id": "sto-1"},
        "media": MEDIA,
        "logo": {"bucket": "work", "key": "tasks/t-3/logo.rgba", "width": 64, "height": 32},
    },
}
TRANSCODED = {
    "encoded": {"bucket": "work", "prefix": "tasks/t-1/output/", "files": ["clip.mp4"]},
    "media": {**MEDIA, "size_bytes": 2048},
}
DELIVERED = {"status": "success", "objkey": "out/clip.mp4"}
ERROR = {"Error": "InputNotFound", "Cause": '{"errorMessage": "input s3://in/clip.mp4 not found"}'}
FAILURE = {"task_id": "t-1", "recorded": True, "err_code": 2001, "err_message": "input s3://in/clip.mp4 not found"}


@pytest.mark.parametrize("execution", EXECUTION_INPUTS.values(), ids=EXECUTION_INPUTS.keys())
def test_execution_inputs_round_trip(execution: dict[str, Any]) -> None:
    assert parse(ExecutionInput, copy.deepcopy(execution)) == execution


@pytest.mark.parametrize("result", SOURCE_RESULTS.values(), ids=SOURCE_RESULTS.keys())
def test_download_results_round_trip(result: dict[str, Any]) -> None:
    assert parse(SourceResult, copy.deepcopy(result)) == result


@pytest.mark.parametrize(
    ("kind", "result"),
    [(TranscodedResult, TRANSCODED), (DeliveredResult, DELIVERED), (FailureResult, FAILURE)],
    ids=["transcoded", "delivered", "failure"],
)
def test_step_results_round_trip(kind: type[Any], result: dict[str, Any]) -> None:
    assert parse(kind, copy.deepcopy(result)) == result


def _state_after_each_step(execution: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The whole payload as the state machine passes it on: every step's result under its key."""
    return {
        **execution,
        payloads.SOURCE: source,
        payloads.TRANSCODED: TRANSCODED,
        payloads.DELIVERED: DELIVERED,
    }


@pytest.mark.parametrize("execution", EXECUTION_INPUTS.values(), ids=EXECUTION_INPUTS.keys())
@pytest.mark.parametrize("source", SOURCE_RESULTS.values(), ids=SOURCE_RESULTS.keys())
def test_each_step_reads_its_part_of_the_whole_payload_unchanged(
    execution: dict[str, Any], source: dict[str, Any]
) -> None:
    state = _state_after_each_step(execution, source)
    for kind in (ExecutionInput, TranscodeEvent, UploadEvent):
        read = parse(kind, copy.deepcopy(state))
        assert read == {key: state[key] for key in read}
        assert set(read) == set(state) & (kind.__required_keys__ | kind.__optional_keys__)
    failed = parse(FailureEvent, {**state, payloads.ERROR: ERROR})
    assert failed == {"task_id": execution["task_id"], "error": ERROR}


def test_the_result_keys_are_what_the_steps_read() -> None:
    """ResultPath keys of executions already running; each is a field of the step that reads it."""
    assert [payloads.SOURCE, payloads.TRANSCODED, payloads.DELIVERED, payloads.ERROR, payloads.FAILURE] == [
        "source",
        "transcoded",
        "delivered",
        "error",
        "failure",
    ]
    assert payloads.SOURCE in TranscodeEvent.__required_keys__
    assert payloads.TRANSCODED in UploadEvent.__required_keys__
    assert payloads.ERROR in FailureEvent.__optional_keys__
    assert payloads.result_path(payloads.SOURCE) == "$.source"


def test_a_catch_without_error_or_cause_still_parses() -> None:
    assert parse(FailureEvent, {"task_id": "t-1"}) == {"task_id": "t-1"}
    assert parse(FailureEvent, {"task_id": "t-1", "error": None}) == {"task_id": "t-1", "error": None}
    assert parse(FailureEvent, {"task_id": "t-1", "error": {"Error": "States.Timeout"}})["error"] == {
        "Error": "States.Timeout"
    }


@pytest.mark.parametrize(
    ("kind", "event", "field"),
    [
        (ExecutionInput, {**EXECUTION_INPUTS["s3 object"], "input": {"key": "in/clip.mp4"}}, "input"),
        (ExecutionInput, {**EXECUTION_INPUTS["s3 object"], "task_id": None}, "task_id"),
        (TranscodeEvent, {**EXECUTION_INPUTS["s3 object"]}, "source"),
        (UploadEvent, {**EXECUTION_INPUTS["s3 object"], "transcoded": {"media": MEDIA}}, "encoded"),
        (SourceResult, {**SOURCE_RESULTS["unversioned"], "logo": {"bucket": "w", "key": "l"}}, "width"),
    ],
    ids=["input without bucket or url", "task_id null", "transcode without source", "upload without files", "logo"],
)
def test_a_payload_that_drifted_is_refused_naming_the_field(kind: type[Any], event: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        parse(kind, event)


def test_the_template_in_the_payload_is_the_templates_own_json() -> None:
    execution = parse(ExecutionInput, EXECUTION_INPUTS["s3 object"])
    assert Template.from_dict(execution["template"]).to_dict() == TEMPLATE
