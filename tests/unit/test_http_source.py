"""The bench's byte-range file server answers ranges as S3 does and counts each GET (bench/http_source.py)."""

import urllib.request
from pathlib import Path

from bench.aws_measure import bytes_read
from bench.http_source import served


def _get(url: str, byte_range: str = "") -> tuple[int, str, bytes]:
    headers = {"Range": byte_range} if byte_range else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:  # noqa: S310
        return answer.status, answer.headers.get("Content-Range", ""), answer.read()


def test_ranges_are_served_exactly_and_every_get_is_counted(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    content = bytes(range(256)) * 40
    source.write_bytes(content)
    with served(str(source)) as (url, counts):
        assert _get(url) == (200, "", content)
        assert _get(url, "bytes=100-199") == (206, "bytes 100-199/10240", content[100:200])
        assert _get(url, "bytes=10000-") == (206, "bytes 10000-10239/10240", content[10000:])
        first = counts.take()
        assert (first.gets, first.bytes_sent) == (3, 10240 + 100 + 240)
        assert counts.take().gets == 0


def test_bytes_read_sums_ffmpegs_input_statistics() -> None:
    log = (
        "[AVIOContext @ 0x1] Statistics: 190153 bytes written, 2 seeks, 4 writeouts\n"
        "[AVIOContext @ 0x2] Statistics: 1638828 bytes read, 1 seeks\n"
    )
    assert bytes_read(log) == 1638828
    assert bytes_read("[AVIOContext @ 0x1] Statistics: 42 bytes written, 0 seeks, 1 writeouts\n") == 0
