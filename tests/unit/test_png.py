"""The pure-Python PNG decoder logos go through: every filter, colour type, and refusal."""

import random
import struct
import zlib

import pytest

from tests.pngs import png, solid_png
from transcoder.media.png import PngError, decode_png

_LIMIT = 1 << 20


def _random_rows(width: int, height: int, channels: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)  # noqa: S311  # test pixels, not secrets
    return [bytes(rng.randrange(256) for _ in range(width * channels)) for _ in range(height)]


@pytest.mark.parametrize("filters", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4)])
def test_every_filter_decodes_rgba_exactly(filters: tuple[int, ...]) -> None:
    rows = _random_rows(7, 6, 4)
    image = decode_png(png(7, 6, rows, filters=filters), max_pixels=_LIMIT)
    assert (image.width, image.height, image.rgba) == (7, 6, b"".join(rows))


def test_rgb_and_its_transparent_colour() -> None:
    rows = [bytes([255, 0, 0, 0, 255, 0])]
    transparent_green = (b"tRNS", struct.pack(">3H", 0, 255, 0))
    image = decode_png(png(2, 1, rows, color_type=2, filters=(4,), extra=[transparent_green]), max_pixels=_LIMIT)
    assert image.rgba == bytes([255, 0, 0, 255, 0, 255, 0, 0])


def test_grey_grey_alpha_and_sixteen_bits() -> None:
    assert decode_png(png(2, 1, [bytes([0, 200])], color_type=0), max_pixels=_LIMIT).rgba == bytes(
        [0, 0, 0, 255, 200, 200, 200, 255]
    )
    assert decode_png(png(1, 1, [bytes([90, 128])], color_type=4), max_pixels=_LIMIT).rgba == bytes([90, 90, 90, 128])
    sixteen = png(1, 1, [bytes([0x12, 0x34, 0xAB, 0xCD, 0xFF, 0xFF])], color_type=2, depth=16, filters=(1,))
    assert decode_png(sixteen, max_pixels=_LIMIT).rgba == bytes([0x12, 0xAB, 0xFF, 0xFF])


def test_palette_with_low_bit_depth_and_alpha() -> None:
    palette = (b"PLTE", bytes([255, 0, 0, 0, 0, 255]))
    alpha = (b"tRNS", bytes([0]))
    # Two bits per pixel, indices 0 1 1 0 in one byte: 0b00_01_01_00.
    image = decode_png(png(4, 1, [bytes([0b00010100])], color_type=3, depth=2, extra=[palette, alpha]), max_pixels=16)
    assert image.rgba == bytes([255, 0, 0, 0, 0, 0, 255, 255, 0, 0, 255, 255, 255, 0, 0, 0])


def test_one_bit_grey_scales_to_full_range() -> None:
    image = decode_png(png(3, 1, [bytes([0b10100000])], color_type=0, depth=1), max_pixels=16)
    assert image.rgba == bytes([255, 255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255])


def test_solid_png_helper_matches() -> None:
    image = decode_png(solid_png(64, 32, (255, 0, 0)), max_pixels=_LIMIT)
    assert image.rgba == bytes([255, 0, 0, 255]) * 64 * 32


def _ihdr(width: int, height: int, depth: int, color_type: int, interlace: int = 0) -> bytes:
    return struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)


def _replace_header(data: bytes, header: bytes) -> bytes:
    chunk = struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return data[:8] + chunk + data[8 + 25 :]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"GIF89a....", "not a PNG"),
        (solid_png(4, 4, (1, 2, 3))[:-20], "truncated"),
        (solid_png(4, 4, (1, 2, 3))[:-1] + b"\0", "CRC"),
        (solid_png(4, 4, (1, 2, 3)) + solid_png(4, 4, (1, 2, 3)), "more than one image"),
        (png(1, 1, [bytes(4)], extra=[(b"acTL", bytes(8))]), "animated"),
        (_replace_header(solid_png(4, 4, (1, 2, 3)), _ihdr(4, 4, 8, 2, interlace=1)), "interlaced"),
        (_replace_header(solid_png(4, 4, (1, 2, 3)), _ihdr(4, 4, 4, 2)), "not supported"),
        (_replace_header(solid_png(4, 4, (1, 2, 3)), _ihdr(5000, 5000, 8, 2)), "at most"),
        (_replace_header(solid_png(4, 4, (1, 2, 3)), _ihdr(4, 5, 8, 2)), "declared size"),
        (png(1, 1, [bytes(1)], color_type=3), "no palette"),
        (png(2, 1, [bytes([0, 5])], color_type=3, extra=[(b"PLTE", bytes(3))]), "outside its palette"),
    ],
)
def test_refusals_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(PngError, match=reason):
        decode_png(data, max_pixels=_LIMIT)


def test_a_decompression_bomb_stops_at_the_declared_size() -> None:
    # 16 x 16 RGBA declares 1 040 bytes of rows; the data inflates to 50 MB.
    bomb = zlib.compress(bytes(50 * 1024 * 1024))
    data = png(16, 16, [bytes(64)] * 16)
    start = data.index(b"IDAT") - 4
    idat = struct.pack(">I", len(bomb)) + b"IDAT" + bomb + struct.pack(">I", zlib.crc32(b"IDAT" + bomb))
    data = data[:start] + idat + data[data.index(b"IEND") - 4 :]
    with pytest.raises(PngError, match="declared size"):
        decode_png(data, max_pixels=_LIMIT)
