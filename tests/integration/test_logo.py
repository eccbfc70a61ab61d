"""Logo watermarks: the logo fetched with every hop checked, refused unless it is a small still image,
drawn over the output, and a task whose logo is unusable ending `fail` 2005 with its input untouched."""

import hashlib
from pathlib import Path

import pytest

from localmode.media import probe_file
from tests.frames import dark_clip, ffmpeg, frame_at, is_red
from tests.integration.conftest import Aws
from tests.integration.test_api_handler import _call
from tests.integration.test_pipeline_steps import _run_pipeline, _start, _work_files
from tests.pngs import solid_png
from transcoder import errors, pipeline, repository
from transcoder.locations import S3Location
from transcoder.logo import MAX_LOGO_BYTES, stage_logo


@pytest.fixture
def site(https_site: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """The local https site, trusted as an operator would trust their own network; files go in its folder."""
    base, cert = https_site
    monkeypatch.setenv("TRUSTED_INPUT_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("CA_BUNDLE", str(cert))
    folder = cert.parent
    (folder / "red.png").write_bytes(solid_png(64, 32, (255, 0, 0)))
    (folder / "notes.txt").write_bytes(b"not an image\n" * 10)
    (folder / "huge.png").write_bytes(solid_png(8, 8, (0, 0, 0)) + bytes(MAX_LOGO_BYTES))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=48x24", "-frames:v", "1", "-c:v", "mjpeg", str(folder / "red.jpg"))
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=48x24:d=1", "-c:v", "mjpeg", "-f", "mjpeg", str(folder / "moving.jpg"))
    (folder / "two.jpg").write_bytes((folder / "red.jpg").read_bytes() * 2)
    return base, folder


def _stage(aws: Aws, url: str, account_id: str = "default") -> dict[str, object]:
    return stage_logo(url, S3Location(aws.work_bucket, "tasks/t/logo.rgba"), account_id=account_id)


def test_png_and_jpeg_logos_are_staged_as_raw_rgba(aws: Aws, site: tuple[str, Path]) -> None:
    base, _ = site
    staged = _stage(aws, f"{base}/red.png")
    assert staged == {"bucket": aws.work_bucket, "key": "tasks/t/logo.rgba", "width": 64, "height": 32}
    stored = aws.s3.get_object(Bucket=aws.work_bucket, Key="tasks/t/logo.rgba")["Body"].read()
    assert stored == bytes([255, 0, 0, 255]) * 64 * 32
    staged = _stage(aws, f"{base}/red.jpg")
    assert (staged["width"], staged["height"]) == (48, 24)
    stored = aws.s3.get_object(Bucket=aws.work_bucket, Key="tasks/t/logo.rgba")["Body"].read()
    assert len(stored) == 48 * 24 * 4
    assert is_red((stored[0], stored[1], stored[2]))


def test_s3_logo_from_a_readable_bucket(aws: Aws) -> None:
    aws.s3.put_object(Bucket=aws.input_bucket, Key="brand/red.png", Body=solid_png(16, 8, (255, 0, 0)))
    staged = _stage(aws, f"s3://{aws.input_bucket}/brand/red.png")
    assert (staged["width"], staged["height"]) == (16, 8)
    with pytest.raises(errors.LogoNotUsable, match=f"^logo s3://{aws.input_bucket}/brand/gone.png does not exist$"):
        _stage(aws, f"s3://{aws.input_bucket}/brand/gone.png")
    with pytest.raises(errors.LogoNotUsable, match="logo bucket 'test-output' is not readable"):
        _stage(aws, f"s3://{aws.output_bucket}/brand/red.png")
    # Another account's template reaches none of the deployment's buckets, even one stored before add_template
    # refused s3:// logos for it: the bucket holds every account's uploads.
    with pytest.raises(errors.LogoNotUsable, match="belongs to the deployment's own account"):
        _stage(aws, f"s3://{aws.input_bucket}/brand/red.png", account_id="tenant-b")
    aws.s3.put_object(Bucket=aws.input_bucket, Key="brand/big.png", Body=bytes(MAX_LOGO_BYTES + 1))
    with pytest.raises(errors.LogoNotUsable, match=f"logo is {MAX_LOGO_BYTES + 1} bytes"):
        _stage(aws, f"s3://{aws.input_bucket}/brand/big.png")


def test_a_loopback_logo_is_refused_unless_trusted(aws: Aws, https_site: tuple[str, Path]) -> None:
    base, _ = https_site
    with pytest.raises(errors.LogoNotUsable, match=r"logo host '127\.0\.0\.1' resolves to a non-public address"):
        _stage(aws, f"{base}/red.png")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "non-public address"),
        ("https://127.0.0.2/red.png", "non-public address"),
        ("https://10.0.0.1/red.png", "non-public address"),
        ("http://127.0.0.1/red.png", "must be https"),
        ("file:///etc/passwd", "must be https"),
    ],
)
def test_redirects_of_a_logo_are_checked_at_every_hop(
    aws: Aws, site: tuple[str, Path], target: str, reason: str
) -> None:
    base, _ = site
    with pytest.raises(errors.LogoNotUsable, match=reason):
        _stage(aws, f"{base}/redirect?to={target}")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("notes.txt", "logo is not an image"),
        ("moving.jpg", r"must be a PNG or JPEG still image \(got mjpeg mjpeg\)"),
        ("two.jpg", r"must be a PNG or JPEG still image \(got mjpeg mjpeg\)"),
        ("huge.png", rf"logo is \d+ bytes; the limit is {MAX_LOGO_BYTES} bytes"),
        ("missing.png", "logo URL answered HTTP 404"),
        ("truncated", "logo transfer broke off"),
    ],
)
def test_unusable_logos_are_refused_with_the_reason(aws: Aws, site: tuple[str, Path], name: str, reason: str) -> None:
    base, _ = site
    with pytest.raises(errors.LogoNotUsable, match=reason):
        _stage(aws, f"{base}/{name}")


