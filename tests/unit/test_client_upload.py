"""The client's streamed multipart form: the bytes a form parser reads back, sent a chunk at a time."""

import io
from pathlib import Path

import pytest
from werkzeug.formparser import parse_form_data
from werkzeug.test import EnvironBuilder

from transcoder_client.upload import CHUNK_BYTES, MultipartForm, UploadError, guess_content_type

FIELDS = {"key": 'accounts/acme/uploads/x/my "clip".mp4', "Content-Type": "video/mp4", "policy": "eyJ9"}


def _form(path: Path) -> MultipartForm:
    return MultipartForm(FIELDS, str(path), 'my "clip".mp4', "video/mp4", boundary="b0undary")


def test_the_body_is_the_fields_then_the_file_and_its_length_is_announced(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    content = bytes(range(256)) * (CHUNK_BYTES // 128 + 3)  # a little over two chunks
    path.write_bytes(content)
    form = _form(path)
    chunks = list(form.chunks(len(content)))
    body = b"".join(chunks)
    assert len(body) == form.length(len(content))
    assert max(len(chunk) for chunk in chunks[1:-1]) <= CHUNK_BYTES, "the file is read a chunk at a time"
    environ = EnvironBuilder(
        method="POST",
        input_stream=io.BytesIO(body),
        content_length=len(body),
        content_type="multipart/form-data; boundary=b0undary",
    ).get_environ()
    _, fields, files = parse_form_data(environ)
    assert dict(fields) == FIELDS
    assert files["file"].read() == content and files["file"].content_type == "video/mp4"


def test_a_file_that_changes_size_is_not_sent_as_declared(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 10)
    with pytest.raises(UploadError, match="changed size"):
        list(_form(path).chunks(9))
    with pytest.raises(UploadError, match="changed size"):
        list(_form(path).chunks(11))


def test_media_types_come_from_the_extension() -> None:
    assert guess_content_type("a/clip.MP4") == "video/mp4"
    assert guess_content_type("clip.mov") == "video/quicktime"
    assert guess_content_type("clip.mkv") == "video/x-matroska"
    assert guess_content_type("clip.ts") == "video/mp2t"
    assert guess_content_type("notes") is None
