"""A logo watermark through local mode: served over https from an operator-trusted network, drawn on the
output where the template says, and nothing else about the output changed."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from localmode.media import probe_file
from tests.e2e.conftest import ROOT, Local, start_local
from tests.frames import dark_clip, frame_at, is_red
from tests.https_site import serve_https
from tests.pngs import solid_png
from transcoder_client.download import fetch


@pytest.fixture(scope="module")
def logo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("logo-site")
    (folder / "red.png").write_bytes(solid_png(64, 32, (255, 0, 0)))
    with serve_https(folder) as site:
        yield site


@pytest.fixture(scope="module")
def trusting_local(tmp_path_factory: pytest.TempPathFactory, logo_site: tuple[str, Path]) -> Iterator[Local]:
    """Local mode deployed with `trusted_input_networks` set in the CDK context, as an operator sets it."""
    _, cert = logo_site
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context["transcoder"] = {**context["transcoder"], "trusted_input_networks": ["127.0.0.1/32"]}
    environment = {"CDK_CONTEXT_JSON": json.dumps(context), "CA_BUNDLE": str(cert)}
    with start_local(tmp_path_factory.mktemp("local-trusting"), environment) as started:
        yield started


def _add_template(local: Local, **fields: str) -> None:
    local.client.add_template(resolution="360p", **fields)


def test_logo_drawn_at_its_offset_and_nothing_else_changed(
    trusting_local: Local, logo_site: tuple[str, Path], tmp_path: Path
) -> None:
    local, (base, _) = trusting_local, logo_site
    _add_template(local, name="e2e_logo", logo_path=f"{base}/red.png", logo_offset="x=40:y=30")
    _add_template(local, name="e2e_no_logo")
    source = local.upload(dark_clip(str(tmp_path / "dark.mp4")), "watermark/dark.mp4")

    outputs = {}
    for template in ("e2e_logo", "e2e_no_logo"):
        data = local.run_task(source, f"watermark/{template}", template)
        assert (data["status"], data["err_code"]) == ("success", 0), data
        outputs[template] = tmp_path / f"{template}.mp4"
        fetch(data["output_url"], str(outputs[template]))

    with_logo, without = (probe_file(str(outputs[name])) for name in ("e2e_logo", "e2e_no_logo"))
    assert (with_logo.video_codec, with_logo.width, with_logo.height, with_logo.audio_codec) == (
        "h264",
        640,
        360,
        "aac",
    )
    assert (with_logo.video_codec, with_logo.width, with_logo.height, with_logo.frame_count, with_logo.audio_codec) == (
        without.video_codec,
        without.width,
        without.height,
        without.frame_count,
        without.audio_codec,
    )
    assert with_logo.frame_count == 50
    assert abs(with_logo.duration - without.duration) <= 1 / 25

    for index in (0, 25, 49):
        frame = frame_at(str(outputs["e2e_logo"]), index, 640, 360)
        assert is_red(frame.pixel(40 + 32, 30 + 16)), f"logo centre, frame {index}"
        assert is_red(frame.pixel(40 + 2, 30 + 2)), f"logo top-left, frame {index}"
        assert not is_red(frame.pixel(40 + 64 + 6, 30 + 16)), "right of the 64 px logo"
        assert not is_red(frame.pixel(40 + 32, 30 + 32 + 6)), "below the 32 px logo"
        assert not is_red(frame.pixel(20, 20)), "the default offset is not used when one is given"
    plain = frame_at(str(outputs["e2e_no_logo"]), 25, 640, 360)
    assert not is_red(plain.pixel(40 + 32, 30 + 16))


def test_an_unreachable_logo_ends_the_task_fail_2005(
    trusting_local: Local, logo_site: tuple[str, Path], clips: dict[str, Path]
) -> None:
    local, (base, _) = trusting_local, logo_site
    _add_template(local, name="e2e_missing_logo", logo_path=f"{base}/missing.png")
    _add_template(local, name="e2e_metadata_logo", logo_path=f"{base}/redirect?to=https://169.254.169.254/latest/")
    source = local.upload(clips["silent"], "watermark/silent.mp4")
    data = local.run_task(source, "watermark/missing", "e2e_missing_logo")
    assert (data["status"], data["err_code"], data["err_message"]) == ("fail", 2005, "logo URL answered HTTP 404")
    data = local.run_task(source, "watermark/metadata", "e2e_metadata_logo")
    assert (data["status"], data["err_code"]) == ("fail", 2005)
    assert "non-public address" in data["err_message"]
    stored = local.s3.head_object(Bucket=local.input_bucket, Key="watermark/silent.mp4")
    assert stored["ContentLength"] == clips["silent"].stat().st_size
