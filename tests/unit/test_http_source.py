"""The bench's byte-range file server answers ranges as S3 does and counts each GET (bench/http_source.py)."""

import subprocess
import urllib.request
from pathlib import Path

from bench.aws_measure import bytes_read
from bench.http_source import served
from localmode.stack import static_ffmpeg
from tests.frames import ffmpeg


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


def test_a_client_that_asks_to_close_is_told_the_connection_closes(tmp_path: Path) -> None:
    """ffmpeg sends `Connection: close`; a server that closes without saying so has ffmpeg 8 reuse the dead
    connection at its next seek and lose the packet there."""
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(1000))
    with served(str(source)) as (url, _):
        request = urllib.request.Request(url, headers={"Range": "bytes=10-19", "Connection": "close"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our own server on loopback
            assert answer.headers.get("Connection", "").lower() == "close"


def test_ffprobe_lists_every_packet_of_a_file_with_its_moov_at_the_end(tmp_path: Path) -> None:
    source = str(tmp_path / "clip.mp4")
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30:duration=3", "-f", "lavfi", "-i", "sine=duration=3"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", source),
    )
    _, ffprobe = static_ffmpeg()
    command = [ffprobe, "-v", "error", "-show_entries", "packet=stream_index,pts", "-of", "csv=p=0"]
    local = subprocess.run([*command, source], capture_output=True, text=True, check=True).stdout
    with served(source) as (url, _):
        remote = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    assert remote.stdout == local, remote.stderr
