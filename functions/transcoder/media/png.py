"""Decode a PNG in pure Python into RGBA: the static ffmpeg this service ships has no PNG decoder.

Enough for logos: greyscale, RGB, palette, with or without alpha (tRNS too), bit depths 1 to 16
(16 is reduced to 8), not interlaced, one image. Every chunk's CRC is checked and the image data is
inflated no further than the size the header declares, so a small file cannot expand without bound.
"""

import struct
import zlib
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


class PngError(ValueError):
    """The file is not a PNG this decoder accepts; the message says why."""


@dataclass(frozen=True)
class RgbaImage:
    width: int
    height: int
    rgba: bytes


@dataclass(frozen=True)
class _Header:
    width: int
    height: int
    depth: int
    color_type: int


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, offset = [], len(SIGNATURE)
    while True:
        if offset + 12 > len(data):
            raise PngError("PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 8 + length
        if end + 4 > len(data):
            raise PngError("PNG is truncated")
        body = data[offset + 8 : end]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end : end + 4])[0]:
            raise PngError(f"PNG chunk {kind.decode(errors='replace')!r} is corrupt (CRC mismatch)")
        chunks.append((kind, body))
        offset = end + 4
        if kind == b"IEND":
            break
    if data[offset:].strip(b"\0"):
        raise PngError("file holds more than one image")
    return chunks


def _header(body: bytes, max_pixels: int) -> _Header:
    if len(body) != 13:
        raise PngError("PNG header is malformed")
    width, height, depth, color_type, compression, filter_method, interlace = struct.unpack(">IIBBBBB", body)
    if color_type not in _CHANNELS or depth not in _DEPTHS[color_type] or compression or filter_method:
        raise PngError(f"PNG colour type {color_type} with bit depth {depth} is not supported")
    if interlace:
        raise PngError("interlaced PNGs are not supported")
    if width == 0 or height == 0 or width * height > max_pixels:
        raise PngError(f"PNG is {width}x{height}; at most {max_pixels} pixels are accepted")
    return _Header(width, height, depth, color_type)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, header: _Header) -> list[bytes]:
    bits_per_pixel = _CHANNELS[header.color_type] * header.depth
    stride, step = (header.width * bits_per_pixel + 7) // 8, max(1, bits_per_pixel // 8)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(header.height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(step, stride):
                row[i] = (row[i] + row[i - step]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - step] if i >= step else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left, up_left = (row[i - step], previous[i - step]) if i >= step else (0, 0)
                row[i] = (row[i] + _paeth(left, previous[i], up_left)) & 0xFF
        elif kind != 0:
            raise PngError(f"PNG row {y} has an unknown filter type {kind}")
        rows.append(bytes(row))
        previous = row
    return rows


def _samples(row: bytes, depth: int, count: int) -> list[int]:
    if depth == 8:
        return list(row[:count])
    if depth == 16:
        return [row[i] << 8 | row[i + 1] for i in range(0, 2 * count, 2)]
    per_byte, mask = 8 // depth, (1 << depth) - 1
    return [(row[i // per_byte] >> (8 - depth * (i % per_byte + 1))) & mask for i in range(count)]


def _to_rgba(rows: list[bytes], header: _Header, palette: bytes, transparency: bytes) -> bytes:
    channels, depth = _CHANNELS[header.color_type], header.depth
    # The common logo formats by slicing, not pixel by pixel.
    if depth == 8 and header.color_type == 6:
        return b"".join(rows)
    if depth == 8 and header.color_type == 2 and not transparency:
        rgb = b"".join(rows)
        rgba = bytearray(b"\xff" * (len(rgb) // 3 * 4))
        for channel in range(3):
            rgba[channel::4] = rgb[channel::3]
        return bytes(rgba)
    out = bytearray()
    for row in rows:
        values = _samples(row, depth, header.width * channels)
        if header.color_type == 3:
            for index in values:
                if 3 * index + 3 > len(palette):
                    raise PngError("PNG pixel refers to a colour outside its palette")
                alpha = transparency[index] if index < len(transparency) else 255
                out += palette[3 * index : 3 * index + 3] + bytes((alpha,))
            continue
        # A tRNS chunk on greyscale or RGB names the one sample value that is fully transparent.
        key = tuple(struct.unpack(f">{channels}H", transparency)) if len(transparency) == 2 * channels else None
        maximum = (1 << depth) - 1
        scaled = [value * 255 // maximum for value in values]
        for x in range(header.width):
            pixel = scaled[x * channels : (x + 1) * channels]
            if header.color_type in (0, 4):
                pixel = [pixel[0], pixel[0], pixel[0], *pixel[1:]]
            if len(pixel) == 3:
                opaque = key is None or tuple(values[x * channels : (x + 1) * channels]) != key
                pixel.append(255 if opaque else 0)
            out += bytes(pixel)
    return bytes(out)


def decode_png(data: bytes, *, max_pixels: int) -> RgbaImage:
    if not data.startswith(SIGNATURE):
        raise PngError("not a PNG file")
    chunks = _chunks(data)
    if chunks[0][0] != b"IHDR":
        raise PngError("PNG does not start with its header")
    header = _header(chunks[0][1], max_pixels)
    kinds = {kind for kind, _ in chunks}
    if b"acTL" in kinds:
        raise PngError("animated PNGs are not accepted: a logo is one still image")
    palette = b"".join(body for kind, body in chunks if kind == b"PLTE")
    transparency = b"".join(body for kind, body in chunks if kind == b"tRNS")
    if header.color_type == 3 and not palette:
        raise PngError("palette PNG has no palette")
    bits_per_row = header.width * _CHANNELS[header.color_type] * header.depth
    expected = header.height * ((bits_per_row + 7) // 8 + 1)
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"), expected)
    except zlib.error as exc:
        raise PngError("PNG image data is corrupt") from exc
    if len(raw) != expected or inflater.unconsumed_tail:
        raise PngError("PNG image data does not match its declared size")
    rgba = _to_rgba(_unfilter(raw, header), header, palette, transparency)
    return RgbaImage(header.width, header.height, rgba)
