"""Write PNGs for tests: the shipped ffmpeg has no PNG encoder, so the files are built by hand here.

Each row can use any of the five PNG filters, so the decoder is tested on all of them.
"""

import struct
import zlib


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filter(kind: int, row: bytes, previous: bytes, step: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        left = row[i - step] if i >= step else 0
        up = previous[i]
        up_left = previous[i - step] if i >= step else 0
        predictor = [0, left, up, (left + up) >> 1, _paeth(left, up, up_left)][kind]
        out.append((value - predictor) & 0xFF)
    return bytes([kind]) + bytes(out)


def png(
    width: int,
    height: int,
    rows: list[bytes],
    *,
    color_type: int = 6,
    depth: int = 8,
    filters: tuple[int, ...] = (0,),
    extra: list[tuple[bytes, bytes]] | None = None,
) -> bytes:
    """A PNG of already-packed `rows`; row y uses filter `filters[y % len(filters)]`."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color_type]
    step = max(1, channels * depth // 8)
    previous = bytes(len(rows[0]))
    raw = b""
    for y, row in enumerate(rows):
        raw += _filter(filters[y % len(filters)], row, previous, step)
        previous = row
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    chunks = [(b"IHDR", header), *(extra or []), (b"IDAT", zlib.compress(raw)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(kind, body) for kind, body in chunks)


def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """An opaque RGB PNG of one colour."""
    return png(width, height, [bytes(rgb) * width] * height, color_type=2)
