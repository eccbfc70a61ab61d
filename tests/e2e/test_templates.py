"""A custom template through local mode's HTTP API, checked on the output with ffprobe."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localmode.media import probe_file
from tests.e2e.conftest import Local, start_local
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
    local.upload(clips["silent"], "drop/e2e_h265_10fps/dropped.mp4")
    dropped = local.wait_for_drop("drop/e2e_h265_10fps/dropped.mp4")
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


SMALL_LIMITS = {"max_output_pixels": 640 * 360, "max_output_dimension": 1280, "max_output_framerate": 30}


@pytest.fixture(scope="module")
def limited_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """Local mode of an operator who set small output limits (`--context name=value` → the CDK context).

    $TRANSCODER_SETTINGS allows 60 fps, the command line 30: the command line wins.
    """
    environment = {"TRANSCODER_SETTINGS": json.dumps({"max_output_framerate": 60})}
    context = {name: str(value) for name, value in SMALL_LIMITS.items()}
    with start_local(tmp_path_factory.mktemp("limited-local"), environment, context) as started:
        yield started


def test_the_operators_output_limits_hold_from_request_to_task(limited_local: Local, clips: dict[str, Path]) -> None:
    # 60 fps is refused: the limits of --context reached the functions, over $TRANSCODER_SETTINGS's.
    for fields, needle in (({"resolution": "1280x720"}, "230400"), ({"framerate": 60}, "max_output_framerate")):
        with pytest.raises(ParamError) as raised:
            limited_local.client.add_template("e2e_too_big", **{"resolution": "360p", **fields})
        assert (raised.value.code, needle in raised.value.msg) == (1002, True), raised.value.msg

    source = limited_local.upload(clips["720p"], "e2e-limits.mp4")
    refused = limited_local.run_task(source, "limits/original", "MP4_264_Original")
    assert (refused["status"], refused["err_code"]) == ("fail", 2003)
    assert "1280x720" in refused["err_message"] and "max_output_pixels" in refused["err_message"]
    within = limited_local.run_task(source, "limits/360p", "MP4_264_360p")
    assert (within["status"], within["dst_width"], within["dst_height"]) == ("success", 640, 360)
