"""A custom template through local mode's HTTP API, checked on the output with ffprobe."""

from pathlib import Path
from typing import Any

import pytest

from localmode.media import probe_file
from tests.e2e.conftest import Local
from transcoder_client.errors import ParamError


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
    local.upload(clips["silent"], "e2e_h265_10fps/dropped.mp4")
    dropped = local.wait_for_drop("e2e_h265_10fps/dropped.mp4")
    assert (dropped["status"], dropped["objkey"], dropped["dst_height"]) == ("success", "dropped.mp4", 240)


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"resolution": "360p", "framerate": 0.0001}, "framerate"),
        ({"resolution": "0640x0360"}, "resolution"),
        ({"resolution": "7680x7680"}, "operator's limit"),
    ],
)
def test_templates_that_could_not_encode_are_refused(local: Local, fields: dict[str, Any], needle: str) -> None:
    """Once accepted: tasks with them ended audio-only, 9000, or beyond the Transcode function's memory."""
    with pytest.raises(ParamError) as raised:
        local.client.add_template("e2e_refused", **fields)
    assert raised.value.code == 1002
    assert needle in raised.value.msg
    local.client.add_template("e2e_refused", resolution="360p")
    with pytest.raises(ParamError) as raised:
        local.client.update_template("e2e_refused", **fields)
    assert (raised.value.code, needle in raised.value.msg) == (1002, True)
    local.client.del_template(name="e2e_refused")
