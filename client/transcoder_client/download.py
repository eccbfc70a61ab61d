"""Downloading a task's output through the presigned `output_url` of query_task.

An MP4 or FLV output is one object. An HLS output is a playlist (`objkey`, `.m3u8`) with its segments stored
beside it (`clip_00000.ts`, ...); query_task presigns the playlist only, and a presigned URL is valid for its
own key alone, so the segments cannot be fetched through the API: the playlist is downloaded and the
segments it names are reported (IncompleteDownload) with the storage location they are at.
"""

import http.client
import os
import posixpath
import secrets
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, BinaryIO

from transcoder_client.client import USER_AGENT, open_url
from transcoder_client.errors import DownloadError, IncompleteDownload

CHUNK_BYTES = 1 << 20
PLAIN_FILE_MODE = 0o666
"""Before the umask, as for any file a program writes (`open(path, "w")`)."""
PLAYLIST_EXTENSION = ".m3u8"


def download_output(task: dict[str, Any], path: str, *, timeout: float = 60.0) -> list[str]:
    """Write the output of `task` (query_task data) to `path`; the paths written."""
    if task.get("status") != "success":
        raise DownloadError(f"task {task.get('task_id')} is {task.get('status')}, not success: nothing to download")
    url = str(task.get("output_url") or "")
    if not url:
        raise DownloadError(f"task {task.get('task_id')} has no output_url")
    name = posixpath.basename(str(task.get("objkey") or "")) or posixpath.basename(urllib.parse.urlsplit(url).path)
    target = os.path.join(path, name) if _is_directory(path) else path
    if name.lower().endswith(PLAYLIST_EXTENSION):
        return _download_playlist(task, url, target, timeout)
    fetch(url, target, timeout=timeout)
    return [target]


def fetch(url: str, target: str, *, timeout: float = 60.0) -> None:
    """Stream `url` to `target`, all or nothing: a partial file never takes the target's name."""
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})  # noqa: S310
    try:
        _stream(request, target, folder, timeout)
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
        raise DownloadError(
            f"downloading {urllib.parse.urlsplit(url).path}: {getattr(error, 'reason', error)}"
        ) from error


def _stream(request: urllib.request.Request, target: str, folder: str, timeout: float) -> None:
    with open_url(request, timeout) as answer:
        expected = answer.headers.get("Content-Length")
        partial, handle = _new_partial_file(folder)
        try:
            with handle:
                written = 0
                while chunk := answer.read(CHUNK_BYTES):
                    handle.write(chunk)
                    written += len(chunk)
            if expected is not None and written != int(expected):
                raise DownloadError(f"short read: {written} of {expected} bytes")
            os.replace(partial, target)
        except BaseException:
            os.unlink(partial)
            raise


def _new_partial_file(folder: str) -> tuple[str, BinaryIO]:
    """A new file beside the target, created with the mode any new file gets (0644 under the usual umask 022).

    tempfile would create it 0600, and the download would keep that mode after the rename: a video nobody
    else on the machine (a web server, a player run as another user) could read.
    """
    while True:
        path = os.path.join(folder, f".download-{secrets.token_hex(8)}")
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PLAIN_FILE_MODE)
        except FileExistsError:
            continue
        return path, os.fdopen(descriptor, "wb")


def playlist_entries(text: str) -> list[str]:
    """The URIs a media playlist names: every line that is neither empty nor a tag or comment."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _download_playlist(task: dict[str, Any], url: str, target: str, timeout: float) -> list[str]:
    fetch(url, target, timeout=timeout)
    with open(target, encoding="utf-8") as handle:
        entries = playlist_entries(handle.read())
    written, missing = [target], entries
    if missing:
        folder = posixpath.dirname(str(task.get("objkey") or ""))
        location = f"{task.get('region_type') or 's3'}://{task.get('bucket')}/{folder + '/' if folder else ''}"
        raise IncompleteDownload(written, missing, location)
    return written


def _is_directory(path: str) -> bool:
    return os.path.isdir(path) or path.endswith(("/", os.sep))
