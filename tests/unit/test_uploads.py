"""Upload rules that need no AWS: the fields of create_upload, where an upload may land, who reads it."""

import pytest

from transcoder import storages, uploads
from transcoder.api.upload_requests import CreateUploadRequest
from transcoder.locations import S3Location
from transcoder.settings import settings
from transcoder.tasks import InvalidParameter

UPLOAD_ID = "01m87kg1p53hsf8sqhnfdpq86h"


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    settings.cache_clear()


@pytest.mark.parametrize(
    "filename",
    [
        "",
        " clip.mp4",
        "clip.mp4 ",
        ".",
        "..",
        "../clip.mp4",
        "a/b.mp4",
        "..\\..\\clip.mp4",
        "clip\n.mp4",
        "clip\x00.mp4",
        "clip\x85.mp4",
        "clip?.mp4",
        "clip#1.mp4",
        "x" * 252 + ".mp4",
        "clip\ud800.mp4",
    ],
)
def test_a_filename_is_one_sane_key_segment(filename: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        uploads.check_filename(filename)
    assert refused.value.field == "filename"


@pytest.mark.parametrize("filename", ["clip.mp4", "My holiday (2026).MOV", "видео.mkv", "...mp4", "a..b.mp4"])
def test_ordinary_filenames_are_accepted(filename: str) -> None:
    assert uploads.check_filename(filename) == filename


def test_the_size_is_positive_and_within_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_INPUT_BYTES", "1000")
    assert uploads.check_size(1) == 1
    assert uploads.check_size(1000) == 1000
    for size in (0, -5, 1001):
        with pytest.raises(InvalidParameter, match="size") as refused:
            uploads.check_size(size)
        assert refused.value.field == "size"
    with pytest.raises(InvalidParameter, match="1000 bytes \\(max_input_bytes\\)"):
        uploads.check_size(1001)


def test_one_post_uploads_at_most_5_gib_whatever_max_input_bytes_says() -> None:
    assert settings().max_input_bytes == 50 * 1024**3  # the default
    assert uploads.check_size(5 * 1024**3) == 5 * 1024**3
    with pytest.raises(InvalidParameter, match="largest single S3 POST upload"):
        uploads.check_size(5 * 1024**3 + 1)


def test_only_video_content_types_are_accepted() -> None:
    assert uploads.check_content_type("video/mp4") == "video/mp4"
    assert uploads.check_content_type(" Video/QuickTime ") == "video/quicktime"
    for refused_type in ("text/html", "application/octet-stream", "video/mp4; charset=x", "audio/mpeg", "image/png"):
        with pytest.raises(InvalidParameter) as refused:
            uploads.check_content_type(refused_type)
        assert refused.value.field == "content_type"


def test_an_upload_lands_in_its_accounts_uploads_only() -> None:
    location = uploads.upload_location("acme", UPLOAD_ID, "clip.mp4")
    assert location == S3Location("test-input", f"accounts/acme/uploads/{UPLOAD_ID}/clip.mp4")
    # Account ids are one key segment however they are spelled (storages.account_root).
    assert uploads.upload_location("a/b", UPLOAD_ID, "c.mp4").key.startswith("accounts/a%2Fb/uploads/")
    with pytest.raises(InvalidParameter):
        uploads.upload_location("acme", UPLOAD_ID, "../../victim/uploads/x/clip.mp4")


def test_only_its_account_reads_an_upload() -> None:
    acme = S3Location("test-input", f"accounts/acme/uploads/{UPLOAD_ID}/clip.mp4")
    assert storages.own_object_refusal("acme", acme) is None
    assert "not in your uploads" in str(storages.own_object_refusal("victim", acme))
    # Not even the deployment's own account, which reads the rest of its buckets.
    assert "not in your uploads" in str(storages.own_object_refusal("default", acme))
    assert storages.own_object_refusal("default", S3Location("test-input", "videos/clip.mp4")) is None
    assert "deployment's own account" in str(storages.own_object_refusal("acme", S3Location("test-input", "a.mp4")))
    # Another account whose id starts like this one's: `acme` must not read `acme2`'s.
    assert storages.own_object_refusal("acme", S3Location("test-input", "accounts/acme2/uploads/x/c.mp4"))


@pytest.mark.parametrize(
    "key",
    [
        "accounts/acme/uploads/x/../../victim/uploads/y/clip.mp4",
        "accounts/acme/./../victim/uploads/y/clip.mp4",
        "drop/../accounts/victim/uploads/y/clip.mp4",
    ],
)
def test_dot_segments_cannot_climb_into_another_accounts_uploads(key: str) -> None:
    """A URL client that collapses `..` would read another key than the one checked: refused to everyone."""
    for account in ("acme", "default"):
        assert "'.' or '..'" in str(storages.own_object_refusal(account, S3Location("test-input", key)))


def test_the_request_model_types_its_fields() -> None:
    request = CreateUploadRequest.model_validate({"filename": "a.mp4", "size": 10, "content_type": "video/mp4"})
    assert (request.filename, request.size, request.content_type) == ("a.mp4", 10, "video/mp4")
    for wrong in ({"size": "10"}, {"size": True}, {"size": 1.5}, {"filename": 7}, {"content_type": ""}):
        with pytest.raises(ValueError):
            CreateUploadRequest.model_validate({"filename": "a.mp4", "size": 10, "content_type": "video/mp4", **wrong})
