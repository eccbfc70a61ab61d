"""Rewriting an HLS playlist: media URIs signed, playlists and foreign URIs left as they are."""

import pytest

from transcoder.models import TaskModel
from transcoder.playlists import check_name, rewrite
from transcoder.tasks import InvalidParameter


def _sign(uri: str) -> str:
    return f"https://signed.example/{uri}?sig=1"


def test_segments_keys_and_init_sections_are_signed() -> None:
    text = (
        '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x1\n#EXT-X-MAP:URI="init.mp4"\n'
        "#EXTINF:2.0,\nclip_00000.ts\n\n#EXT-X-ENDLIST"
    )
    assert rewrite(text, _sign) == (
        '#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="https://signed.example/key.bin?sig=1",IV=0x1\n'
        '#EXT-X-MAP:URI="https://signed.example/init.mp4?sig=1"\n'
        "#EXTINF:2.0,\nhttps://signed.example/clip_00000.ts?sig=1\n\n#EXT-X-ENDLIST\n"
    )


def test_playlists_stay_relative_and_other_uris_are_left_alone() -> None:
    text = (
        '#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",URI="clip_audio.m3u8"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n'
        "clip_720p.m3u8\nhttps://cdn.example/x.ts\n../other/x.ts\nsub/x.ts\nx.ts?token=1\n"
    )
    assert rewrite(text, _sign) == text


def _task(objkey: str) -> TaskModel:
    return TaskModel("01m87kg1p53hsf8sqhnfdpq86h", account_id="a", objkey=objkey, status="success")


@pytest.mark.parametrize("name", ["show.m3u8", "show_720p.m3u8", "show_audio.M3U8"])
def test_the_tasks_own_playlists_are_names(name: str) -> None:
    assert check_name(_task("shows/show.m3u8"), name) == name


@pytest.mark.parametrize(
    "name", ["../other/show.m3u8", "..", ".", "", "shows/show.m3u8", "/show.m3u8", "a\\show.m3u8", "other.m3u8",
             "showcase.m3u8", "show_00000.ts"],
)  # fmt: skip
def test_other_names_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        check_name(_task("shows/show.m3u8"), name)
    assert refused.value.field == "name"
