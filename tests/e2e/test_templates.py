"""A custom template through local mode's HTTP API, checked on the output with ffprobe."""

from pathlib import Path

from localmode.media import probe_file
from tests.e2e.conftest import Local


def test_custom_template_end_to_end(local: Local, clips: dict[str, Path], tmp_path: Path) -> None:
    added = local.client.add_template("e2e_h265_10fps", resolution="426x240", vcodec="h265", framerate=10)
    data = local.run_task(local.upload(clips["720p"], "e2e-custom.mp4"), "custom/out", "e2e_h265_10fps")
    assert (data["status"], data["template_id"]) == ("success", added["template_id"])
    output = tmp_path / "out.mp4"
    local.client.download(data, str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.audio_codec) == ("hevc", 426, 240, "aac")
    assert facts.frame_count == 40, "4 s at 10 fps"

    # Dropped under the custom template's name, a file uses it too.
    local.upload(clips["silent"], "drop/e2e_h265_10fps/dropped.mp4")
    dropped = local.wait_for_drop("drop/e2e_h265_10fps/dropped.mp4")
    assert (dropped["status"], dropped["objkey"], dropped["dst_height"]) == ("success", "dropped.mp4", 240)
