"""An HLS output's playlists, playable from a private bucket: output_playlist (ext).

query_task presigns only the master playlist; the files it names are plain keys of the storage. Here one
playlist of the task is read and each media URI in it (segment, key, init section) becomes a presigned
URL, signed the way output_url is; playlist URIs stay relative, so the player asks for them here too.
"""

import posixpath
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from transcoder import storage, storages
from transcoder.endpoints import RefusedEndpoint
from transcoder.locations import S3Location
from transcoder.models import TaskModel
from transcoder.settings import settings
from transcoder.status import Status
from transcoder.storage_secrets import SecretUnavailable
from transcoder.tasks import InvalidParameter

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PLAYLIST_EXTENSION = ".m3u8"
# Our playlists are a line per segment: hours of 1-second segments stay far below this.
MAX_PLAYLIST_BYTES = 1024 * 1024
# A tag's URI attribute (EXT-X-KEY, EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF).
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


class NotPlayable(Exception):
    """The task has no HLS output to give (yet, or any more); the message says why."""


class PlaylistMissing(Exception):
    """The named playlist is not among the task's stored files."""


def check_name(task: TaskModel, name: str) -> str:
    """`name` when it is one of this task's files beside its master playlist, else InvalidParameter.

    The files of one output are `<stem>.m3u8`, `<stem>_<variant>.m3u8` and segments beside them, in the
    output's folder (transcoder.media.encode_plan): a plain file name of that stem is all a name may be, so
    it cannot reach another folder, another task's output in the same folder, or a segment.
    """
    master = posixpath.basename(task.objkey)
    stem = master[: -len(PLAYLIST_EXTENSION)]
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise InvalidParameter("name", f"{name!r} must be a file name of the task's output folder, without '/'")
    if not name.lower().endswith(PLAYLIST_EXTENSION):
        raise InvalidParameter("name", f"{name!r} is not a playlist ({PLAYLIST_EXTENSION})")
    if name != master and not name.startswith(f"{stem}_"):
        raise InvalidParameter("name", f"{name!r} is not a playlist of this task's output {master!r}")
    return name


def output_playlist(task: TaskModel, name: str) -> str:
    """The task's playlist `name` (relative to its master playlist) with its media URIs presigned."""
    if task.status != Status.SUCCESS.value:
        raise NotPlayable(f"task {task.task_id} is {task.status}: only a successful task's output plays")
    if not task.objkey.lower().endswith(PLAYLIST_EXTENSION):
        raise NotPlayable(f"task {task.task_id}'s output is not HLS: play its output_url")
    check_name(task, name)
    kept_in = storages.find(task.account_id, task.storage_id)
    if kept_in is None:
        raise NotPlayable(f"storage {task.storage_id!r} of task {task.task_id} does not exist any more")
    master = kept_in.location_of(task.objkey)
    folder = posixpath.dirname(master.key)
    # The master is pinned to the version this task wrote, as its output_url is; the rest are not versioned apart.
    version = (task.output_version_id or None) if name == posixpath.basename(task.objkey) else None
    try:
        client = storages.s3_client_of(kept_in)
        text = _read(client, S3Location(master.bucket, posixpath.join(folder, name)), version)
        expiry = settings().presign_expiry_seconds

        def signed(uri: str) -> str:
            return storage.presign(S3Location(master.bucket, posixpath.join(folder, uri)), expiry, client=client)

        return rewrite(text, signed)
    except (RefusedEndpoint, SecretUnavailable, storages.StorageRefused) as exc:
        raise NotPlayable(f"storage {task.storage_id!r} cannot be read: {exc}") from exc


def rewrite(text: str, sign: Callable[[str], str]) -> str:
    """`text` with each media URI replaced by `sign(uri)`; playlist URIs and anything not a plain file name
    of the same folder (absolute URLs, paths) are left as they are."""

    def media(uri: str) -> str:
        path = uri.split("?", 1)[0]
        if path.lower().endswith(PLAYLIST_EXTENSION) or not _plain_name(path) or path != uri:
            return uri
        return sign(uri)

    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            lines.append(_URI_ATTRIBUTE.sub(lambda found: f'URI="{media(found.group(1))}"', line))
        else:
            lines.append(media(stripped) if stripped else line)
    return "\n".join(lines) + "\n"


def _plain_name(path: str) -> bool:
    return bool(path) and path not in (".", "..") and not any(c in path for c in "/\\:")


def _read(client: "S3Client", location: S3Location, version_id: str | None) -> str:
    params = {"Bucket": location.bucket, "Key": location.key, "Range": f"bytes=0-{MAX_PLAYLIST_BYTES}"}
    if version_id:
        params["VersionId"] = version_id
    try:
        body = client.get_object(**params)["Body"].read()  # type: ignore[arg-type]
    except ClientError as exc:
        code = storage.error_code(exc)
        if code in ("NoSuchKey", "NoSuchVersion", "404"):
            raise PlaylistMissing(f"playlist {posixpath.basename(location.key)!r} does not exist") from exc
        if code in ("AccessDenied", "403"):
            raise NotPlayable(f"the storage refuses to read {posixpath.basename(location.key)!r}: {code}") from exc
        raise
    if len(body) > MAX_PLAYLIST_BYTES:
        raise NotPlayable(f"playlist {posixpath.basename(location.key)!r} is over {MAX_PLAYLIST_BYTES} bytes")
    return body.decode("utf-8", errors="replace")
