"""Bad requests and bad media through local mode: specific codes, never a 500, never a stuck task."""

import hashlib
import subprocess
from pathlib import Path

import pytest

from localmode.stack import static_ffmpeg
from tests.e2e.conftest import OWN_PART, Local


def _sha(local: Local, key: str) -> str:
    body = local.s3.get_object(Bucket=local.input_bucket, Key=key)["Body"].read()
    return hashlib.sha256(body).hexdigest()


def _put(local: Local, key: str, body: bytes) -> str:
    local.s3.put_object(Bucket=local.input_bucket, Key=key, Body=body)
    return f"s3://{local.input_bucket}/{key}"


def _audio_only(tmp_path: Path) -> bytes:
    path = tmp_path / "tone.m4a"
    ffmpeg, _ = static_ffmpeg()
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(path)], check=True
    )
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "make", "err_code", "needle"),
    [
        ("empty", lambda tmp: b"", 2002, "empty"),
        ("text", lambda tmp: b"not a video at all\n" * 50, 2002, "not a decodable media file"),
        ("audio-only", _audio_only, 2004, "no video stream"),
    ],
)
def test_bad_media_ends_fail_and_input_is_untouched(
    local: Local, tmp_path: Path, name: str, make: object, err_code: int, needle: str
) -> None:
    key = f"bad-{name}.mp4"
    body = make(tmp_path)  # type: ignore[operator]
    input_url = _put(local, key, body)
    before = _sha(local, key)
    data = local.run_task(input_url, f"bad/{name}")
    assert (data["status"], data["err_code"]) == ("fail", err_code), data
    assert needle in data["err_message"]
    assert data["output_url"] == ""
    assert data["finish_time"] > 0
    assert _sha(local, key) == before
    work = local.s3.list_objects_v2(Bucket=local.work_bucket, Prefix=f"tasks/{data['task_id']}/")
    assert work.get("KeyCount", 0) == 0, "work files left behind"


def test_missing_input_object_fails_with_2001(local: Local) -> None:
    data = local.run_task(f"s3://{local.input_bucket}/bad-does-not-exist.mp4", "bad/missing")
    assert (data["status"], data["err_code"]) == ("fail", 2001)
    assert "does-not-exist.mp4" in data["err_message"]


def test_truncated_video_fails_with_2002(local: Local, clips: dict[str, Path]) -> None:
    body = clips["720p"].read_bytes()
    data = local.run_task(_put(local, "bad-truncated.mp4", body[: len(body) // 3]), "bad/truncated")
    assert (data["status"], data["err_code"]) == ("fail", 2002), data
    assert "truncated" in data["err_message"]
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=OWN_PART + "bad/truncated")
    assert listed.get("KeyCount", 0) == 0, "an output was written for a failed task"


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "http", "code"),
    [
        ("POST", "/api/create_task", None, {"output": "x", "template_name": "MP4_264_360p"}, 400, 1001),
        (
            "POST",
            "/api/create_task",
            None,
            {"input": "s3://x", "output": "x", "template_name": "MP4_264_360p"},
            400,
            1002,
        ),
        (
            "POST",
            "/api/create_task",
            None,
            {"input": "ftp://a/b", "output": "x", "template_name": "MP4_264_360p"},
            400,
            1002,
        ),
        ("GET", "/api/query_task", {"task_id": "01m87ken790ez9c6fq6336xxkz"}, None, 404, 1004),
        ("GET", "/api/query_task", None, None, 400, 1001),
        ("DELETE", "/api/create_task", None, None, 404, 1004),
    ],
)
def test_bad_requests_over_http(
    local: Local, method: str, path: str, params: dict[str, str] | None, body: object, http: int, code: int
) -> None:
    answer = local.client.request(method, path, params=params, body=body)
    status, response = answer.http_status, answer.body
    assert (status, response["code"]) == (http, code), response
    assert set(response) == {"code", "msg", "data", "request_id"}
