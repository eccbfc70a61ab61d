"""Deployment settings come from cdk.json's `transcoder` context, overridable key by key."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.app import CDK_JSON, build_app
from tests.infra.conftest import Synthesized

TRANSCODE = "handlers.pipeline.transcode"


def _memory(synthesized: Synthesized) -> dict[str, int]:
    return {f["Properties"]["Handler"]: f["Properties"]["MemorySize"] for f in synthesized.service_functions().values()}


def test_defaults_come_from_cdk_json(synthesized: Synthesized) -> None:
    context = json.loads(CDK_JSON.read_text())["context"]["transcoder"]
    memory = _memory(synthesized)
    assert memory[TRANSCODE] == context["transcode_memory_mb"]
    assert memory["handlers.api.handler"] == context["api_memory_mb"]
    _, api = synthesized.function_by_handler("handlers.api.handler")
    variables = api["Properties"]["Environment"]["Variables"]
    assert variables["PRESIGN_EXPIRY_SECONDS"] == str(context["presign_expiry_seconds"])
    assert variables["MAX_INPUT_SECONDS"] == str(context["max_input_seconds"])


def test_output_limits_reach_the_api_and_the_transcode_step(synth_variant: Callable[..., Synthesized]) -> None:
    limits = {"max_output_pixels": 1280 * 720, "max_output_dimension": 1280, "max_output_framerate": 30}
    variant = synth_variant({"transcoder": limits})
    for handler in ("handlers.api.handler", "handlers.pipeline.transcode", "handlers.ingest.handler"):
        _, function = variant.function_by_handler(handler)
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["MAX_OUTPUT_PIXELS"] == str(1280 * 720), handler
        assert variables["MAX_OUTPUT_DIMENSION"] == "1280", handler
        assert float(variables["MAX_OUTPUT_FRAMERATE"]) == 30, handler


def test_transcode_memory_override(synthesized: Synthesized, synth_variant: Callable[..., Synthesized]) -> None:
    variant = synth_variant({"transcoder": {"transcode_memory_mb": 5120, "retain_data": False}})
    default, changed = _memory(synthesized), _memory(variant)
    assert changed[TRANSCODE] == 5120
    assert {k: v for k, v in changed.items() if k != TRANSCODE} == {
        k: v for k, v in default.items() if k != TRANSCODE
    }, "only the Transcode function's memory changes"


def test_retain_data_false_destroys_storage(synth_variant: Callable[..., Synthesized]) -> None:
    variant = synth_variant({"transcoder": {"transcode_memory_mb": 5120, "retain_data": False}})
    for type_ in ("AWS::S3::Bucket", "AWS::DynamoDB::Table"):
        for logical_id, resource in variant.resources(type_).items():
            assert resource.get("DeletionPolicy", "Delete") == "Delete", logical_id


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"transcode_memory": 4096}, "unknown transcoder settings"),
        ({"architecture": "aarch64"}, "architecture must be"),
        ({"transcode_memory_mb": 64}, "transcode_memory_mb must be between"),
        ({"log_retention_days": 3}, "log_retention_days"),
        ({"max_output_framerate": 240}, "max_output_framerate must be between"),
    ],
)
def test_bad_context_raises(tmp_path: Path, override: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_app(str(tmp_path), {"transcoder": override, "aws:cdk:bundling-stacks": []})


def test_extra_input_buckets_are_readable(synth_variant: Callable[..., Synthesized]) -> None:
    """Inputs may come from `extra_input_buckets`: the readers (and the presigning API) may read them."""
    variant = synth_variant({"transcoder": {"extra_input_buckets": ["media-archive"]}})
    archive = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::media-archive/*"]]}
    expected = {
        "handlers.pipeline.download": {"s3:GetObject", "s3:GetObjectVersion"},
        "handlers.pipeline.transcode": {"s3:GetObject", "s3:GetObjectVersion"},
        "handlers.api.handler": {"s3:GetObject", "s3:GetObjectVersion"},
        "handlers.ingest.handler": set(),
        "handlers.pipeline.upload": set(),
        "handlers.pipeline.record_failure": set(),
    }
    for handler, actions in expected.items():
        _, function = variant.function_by_handler(handler)
        assert function["Properties"]["Environment"]["Variables"]["EXTRA_INPUT_BUCKETS"] == "media-archive"
        allowed = variant.allowed(handler)
        assert {action for action, resources in allowed.items() if archive in resources} == actions, handler