def _logo_template(name: str, logo_path: str, **fields: object) -> None:
    status, body = _call(
        "POST", "/api/add_template", {"name": name, "resolution": "360p", "logo_path": logo_path, **fields}
    )
    assert (status, body["code"]) == (200, 0), body


@pytest.fixture(scope="module")
def dark(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of dark grey 1280x720 at 25 fps with a tone: nothing red unless a logo is drawn."""
    return Path(dark_clip(str(tmp_path_factory.mktemp("dark") / "dark.mp4")))


def test_logo_is_drawn_over_the_output(aws: Aws, site: tuple[str, Path], dark: Path, tmp_path: Path) -> None:
    base, _ = site
    _logo_template("with_logo", f"{base}/red.png", logo_size="40x20", logo_offset="x=100:y=50")
    event = _run_pipeline(_start(aws, dark, template="with_logo"))
    output = tmp_path / "out.mp4"
    aws.s3.download_file(aws.output_bucket, event["delivered"]["objkey"], str(output))
    facts = probe_file(str(output))
    assert (facts.video_codec, facts.width, facts.height, facts.frame_count) == ("h264", 640, 360, 50)
    frame = frame_at(str(output), 25, 640, 360)
    assert is_red(frame.pixel(120, 60))
    assert not is_red(frame.pixel(95, 60)), "left of the logo"
    assert not is_red(frame.pixel(145, 60)), "right of the 40 px wide logo"
    assert not is_red(frame.pixel(120, 75)), "below the 20 px high logo"
    assert is_red(frame_at(str(output), 49, 640, 360).pixel(120, 60)), "the one-frame logo lasts to the end"
    assert _work_files(aws) == [], "the staged logo is cleaned up with the task's work files"


def test_an_unusable_logo_fails_the_task_with_2005_and_leaves_the_input(
    aws: Aws, site: tuple[str, Path], clip_720p: Path
) -> None:
    base, _ = site
    _logo_template("text_logo", f"{base}/notes.txt")
    event = _start(aws, clip_720p, template="text_logo")
    with pytest.raises(errors.LogoNotUsable) as raised:
        pipeline.download(event)
    failure = pipeline.record_failure(
        {**event, "error": {"Error": type(raised.value).__name__, "Cause": f'{{"errorMessage": "{raised.value}"}}'}}
    )
    assert (failure["err_code"], failure["err_message"]) == (2005, "logo is not an image (PNG or JPEG expected)")
    task = repository.get(event["task_id"])
    assert task is not None
    assert (task.status, task.err_code) == ("fail", 2005)
    stored = aws.s3.get_object(Bucket=aws.input_bucket, Key="in/clip.mp4")["Body"].read()
    assert hashlib.sha256(stored).digest() == hashlib.sha256(clip_720p.read_bytes()).digest()
    assert _work_files(aws) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"logo_path": "https://u:p@example.com/l.png"}, "logo_path: must not carry credentials"),
        ({"logo_path": "http://example.com/l.png"}, "logo_path: must be https:// or s3:// (got http scheme)"),
        ({"logo_size": "64x32"}, "logo_size: only with logo_path"),
    ],
)
def test_add_and_update_template_refuse_bad_logo_fields(aws: Aws, fields: dict[str, str], message: str) -> None:
    status, body = _call("POST", "/api/add_template", {"name": "bad_logo", "resolution": "360p", **fields})
    assert (status, body["code"], body["msg"]) == (400, 1002, f"bad param: {message}")
    status, body = _call("POST", "/api/add_template", {"name": "plain", "resolution": "360p"})
    assert body["code"] == 0
    status, body = _call("PUT", "/api/update_template", {"name": "plain", **fields})
    assert (status, body["code"], body["msg"]) == (400, 1002, f"bad param: {message}")


def test_update_template_sets_and_clears_a_logo(aws: Aws) -> None:
    _call("POST", "/api/add_template", {"name": "plain", "resolution": "360p"})
    status, body = _call(
        "PUT", "/api/update_template", {"name": "plain", "logo_path": "https://example.com/l.png", "logo_size": "64x32"}
    )
    assert (status, body["data"]["logo_path"], body["data"]["logo_size"]) == (200, "https://example.com/l.png", "64x32")
    status, body = _call("PUT", "/api/update_template", {"name": "plain", "logo_path": None, "logo_size": None})
    assert (status, body["data"]["logo_path"], body["data"]["logo_size"]) == (200, None, None)
