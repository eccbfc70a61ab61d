"""output_playlist (ext): an HLS output's playlists with their segments presigned, only the caller's own.

Through the API function against moto: the task is created by create_task, then its output written where
Upload writes it (the account's part of the output bucket) and the task marked a success.
"""

from urllib.parse import quote

import pytest
import requests

from tests.integration.conftest import Aws
from tests.integration.test_api_handler import VALID, _call
from transcoder import storages
from transcoder.auth import keys
from transcoder.models import DEFAULT_ACCOUNT, TaskModel

OTHER = "acct-other"
OTHER_KEY = ("OTHERKEY00000001", "othersecret00000000000000000000A")
MASTER = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nclip_360p.m3u8\n"
VARIANT = (
    '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="clip_360p_init.mp4"\n'
    "#EXTINF:2.0,\nclip_360p_00000.ts\n#EXTINF:1.0,\nclip_360p_00001.ts\n#EXT-X-ENDLIST\n"
)
SEGMENT = b"\x47" * 188


def _hls_task(aws: Aws, account: str, output: str) -> TaskModel:
    """A successful HLS ladder task of `account` whose master, variant and segments are stored.

    Created by the deployment's account (the only one that may read the input bucket), then handed over."""
    request = {"input": "s3://test-input/a.mp4", "output": output, "template_name": "HLS_264_ladder"}
    answer = _call("POST", "/api/create_task", request)[1]
    task = TaskModel.get(answer["data"]["task_id"])
    task.update(actions=[TaskModel.status.set("success"), TaskModel.account_id.set(account)])
    folder = storages.default_storage(account).location_of(task.objkey).key.rsplit("/", 1)[0]
    stem = output.rsplit("/", 1)[-1]
    for name, body in (
        (f"{stem}.m3u8", MASTER.replace("clip_", f"{stem}_")),
        (f"{stem}_360p.m3u8", VARIANT.replace("clip_", f"{stem}_")),
        (f"{stem}_360p_init.mp4", SEGMENT),
        (f"{stem}_360p_00000.ts", SEGMENT),
        (f"{stem}_360p_00001.ts", SEGMENT),
    ):
        aws.s3.put_object(Bucket=aws.output_bucket, Key=f"{folder}/{name}", Body=body)
    return task


def _playlist(task_id: str, name: str, key: tuple[str, str] | None = None) -> tuple[int, dict[str, object]]:
    target = f"/api/output_playlist?task_id={task_id}&name={quote(name, safe='')}"
    return _call("GET", target, **({"key": key} if key else {}))


@pytest.fixture
def other(aws: Aws) -> tuple[str, str]:
    keys.create(OTHER, access_key_id=OTHER_KEY[0], secret_access_key=OTHER_KEY[1])
    return OTHER_KEY


def test_the_master_keeps_its_variants_relative_and_the_variant_is_presigned(aws: Aws) -> None:
    task = _hls_task(aws, DEFAULT_ACCOUNT, "shows/clip")
    status, answer = _playlist(task.task_id, "clip.m3u8")
    assert (status, answer["code"]) == (200, 0), answer
    assert answer["data"] == {"name": "clip.m3u8", "playlist": MASTER}

    status, answer = _playlist(task.task_id, "clip_360p.m3u8")
    assert (status, answer["code"]) == (200, 0), answer
    data = answer["data"]
    assert isinstance(data, dict)
    lines = data["playlist"].splitlines()
    urls = [line for line in lines if line and not line.startswith("#")]
    assert len(urls) == 2 and all("X-Amz-Signature=" in url or "Signature=" in url for url in urls)
    init = lines[2].split('URI="', 1)[1].rstrip('"')
    # Each presigned URL reads its file from the private bucket; the plain key does not.
    for url in (*urls, init):
        got = requests.get(url, timeout=10)
        assert (got.status_code, got.content) == (200, SEGMENT), url
    assert "#EXTINF:2.0," in lines and lines[-1] == "#EXT-X-ENDLIST"


@pytest.mark.parametrize(
    "name",
    [
        "../../acct-other/shows/clip.m3u8",  # another account's output, by climbing out of this one's part
        "../shows/clip.m3u8",
        "/shows/other.m3u8",
        "shows/other.m3u8",
        "other.m3u8",  # another task's output in the same folder
        "clip_360p_00000.ts",  # a segment: presigned in the playlists, not a playlist itself
        "..",
    ],
)
def test_a_name_outside_the_tasks_own_playlists_is_refused(aws: Aws, other: tuple[str, str], name: str) -> None:
    _hls_task(aws, OTHER, "shows/clip")
    _hls_task(aws, DEFAULT_ACCOUNT, "shows/other")
    mine = _hls_task(aws, DEFAULT_ACCOUNT, "shows/clip")
    status, answer = _playlist(mine.task_id, name)
    assert (status, answer["code"]) == (400, 1002), answer
    assert str(answer["msg"]).startswith("bad param: name:"), answer


def test_another_accounts_task_is_not_found(aws: Aws, other: tuple[str, str]) -> None:
    theirs = _hls_task(aws, OTHER, "shows/clip")
    assert _playlist(theirs.task_id, "clip.m3u8", key=other)[1]["code"] == 0
    status, answer = _playlist(theirs.task_id, "clip.m3u8")
    assert (status, answer["code"]) == (404, 1004), answer
    assert answer["msg"] == f"empty result: task {theirs.task_id} does not exist"


def test_a_missing_task_or_playlist_is_not_found(aws: Aws) -> None:
    assert _playlist("01m87kg1p53hsf8sqhnfdpq86h", "clip.m3u8")[1]["code"] == 1004
    task = _hls_task(aws, DEFAULT_ACCOUNT, "shows/clip")
    status, answer = _playlist(task.task_id, "clip_1080p.m3u8")
    assert (status, answer["code"]) == (404, 1004), answer


def test_only_a_successful_hls_task_has_playlists(aws: Aws) -> None:
    task = _hls_task(aws, DEFAULT_ACCOUNT, "shows/clip")
    task.update(actions=[TaskModel.status.set("running")])
    status, answer = _playlist(task.task_id, "clip.m3u8")
    assert (status, answer["code"]) == (409, 1005), answer
    assert "only a successful task's output plays" in str(answer["msg"])

    mp4 = _call("POST", "/api/create_task", {**VALID, "output": "m"})
    mp4_task = TaskModel.get(mp4[1]["data"]["task_id"])
    mp4_task.update(actions=[TaskModel.status.set("success")])
    status, answer = _playlist(mp4_task.task_id, "m.m3u8")
    assert (status, answer["code"]) == (409, 1005), answer
    assert "is not HLS" in str(answer["msg"])
