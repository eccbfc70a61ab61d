"""Templates through the API function, and custom templates through the pipeline with real ffmpeg."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localmode.media import probe_file
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call
from tests.integration.test_pipeline_steps import _run_pipeline
from transcoder import errors, pipeline, template_store
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.settings import settings
from transcoder.templates import Template

CUSTOM = {"name": "small_15fps", "resolution": "480x270", "framerate": 15, "quality": 8, "audio_bitrate": 64}


def _add(fields: dict[str, Any]) -> dict[str, Any]:
    status, body = _call("POST", "/api/add_template", fields)
    assert status == 200, body
    data: dict[str, Any] = body["data"]
    return data


def test_add_query_update_list_delete(aws: Aws) -> None:
    added = _add(CUSTOM)
    assert added["template_id"].startswith("tpl-")
    assert (added["template_type"], added["resolution"], added["framerate"]) == ("custom", "480x270", 15)

    for query in (f"template_id={added['template_id']}", f"name={CUSTOM['name']}"):
        status, body = _call("GET", f"/api/query_template?{query}")
        assert (status, body["data"]) == (200, added)

    status, body = _call("PUT", "/api/update_template", {"name": CUSTOM["name"], "quality": 3, "format": "flv"})
    assert status == 200, body
    assert (body["data"]["quality"], body["data"]["format"], body["data"]["template_id"]) == (
        3,
        "flv",
        added["template_id"],
    )
    assert _call("GET", f"/api/query_template?name={CUSTOM['name']}")[1]["data"]["quality"] == 3

    _, body = _call("GET", "/api/list_template")
    names = [t["name"] for t in body["data"]["list"]]
    assert body["data"]["num"] == len(names) == 12, "11 built-ins (10 MP4 and the HLS ladder) and the custom one"
    assert "MP4_264_360p" in names and "HLS_264_ladder" in names and CUSTOM["name"] in names

    status, body = _call("DELETE", "/api/del_template", {"name": CUSTOM["name"]})
    assert (status, body["code"], body["data"]) == (200, 0, None)
    status, body = _call("GET", f"/api/query_template?name={CUSTOM['name']}")
    assert (status, body["code"]) == (404, 1004)


def test_builtins_are_listed_and_protected(aws: Aws) -> None:
    status, body = _call("GET", "/api/query_template?template_id=builtin-MP4-265-1080p")
    assert (status, body["data"]["name"], body["data"]["template_type"]) == (200, "MP4_265_1080p", "built-in")
    status, body = _call("DELETE", "/api/del_template", {"name": "MP4_264_360p"})
    assert (status, body["code"]) == (409, 1005)
    status, body = _call("PUT", "/api/update_template", {"name": "MP4_264_360p", "quality": 9})
    assert (status, body["code"]) == (409, 1005)
    status, body = _call("POST", "/api/add_template", {"name": "MP4_264_360p", "resolution": "360p"})
    assert (status, body["code"]) == (409, 1006)


@pytest.mark.parametrize(
    ("method", "path", "body", "http", "code", "needle"),
    [
        ("POST", "/api/add_template", {"resolution": "720p"}, 400, 1001, "name"),
        ("POST", "/api/add_template", {**CUSTOM, "resolution": "42p"}, 400, 1002, "resolution"),
        ("POST", "/api/add_template", {**CUSTOM, "format": "flv", "vcodec": "h265"}, 400, 1002, "flv"),
        ("PUT", "/api/update_template", {"name": CUSTOM["name"], "quality": 99}, 400, 1002, "quality"),
        ("PUT", "/api/update_template", {"name": "nope", "quality": 9}, 404, 1004, "nope"),
        # Accepted once: every task with them ended audio-only, 9000, or out of memory.
        ("POST", "/api/add_template", {**CUSTOM, "framerate": 0.0001}, 400, 1002, "framerate"),
        ("POST", "/api/add_template", {**CUSTOM, "resolution": "0640x0360"}, 400, 1002, "resolution"),
        ("POST", "/api/add_template", {**CUSTOM, "resolution": "7680x7680"}, 400, 1002, "operator's limit"),
        ("PUT", "/api/update_template", {"name": CUSTOM["name"], "framerate": 0.0001}, 400, 1002, "framerate"),
        ("PUT", "/api/update_template", {"name": CUSTOM["name"], "resolution": "0640x0360"}, 400, 1002, "resolution"),
        ("PUT", "/api/update_template", {"name": CUSTOM["name"], "resolution": "7680x7680"}, 400, 1002, "limit"),
        ("GET", "/api/query_template", None, 400, 1001, "template_id or name"),
        ("DELETE", "/api/del_template", {}, 400, 1001, "template_id or name"),
        ("DELETE", "/api/del_template", {"template_id": "tpl-nope"}, 404, 1004, "tpl-nope"),
    ],
)
def test_template_errors(aws: Aws, method: str, path: str, body: Any, http: int, code: int, needle: str) -> None:
    _add(CUSTOM)
    status, response = _call(method, path, body)
    assert (status, response["code"]) == (http, code), response
    assert needle in response["msg"]


def test_duplicate_custom_name_is_1006(aws: Aws) -> None:
    _add(CUSTOM)
    status, body = _call("POST", "/api/add_template", CUSTOM)
    assert (status, body["code"]) == (409, 1006)


def _start_with_template(aws: Aws, source: Path, **selector: str) -> dict[str, Any]:
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=source.read_bytes())
    status, body = _call(
        "POST", "/api/create_task", {"input": f"s3://{aws.input_bucket}/in/clip.mp4", "output": "out/clip", **selector}
    )
    assert status == 200, body
    execution = aws.sfn.list_executions(stateMachineArn=__import__("os").environ["STATE_MACHINE_ARN"])["executions"][-1]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    return event


def test_custom_template_produces_what_it_says(aws: Aws, clip_720p: Path, tmp_path: Path) -> None:
    added = _add(CUSTOM)
    event = _run_pipeline(_start_with_template(aws, clip_720p, template_id=added["template_id"]))
    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, event["delivered"]["objkey"], str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 480, 270, "aac")
    assert facts.frame_count == 30, "2 s at 15 fps"


def test_hls_template_delivers_a_playable_playlist(aws: Aws, clip_720p: Path, tmp_path: Path) -> None:
    _add({"name": "hls_1s", "resolution": "360p", "format": "hls", "hls_seg_time": 1})
    event = _run_pipeline(_start_with_template(aws, clip_720p, template_name="hls_1s"))
    folder = "accounts/default/out/"  # the deployment account's part of the output bucket
    assert event["delivered"]["objkey"] == folder + "clip.m3u8"
    keys = sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.output_bucket, Prefix=folder)["Contents"])
    assert keys[0] == folder + "clip.m3u8"
    assert all(k.startswith(folder + "clip_") and k.endswith(".ts") for k in keys[1:]) and len(keys) >= 3
    for key in keys:
        aws.s3.download_file(aws.output_bucket, key, str(tmp_path / key.removeprefix(folder)))
    playlist = (tmp_path / "clip.m3u8").read_text()
    assert "#EXT-X-ENDLIST" in playlist and "clip_00000.ts" in playlist
    facts = probe_file(str(tmp_path / "clip.m3u8"))
    assert (facts.width, facts.height) == (640, 360)
    assert abs(facts.duration - 2.0) < 0.1


def test_hls_outputs_refuse_a_percent_sign(aws: Aws) -> None:
    _add({"name": "hls_pct", "resolution": "360p", "format": "hls"})
    request = {"input": f"s3://{aws.input_bucket}/in/clip.mp4", "output": "out/50%off", "template_name": "hls_pct"}
    status, body = _call("POST", "/api/create_task", request)
    assert (status, body["code"]) == (400, 1002), body
    assert "output" in body["msg"] and "%" in body["msg"]
    mp4 = {**request, "template_name": "MP4_264_360p"}
    status, body = _call("POST", "/api/create_task", mp4)
    assert (status, body["code"]) == (200, 0), "a % is an ordinary character of an mp4 key"


@pytest.mark.parametrize(
    ("field", "stored"),
    [("framerate", {"framerate": 0.0001}), ("resolution", {"resolution": "0640x0360"})],
)
def test_a_template_stored_before_the_rules_fails_naming_the_field(
    aws: Aws, clip_720p: Path, field: str, stored: dict[str, Any]
) -> None:
    """Such templates once ended `success` audio-only (framerate) or 9000 (resolution)."""
    template = Template(template_id=template_store.new_template_id(), name="old_rules", resolution="360p")
    template_store.add(Template.from_dict({**template.to_dict(), **stored}), account_id=DEFAULT_ACCOUNT)
    event = _start_with_template(aws, clip_720p, template_name="old_rules")
    event["source"] = pipeline.download(event)
    with pytest.raises(errors.TranscodeFailed, match=f"{field}: .*update_template") as raised:
        pipeline.transcode(event, remaining_seconds=300)
    assert raised.value.err_code == 3001


@pytest.fixture
def small_output_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MAX_OUTPUT_PIXELS", str(640 * 360))
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_an_output_over_the_operators_limits_fails_before_encoding(
    aws: Aws, clip_720p: Path, small_output_limits: None
) -> None:
    """`original` keeps the 1280x720 source's size: beyond a 640x360 limit, refused as input over limits."""
    event = _start_with_template(aws, clip_720p, template_name="MP4_264_Original")
    event["source"] = pipeline.download(event)
    with pytest.raises(errors.InputOverLimits, match=r"1280x720 .*max_output_pixels") as raised:
        pipeline.transcode(event, remaining_seconds=300)
    assert raised.value.err_code == 2003
    encoded = aws.s3.list_objects_v2(Bucket=aws.work_bucket, Prefix=f"tasks/{event['task_id']}/output/")
    assert "Contents" not in encoded, "nothing was encoded"
