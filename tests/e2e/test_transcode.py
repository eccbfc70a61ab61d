"""Real videos through the HTTP API, the synthesized state machine and real ffmpeg, checked with ffprobe."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from localmode.media import ProbedFile, probe_file
from tests.e2e.conftest import OWN_PART, Local


def _output(local: Local, data: dict[str, object], tmp_path: Path) -> ProbedFile:
    path = tmp_path / "output.mp4"
    local.client.download(data, str(path))
    return probe_file(str(path))


def test_720p_clip_to_h264_360p(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    source = probe_file(str(clips["720p"]))
    data = local.run_task(local.upload(clips["720p"], "e2e-720p.mp4"), "e2e/720p-360p")
    assert (data["status"], data["err_code"], data["err_message"], data["progress"]) == ("success", 0, "success", 100)
    assert data["objkey"] == "e2e/720p-360p.mp4"
    assert data["bucket"] == local.output_bucket
    assert isinstance(data["src_bitrate"], float) and data["src_bitrate"] > 0
    assert isinstance(data["dst_bitrate"], float) and 0 < data["dst_bitrate"] < data["src_bitrate"]
    assert data["finish_time"] >= data["create_time"] > 0
    assert (data["dst_width"], data["dst_height"]) == (640, 360)
    # What the Plan estimated, and what the steps were charged so far (USD, ext; Upload's own lands as it ends).
    assert isinstance(data["estimated_cost"], float) and data["estimated_cost"] > 0
    assert isinstance(data["cost"], float) and data["cost"] > 0

    output = _output(local, data, tmp_path)
    assert (output.video_codec, output.width, output.height, output.audio_codec) == ("h264", 640, 360, "aac")
    assert output.frame_count == source.frame_count == 120
    assert abs(output.duration - source.duration) <= 1 / 30
    assert abs(output.audio_duration - output.video_duration) <= 0.040, "audio and video end apart"
    with open(tmp_path / "output.mp4", "rb") as handle:
        head = handle.read(64 * 1024)
    assert head.find(b"moov") < head.find(b"mdat"), "not faststart: moov after mdat"


def test_h265_480p_from_real_camera_video(local: Local, real_video: Path, tmp_path: Path) -> None:
    source = probe_file(str(real_video))
    data = local.run_task(local.upload(real_video, "e2e-real movie.mp4"), "e2e/real-480p", "MP4_265_480p")
    assert data["status"] == "success", data
    output = _output(local, data, tmp_path)
    # 560x320 is smaller than 480p: never upscaled.
    assert (output.video_codec, output.width, output.height) == ("hevc", source.width, source.height)
    assert output.audio_codec == "aac"
    assert output.frame_count == source.frame_count
    assert abs(output.duration - source.duration) <= 1 / 30


def test_real_video_to_360p_keeps_aspect(local: Local, real_video: Path, tmp_path: Path) -> None:
    data = local.run_task(local.upload(real_video, "e2e-real.mp4"), "e2e/real-360p", "MP4_264_360p")
    output = _output(local, data, tmp_path)
    assert (output.width, output.height) == (560, 320)


def test_source_without_audio(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    data = local.run_task(local.upload(clips["silent"], "e2e-silent.mp4"), "e2e/silent", "MP4_264_480p")
    assert data["status"] == "success", data
    output = _output(local, data, tmp_path)
    assert (output.width, output.height, output.audio_codec) == (854, 480, None)
    assert output.frame_count == 75


def test_portrait_keeps_orientation(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    data = local.run_task(local.upload(clips["portrait"], "e2e-portrait.mp4"), "e2e/portrait", "MP4_264_360p")
    output = _output(local, data, tmp_path)
    assert (output.width, output.height) == (360, 640)


def test_original_keeps_resolution(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    data = local.run_task(local.upload(clips["720p"], "e2e-orig.mp4"), "e2e/orig", "MP4_265_Original")
    output = _output(local, data, tmp_path)
    assert (output.video_codec, output.width, output.height) == ("hevc", 1280, 720)


def test_concurrent_tasks_all_succeed(local: Local, clips: dict[str, Path]) -> None:
    input_url = local.upload(clips["silent"], "e2e-many.mp4")
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda i: local.run_task(input_url, f"e2e/many-{i}"), range(6)))
    assert [r["status"] for r in results] == ["success"] * 6
    assert len({r["task_id"] for r in results}) == 6
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=OWN_PART + "e2e/many-")["Contents"]
    assert {o["Key"] for o in listed} == {f"{OWN_PART}e2e/many-{i}.mp4" for i in range(6)}


def test_aws_cli_upload_then_a_signed_curl_request(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    """The README's walkthrough: the AWS CLI against the emulator, then the API with curl, signed by openssl."""
    cli = Path(sys.executable).with_name("aws")
    subprocess.run(
        [
            str(cli),
            "--endpoint-url",
            local.aws_url,
            "s3",
            "cp",
            str(clips["720p"]),
            f"s3://{local.input_bucket}/cli-clip.mp4",
        ],
        check=True,
        capture_output=True,
    )
    body = json.dumps(
        {"input": f"s3://{local.input_bucket}/cli-clip.mp4", "output": "cli/clip", "template_name": "MP4_264_360p"}
    )
    # The README's `signed` shell function (curl + openssl), exactly as printed there.
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    function = readme[readme.index("signed() {") : readme.index("\n}\n", readme.index("signed() {")) + 2]
    curl = subprocess.run(
        ["bash", "-c", function + '\nsigned POST /api/create_task "$BODY"'],
        env={
            **os.environ,
            "AK": local.access_key_id,
            "SK": local.secret_access_key,
            "API": local.api_url,
            "BODY": body,
        },
        check=True,
        capture_output=True,
    )
    task_id = json.loads(curl.stdout)["data"]["task_id"]
    data = local.client.wait(task_id, interval=0.1, timeout=600)
    assert data["status"] == "success"
    listed = subprocess.run(
        [str(cli), "--endpoint-url", local.aws_url, "s3", "ls", f"s3://{local.output_bucket}/{OWN_PART}cli/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "clip.mp4" in listed


@pytest.mark.parametrize("template", ["MP4_264_1080p", "MP4_265_720p"])
def test_no_upscaling_beyond_the_source(local: Local, clips: dict[str, Path], tmp_path: Path, template: str) -> None:
    data = local.run_task(local.upload(clips["silent"], f"e2e-up-{template}.mp4"), f"e2e/up-{template}", template)
    assert data["status"] == "success", data
    assert (data["dst_width"], data["dst_height"]) == (960, 540)
