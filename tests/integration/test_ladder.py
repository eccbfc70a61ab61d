"""The HLS ladder built-in through the pipeline: one master playlist, a variant per rendition, all delivered."""

from itertools import pairwise
from pathlib import Path

from localmode.media import probe_file
from tests.integration.conftest import Aws
from tests.integration.test_pipeline_steps import _run_pipeline, _start
from transcoder import repository


def test_ladder_delivers_master_variants_and_segments(aws: Aws, clip_720p: Path, tmp_path: Path) -> None:
    event = _run_pipeline(_start(aws, clip_720p, template="HLS_264_ladder"))
    folder = "accounts/default/out/"  # the deployment account's part of the output bucket
    assert event["delivered"]["objkey"] == folder + "clip.m3u8"
    keys = sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=aws.output_bucket, Prefix=folder)["Contents"])
    for key in keys:
        aws.s3.download_file(aws.output_bucket, key, str(tmp_path / key.removeprefix(folder)))
    names = [key.removeprefix(folder) for key in keys]
    # A 1280x720 source: the 1080p rung would upscale, so it is the 720p one; no file is made twice.
    assert names[:3] == ["clip.m3u8", "clip_360p.m3u8", "clip_360p_00000.ts"]
    assert "clip_720p.m3u8" in names and "clip_720p_00000.ts" in names
    assert not any("1080p" in name for name in names)

    master = (tmp_path / "clip.m3u8").read_text().splitlines()
    variants = [(info, uri) for info, uri in pairwise(master) if info.startswith("#EXT-X-STREAM-INF")]
    assert [uri for _, uri in variants] == ["clip_720p.m3u8", "clip_360p.m3u8"]
    assert "RESOLUTION=1280x720" in variants[0][0] and "RESOLUTION=640x360" in variants[1][0]
    assert all("BANDWIDTH=" in info and 'CODECS="avc1.' in info and "mp4a.40.2" in info for info, _ in variants)

    for name, size in (("clip_720p.m3u8", (1280, 720)), ("clip_360p.m3u8", (640, 360))):
        facts = probe_file(str(tmp_path / name))
        assert (facts.video_codec, (facts.width, facts.height), facts.audio_codec) == ("h264", size, "aac")
        assert facts.frame_count == 50, name
        assert abs(facts.duration - 2.0) <= 1 / 25 + 0.05, name
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.dst_width, task.dst_height) == ("success", 1280, 720)
