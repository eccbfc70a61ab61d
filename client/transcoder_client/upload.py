"""Sending a file from disk through create_upload's presigned S3 POST form, streamed (never read whole).

The form is multipart/form-data: the fields create_upload answered, exactly as given, then the file. Its
length is known before the first byte is sent (the parts around the file plus the file's size), so the
request carries a Content-Length (S3 refuses a chunked POST) while the file is read 1 MiB at a time.
"""

import http.client
import mimetypes
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from transcoder_client.client import open_url
from transcoder_client.errors import ClientError

CHUNK_BYTES = 1 << 20
_EXTRA_TYPES = {".mkv": "video/x-matroska", ".ts": "video/mp2t", ".m2ts": "video/mp2t", ".flv": "video/x-flv"}
"""Media types Python's table lacks or gives otherwise (.ts is Qt Linguist's there)."""


class UploadError(ClientError):
    """S3 refused the form or the file (too large, wrong type, expired form), or the transfer failed."""


def guess_content_type(path: str) -> str | None:
    extension = os.path.splitext(path)[1].lower()
    return _EXTRA_TYPES.get(extension) or mimetypes.guess_type(path, strict=False)[0]


@dataclass(frozen=True)
class MultipartForm:
    """A multipart/form-data body: the fields, then the file; iterated, it reads the file as it goes."""

    fields: Mapping[str, str]
    path: str
    filename: str
    content_type: str
    boundary: str

    def _head(self) -> bytes:
        parts = [
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n{value}\r\n'
            for name, value in self.fields.items()
        ]
        parts.append(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; filename="{_quoted(self.filename)}"\r\n'
            f"Content-Type: {self.content_type}\r\n\r\n"
        )
        return "".join(parts).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    def length(self, file_size: int) -> int:
        return len(self._head()) + file_size + len(self._tail())

    def chunks(self, file_size: int) -> Iterator[bytes]:
        yield self._head()
        sent = 0
        with open(self.path, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                sent += len(chunk)
                if sent > file_size:
                    break
                yield chunk
        # The Content-Length was announced: a file that changed size meanwhile cannot be sent as declared.
        if sent != file_size:
            raise UploadError(f"{self.path} changed size while it was being uploaded ({file_size} bytes declared)")
        yield self._tail()


def _quoted(text: str) -> str:
    """A form-data parameter value: quotes and line breaks escaped as browsers do (WHATWG)."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def post_file(form: Mapping[str, Any], path: str, *, file_size: int, timeout: float) -> None:
    """POST `path` with create_upload's `form` (`url`, `fields`, `content_type`); UploadError if refused."""
    body = MultipartForm(
        fields={str(name): str(value) for name, value in dict(form["fields"]).items()},
        path=path,
        filename=os.path.basename(path),
        content_type=str(form["content_type"]),
        boundary="transcoder-" + secrets.token_hex(16),
    )
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by open_url
        str(form["url"]),
        data=body.chunks(file_size),
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={body.boundary}",
            "Content-Length": str(body.length(file_size)),
            "User-Agent": "transcoder-client/0.1",
        },
    )
    try:
        with open_url(request, timeout) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        try:
            raise UploadError(f"the upload was refused: HTTP {error.code} {_s3_error(error.read())}") from None
        finally:
            error.close()
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
        raise UploadError(f"uploading {path}: {getattr(error, 'reason', error)}") from error


def _s3_error(body: bytes) -> str:
    """`Code: Message` of S3's XML error, else the start of the body."""
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - S3's short error document, from the endpoint we chose
    except ElementTree.ParseError:
        return body[:200].decode(errors="replace")
    return f"{root.findtext('Code', '')}: {root.findtext('Message', '')}"
