"""The HLS ladder built-in through local mode: the master playlist plays every rendition to the end."""

from pathlib import Path

from localmode.media import probe_file
from tests.e2e.conftest import OWN_PART, Local
from transcoder_client.download import fetch


def test_hls_ladder_end_to_end(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    data = local.run_task(local.upload(clips["720p"], "ladder/in.mp4"), "ladder/out/clip", "HLS_264_ladder")
    assert (data["status"], data["objkey"], data["dst_width"], data["dst_height"]) == (
        "success",
        "ladder/out/clip.m3u8",
        1280,
        720,
    )
    fetch(data["output_url"], str(tmp_path / "clip.m3u8"))
    folder = OWN_PART + "ladder/out/"
    listed = local.s3.list_objects_v2(Bucket=local.output_bucket, Prefix=folder)["Contents"]
    for key in (o["Key"] for o in listed):
        local.s3.download_file(local.output_bucket, key, str(tmp_path / key.removeprefix(folder)))
    master = (tmp_path / "clip.m3u8").read_text()
    assert master.count("#EXT-X-STREAM-INF") == 2, master
    for variant, size in (("clip_720p.m3u8", (1280, 720)), ("clip_360p.m3u8", (640, 360))):
        assert variant in master
        facts = probe_file(str(tmp_path / variant))
        assert ((facts.width, facts.height), facts.frame_count, facts.audio_codec) == (size, 120, "aac"), variant
