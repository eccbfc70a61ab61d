"""The pipeline's steps against moto's S3 and DynamoDB, with the real static ffmpeg."""

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from localmode.media import probe_file
from tests.integration.conftest import Aws
from transcoder import errors, pipeline, repository, tasks
from transcoder.models import DEFAULT_ACCOUNT
from transcoder.status import Status


def _start(
    aws: Aws, source: bytes | Path, *, template: str = "MP4_264_360p", key: str = "in/clip.mp4"
) -> dict[str, Any]:
    body = source.read_bytes() if isinstance(source, Path) else source
    aws.s3.put_object(Bucket=aws.input_bucket, Key=key, Body=body)
    task = tasks.create_task(
        account_id=DEFAULT_ACCOUNT,
        input_url=f"s3://{aws.input_bucket}/{key}",
        output="out/clip",
        template_name=template,
    )
    execution = aws.sfn.list_executions(stateMachineArn=tasks.settings().state_machine_arn)["executions"][-1]
    event: dict[str, Any] = json.loads(aws.sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert event["task_id"] == task.task_id
    return event


def _run_pipeline(event: dict[str, Any]) -> dict[str, Any]:
    """What the state machine does with the steps' results (ResultPath)."""
    event["source"] = pipeline.download(event)
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    event["delivered"] = pipeline.upload(event)
    return event


def _work_files(aws: Aws) -> list[str]:
    return [o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.work_bucket).get("Contents", [])]


def test_steps_transcode_and_deliver(aws: Aws, clip_720p: Path, tmp_path: Path) -> None:
    event = _run_pipeline(_start(aws, clip_720p))
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code, task.err_message, task.progress) == ("success", 0, "success", 100)
    assert (task.src_width, task.src_height, task.dst_width, task.dst_height) == (1280, 720, 640, 360)
    assert task.src_bitrate > 0
    assert task.dst_bitrate > 0

    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, "accounts/default/out/clip.mp4", str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("h264", 640, 360, "aac")
    assert facts.frame_count == 50
    assert abs(facts.duration - 2.0) <= 1 / 25
    assert task.dst_bitrate == pytest.approx(output.stat().st_size * 8 / facts.duration / 1000, rel=0.01)
    assert _work_files(aws) == [], "work files left behind"


def test_source_without_audio_transcodes(aws: Aws, clip_silent: Path, tmp_path: Path) -> None:
    event = _run_pipeline(_start(aws, clip_silent, template="MP4_265_Original"))
    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, event["delivered"]["objkey"], str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("hevc", 640, 480, None)


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        (b"", errors.InputNotDecodable, 2002),
        (b"this is a text file, not a video\n" * 100, errors.InputNotDecodable, 2002),
    ],
)
def test_bad_media_fails_specifically_and_leaves_input_untouched(
    aws: Aws, body: bytes, error: type[errors.TaskError], code: int
) -> None:
    event = _start(aws, body)
    with pytest.raises(error) as raised:
        pipeline.download(event)
    assert raised.value.err_code == code
    stored = aws.s3.get_object(Bucket=aws.input_bucket, Key="in/clip.mp4")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(body).digest()


def test_audio_only_input_is_no_video_stream(aws: Aws, tmp_path: Path) -> None:
    import subprocess

    from localmode.stack import static_ffmpeg

    audio = tmp_path / "tone.m4a"
    ffmpeg, _ = static_ffmpeg()
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(audio)], check=True
    )
    event = _start(aws, audio)
    with pytest.raises(errors.NoVideoStream, match="audio-only"):
        pipeline.download(event)


def test_missing_input_is_input_not_found(aws: Aws) -> None:
    event = _start(aws, b"x")
    aws.s3.delete_object(Bucket=aws.input_bucket, Key="in/clip.mp4")
    with pytest.raises(errors.InputNotFound, match="does not exist"):
        pipeline.download(event)


def test_truncated_input_fails_without_output(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p.read_bytes()[: clip_720p.stat().st_size // 3])
    with pytest.raises(errors.TaskError) as raised:
        _run_pipeline(event)
    assert raised.value.err_code in (2002, 3001)
    assert "Contents" not in aws.s3.list_objects_v2(Bucket=aws.output_bucket)


def test_record_failure_writes_code_and_message_and_cleans_up(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p)
    event["source"] = pipeline.download(event)
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    assert _work_files(aws), "transcode left no encoded file to clean up"
    cause = json.dumps({"errorType": "InputNotFound", "errorMessage": "input s3://x/y does not exist"})
    result = pipeline.record_failure({**event, "error": {"Error": "InputNotFound", "Cause": cause}})
    assert result == {
        "task_id": event["task_id"],
        "recorded": True,
        "err_code": 2001,
        "err_message": "input s3://x/y does not exist",
    }
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code, task.err_message) == ("fail", 2001, "input s3://x/y does not exist")
    assert task.finish_time > 0
    assert _work_files(aws) == []


def test_unexpected_errors_do_not_leak_internals(aws: Aws) -> None:
    event = _start(aws, b"x")
    cause = json.dumps({"errorType": "KeyError", "errorMessage": "'secret-internal-detail'"})
    result = pipeline.record_failure({**event, "error": {"Error": "KeyError", "Cause": cause}})
    assert result["err_code"] == 9000
    assert "secret-internal-detail" not in result["err_message"]


def test_a_cancelled_task_stops_the_next_step(aws: Aws, clip_720p: Path) -> None:
    event = _start(aws, clip_720p)
    event["source"] = pipeline.download(event)
    assert repository.move(event["task_id"], Status.CANCELLED, err_code=5001, err_message="cancelled")
    with pytest.raises(errors.StatusConflict):
        pipeline.transcode(event, remaining_seconds=300)
    failure = pipeline.record_failure({**event, "error": {"Error": "StatusConflict", "Cause": "{}"}})
    assert failure["recorded"] is False
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code) == ("cancelled", 5001)


def test_input_overwritten_mid_task_is_read_at_the_probed_version(
    aws: Aws, clip_720p: Path, clip_silent: Path, tmp_path: Path
) -> None:
    event = _start(aws, clip_720p)
    event["source"] = pipeline.download(event)
    assert event["source"]["staged"]["version_id"]
    aws.s3.put_object(Bucket=aws.input_bucket, Key="in/clip.mp4", Body=clip_silent.read_bytes())
    event["transcoded"] = pipeline.transcode(event, remaining_seconds=300)
    event["delivered"] = pipeline.upload(event)
    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, "accounts/default/out/clip.mp4", str(output))
    facts = probe_file(str(output))
    assert (facts.width, facts.height, facts.audio_codec) == (640, 360, "aac"), "read the replacement, not the input"
