"""The video frame index of an MP4/MOV source read from its `moov` box, without reading the media data.

ffprobe's packet listing reads every packet of the source (a 60-minute 1080p source: the whole file through
the presigned URL). In ISO BMFF every number the chunk plan needs is in the first video track's sample
tables, a few MB at the start or end of the file: decode times (stts), composition offsets (ctts), sync
samples (stss), the track's timescale (mdhd) and the edit list (elst). This module reads them with byte-range
requests and replays what ffmpeg's mov demuxer does with them (`mov_build_index`, `mov_fix_index`), so the
timestamps are exactly those ffprobe prints.

Correctness comes first: a wrong index means wrong frame counts downstream. Whenever the file has a feature
whose effect on ffmpeg's timestamps is not replayed here (fragments, several non-empty edits, negative
composition offsets, random-access sample groups, other codecs, inconsistent tables, sample data past the
end of the file), reading stops with `Unsupported` and the caller falls back to ffprobe.

One difference is known and left: for H.264, VP9 and AV1 ffprobe flags keyframes from the bitstream (see
KEYFRAMES_FROM_BITSTREAM), so a file whose sample data contradicts its stss (corrupt data or decoder
configuration) gets stss's keyframes here where ffprobe lists other keyframes or none. Random corruptions
of real files' moov boxes found no other difference (every other one matched or fell back).
"""

from __future__ import annotations

import bisect
import itertools
import struct
import sys
import time
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import urllib3

from transcoder.media.sources import ca_bundle

FIRST_READ_BYTES = 64 * 1024
"""One read at the start covers `ftyp` and, in a faststart file, often the whole `moov`."""
MAX_MOOV_BYTES = 64 * 1024 * 1024
"""A 4-hour 60 fps source's sample tables (video and audio) are about 20 MB; a bigger moov is left to ffprobe."""
MAX_SAMPLES = 4_000_000
"""4 hours at 240 fps. The tables are expanded to about 60 bytes per sample; a header that claims more
(a few bytes can claim billions) is left to ffprobe rather than allowed to exhaust the step's memory."""
MAX_TOP_LEVEL_BOXES = 10_000
_REQUEST_SECONDS = 30.0

CODECS = frozenset({b"avc1", b"avc3", b"hvc1", b"hev1", b"av01", b"vp09"})
"""Sample entries whose timestamps ffmpeg takes from the tables unchanged (checked against ffprobe by the
tests); other codecs keep the ffprobe path."""
KEYFRAMES_FROM_BITSTREAM = frozenset({b"avc1", b"avc3", b"av01", b"vp09"})
"""Codecs whose packets ffmpeg runs through a parser that flags keyframes from the bitstream, not from
stss. The two agree when the muxer wrote stss from the encoder's flags (every file tested, the camera clip
included), and the stss keyframes are the ones ffmpeg's seeking, which chunk cuts rely on, lands on. Without
stss the parser alone decides: left to ffprobe."""
_UNIT_RATE = 0x00010000
"""An edit's media rate 1.0 in 16.16 fixed point."""


class Unsupported(Exception):
    """The header cannot say for sure what ffprobe would report: use ffprobe."""


@dataclass(frozen=True)
class Mp4Frames:
    """The first video track's frames as ffmpeg's mov demuxer timestamps them, in `timescale` ticks."""

    timescale: int
    frame_pts: array[int]
    """Every packet's pts, in decode order (frames the edit list discards included, as ffprobe lists them)."""
    keyframe_pts: list[int]
    frame_durations: array[int]
    """Each packet's duration, aligned with `frame_pts`."""
    start_time: int
    """What ffmpeg reports as the video stream's start_time (the empty edits' length with an edit list)."""


class ByteSource(Protocol):
    size: int
    """Known once `head` has been read."""
    bytes_read: int

    def head(self, length: int) -> bytes:
        """The first `length` bytes, or the whole file when it is shorter."""
        ...

    def read(self, offset: int, length: int) -> bytes: ...


class LocalFile:
    def __init__(self, path: str) -> None:
        self._file: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._file.seek(0, 2)
        self.size = self._file.tell()
        self.bytes_read = 0

    def head(self, length: int) -> bytes:
        return self.read(0, min(length, self.size))

    def read(self, offset: int, length: int) -> bytes:
        self._file.seek(offset)
        data = self._file.read(length)
        self.bytes_read += len(data)
        if len(data) != length:
            raise Unsupported("file ended inside a box")
        return data

    def close(self) -> None:
        self._file.close()


class HttpRanges:
    """Byte ranges of one URL (a presigned S3 GET): TLS verified as ffmpeg is told to, no redirects, no retries."""

    def __init__(self, url: str, deadline: float) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unsupported("not an http(s) URL")
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._deadline = deadline
        if parts.scheme == "https":
            self._pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                parts.hostname, parts.port or 443, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle(), retries=False
            )
        else:
            self._pool = urllib3.HTTPConnectionPool(parts.hostname, parts.port or 80, retries=False)
        self.bytes_read = 0
        self.requests = 0
        self.size = 0

    def head(self, length: int) -> bytes:
        return self._get(0, length)

    def read(self, offset: int, length: int) -> bytes:
        data = self._get(offset, length)
        if len(data) != length:
            raise Unsupported("file ended inside a box")
        return data

    def _get(self, offset: int, length: int) -> bytes:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise Unsupported("out of time reading the header")
        seconds = min(left, _REQUEST_SECONDS)
        try:
            response = self._pool.urlopen(
                "GET",
                self._path,
                headers={"Range": f"bytes={offset}-{offset + length - 1}"},
                redirect=False,
                timeout=urllib3.Timeout(connect=seconds, read=seconds),
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise Unsupported(f"range request failed ({type(exc).__name__})") from exc
        try:
            if response.status != 206:
                # A server that ignores ranges would send the whole file: that is ffprobe's job.
                raise Unsupported(f"range request answered HTTP {response.status}")
            served, _, total = response.headers.get("Content-Range", "").removeprefix("bytes ").partition("/")
            if not total.isdigit() or served.partition("-")[0] != str(offset):
                raise Unsupported("range answer is not the range asked for")
            self.size = int(total)
            data = b""
            while len(data) <= length and (block := response.read(length + 1 - len(data))):
                data += block
        except urllib3.exceptions.HTTPError as exc:
            raise Unsupported(f"range transfer broke off ({type(exc).__name__})") from exc
        finally:
            response.release_conn()
        self.requests += 1
        self.bytes_read += len(data)
        if len(data) != min(length, max(0, self.size - offset)):
            raise Unsupported("range answer has the wrong length")
        return data

    def close(self) -> None:
        self._pool.close()


def read_mp4_frames(source: ByteSource) -> Mp4Frames:
    """The first video track's frames; raises Unsupported when ffprobe must decide."""
    moov = find_moov(source)
    try:
        return frames_of(moov, source.size)
    except (struct.error, ValueError, IndexError, OverflowError) as exc:
        raise Unsupported(f"unreadable sample tables ({type(exc).__name__})") from exc


def find_moov(source: ByteSource) -> bytes:
    """The payload of the top-level `moov` box, wherever it is: boxes before it are skipped by their size."""
    head = source.head(FIRST_READ_BYTES)
    offset = 0
    for _ in range(MAX_TOP_LEVEL_BOXES):
        if offset + 8 > source.size:
            break
        if offset + 16 <= len(head):
            header = head[offset : offset + 16]
        else:
            header = source.read(offset, min(16, source.size - offset))
        size, kind = struct.unpack(">I4s", header[:8])
        header_size = 8
        if size == 1:
            if len(header) < 16:
                raise Unsupported("64-bit box size cut off")
            size = struct.unpack(">Q", header[8:16])[0]
            header_size = 16
        elif size == 0:
            size = source.size - offset
        if size < header_size or offset + size > source.size or not _is_box_name(kind):
            raise Unsupported(f"unreadable top-level box at byte {offset}")
        if kind in (b"moof", b"mfra", b"sidx"):
            raise Unsupported("fragmented MP4")
        if kind == b"moov":
            length = size - header_size
            if length > MAX_MOOV_BYTES:
                raise Unsupported("moov is too large")
            start = offset + header_size
            if start + length <= len(head):
                return head[start : start + length]
            return source.read(start, length)
        offset += size
    raise Unsupported("no moov box")


def _is_box_name(kind: bytes) -> bool:
    return all(0x20 <= byte < 0x7F or byte == 0xA9 for byte in kind)


def _children(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header_size = 8
        if size == 1:
            if offset + 16 > end:
                raise Unsupported("64-bit box size cut off")
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header_size = 16
        elif size == 0:
            size = end - offset
        if size < header_size or offset + size > end:
            raise Unsupported(f"box {kind!r} overruns its parent")
        yield kind, offset + header_size, offset + size
        offset += size
    if offset != end:
        raise Unsupported("trailing bytes in a box")


def _single(data: bytes, start: int, end: int, kind: bytes, *, required: bool = True) -> tuple[int, int] | None:
    found = [(s, e) for k, s, e in _children(data, start, end) if k == kind]
    if len(found) > 1:
        raise Unsupported(f"several {kind.decode()} boxes")
    if not found:
        if required:
            raise Unsupported(f"no {kind.decode()} box")
        return None
    return found[0]


def _path(data: bytes, start: int, end: int, *kinds: bytes) -> tuple[int, int] | None:
    for kind in kinds:
        found = _single(data, start, end, kind, required=False)
        if found is None:
            return None
        start, end = found
    return start, end


@dataclass(frozen=True)
class _Track:
    data: bytes
    start: int
    end: int

    def box(self, *kinds: bytes) -> tuple[int, int] | None:
        return _path(self.data, self.start, self.end, *kinds)

    def handler(self) -> bytes:
        found = self.box(b"mdia", b"hdlr")
        if found is None or found[1] - found[0] < 12:
            raise Unsupported("track without a handler")
        return self.data[found[0] + 8 : found[0] + 12]


def frames_of(moov: bytes, file_size: int) -> Mp4Frames:
    if _single(moov, 0, len(moov), b"mvex", required=False) is not None:
        raise Unsupported("fragmented MP4 (mvex)")
    mvhd = _single(moov, 0, len(moov), b"mvhd", required=False)
    if mvhd is None:
        raise Unsupported("no movie header")
    movie_timescale = _timescale(moov, *mvhd)
    tracks = [_Track(moov, s, e) for kind, s, e in _children(moov) if kind == b"trak"]
    videos = [track for track in tracks if track.handler() == b"vide"]
    if len(videos) != 1:
        raise Unsupported(f"{len(videos)} video tracks")
    for track in tracks:
        _check_sample_data(track, file_size)
    return _video_frames(videos[0], movie_timescale)


MAX_SAMPLE_BYTES = 0x3FFFFFFF
"""ffmpeg stops indexing a track at a larger sample."""


def _check_sample_data(track: _Track, file_size: int) -> None:
    """Every sample of every track lies inside the file.

    ffprobe stops at the first packet it cannot read (a truncated upload, a wrong chunk offset), in
    whichever track it is, and lists no video packet after it; the header would list them all.
    """
    stsz = track.box(b"mdia", b"minf", b"stbl", b"stsz")
    stsc = _table(track, b"stsc", 3)
    offsets = _chunk_offsets(track)
    if stsz is None or stsc is None or offsets is None:
        if track.box(b"mdia", b"minf", b"stbl", b"stz2") is not None:
            raise Unsupported("compact sample sizes (stz2)")
        return  # no table to read samples from: ffmpeg reads none
    stts = _table(track, b"stts", 2)
    if track.handler() == b"soun" and stts is not None and len(stts[1]) == 1 and stts[1][0] == 1:
        raise Unsupported("uncompressed audio, read in ffmpeg's chunk mode")
    _full_box(track.data, stsz[0], stsz[1], 8)
    constant, count = struct.unpack_from(">II", track.data, stsz[0] + 4)
    if count > MAX_SAMPLES:
        raise Unsupported(f"{count} samples in a track")
    if constant:
        sizes = array("q", [constant]) * count
    else:
        if stsz[0] + 12 + 4 * count > stsz[1]:
            raise Unsupported("stsz is cut off")
        table = array("I", track.data[stsz[0] + 12 : stsz[0] + 12 + 4 * count])
        if sys.byteorder == "little":
            table.byteswap()
        sizes = array("q", table)
    if count and max(sizes) > MAX_SAMPLE_BYTES:
        raise Unsupported("a sample larger than ffmpeg indexes")
    ends = array("q", itertools.accumulate(sizes, initial=0))
    firsts, per_chunk, _ = stsc
    sample = 0
    for entry, first in enumerate(firsts):
        last = firsts[entry + 1] - 1 if entry + 1 < len(firsts) else len(offsets)
        for chunk in range(first - 1, min(last, len(offsets))):
            if sample >= count:
                return
            taken = min(per_chunk[entry], count - sample)
            if offsets[chunk] + ends[sample + taken] - ends[sample] > file_size:
                raise Unsupported("sample data beyond the end of the file")
            sample += taken


def _chunk_offsets(track: _Track) -> array[int] | None:
    stco = _table(track, b"stco", 1)
    if stco is not None:
        return array("q", stco[0])
    found = track.box(b"mdia", b"minf", b"stbl", b"co64")
    if found is None:
        return None
    start, end = found
    _full_box(track.data, start, end, 4)
    (count,) = struct.unpack_from(">I", track.data, start + 4)
    if start + 8 + 8 * count > end:
        raise Unsupported("co64 is cut off")
    return array("q", (struct.unpack_from(">Q", track.data, start + 8 + 8 * i)[0] for i in range(count)))


def _full_box(data: bytes, start: int, end: int, minimum: int) -> int:
    if end - start < 4 + minimum:
        raise Unsupported("box too short")
    return data[start]


def _timescale(data: bytes, start: int, end: int) -> int:
    """The timescale of an mvhd or mdhd box (they share the layout up to it)."""
    version = _full_box(data, start, end, 20)
    offset = start + 4 + (16 if version == 1 else 8)
    if version > 1 or offset + 4 > end:
        raise Unsupported("unknown time header version")
    timescale: int = struct.unpack_from(">I", data, offset)[0]
    if timescale == 0:
        raise Unsupported("zero timescale")
    return timescale


def _table(track: _Track, kind: bytes, columns: int, typecode: str = "I") -> list[array[int]] | None:
    """The columns of a sample table of 32-bit big-endian fields (`typecode` "i" for signed ones)."""
    found = track.box(b"mdia", b"minf", b"stbl", kind)
    if found is None:
        return None
    start, end = found
    _full_box(track.data, start, end, 4)
    (count,) = struct.unpack_from(">I", track.data, start + 4)
    length = count * columns * 4
    if start + 8 + length > end:
        raise Unsupported(f"{kind.decode()} is cut off")
    values = array(typecode, track.data[start + 8 : start + 8 + length])
    if values.itemsize != 4:
        raise Unsupported("no 32-bit array type")
    if sys.byteorder == "little":
        values.byteswap()
    return [values[column::columns] for column in range(columns)]


def _entry_count(track: _Track, kind: bytes) -> int | None:
    found = track.box(b"mdia", b"minf", b"stbl", kind)
    if found is None:
        return None
    _full_box(track.data, found[0], found[1], 4)
    count: int = struct.unpack_from(">I", track.data, found[0] + 4)[0]
    return count


def _sample_count(track: _Track) -> int:
    stsz = track.box(b"mdia", b"minf", b"stbl", b"stsz")
    if stsz is None:
        raise Unsupported("no sample sizes")
    _full_box(track.data, stsz[0], stsz[1], 8)
    constant, count = struct.unpack_from(">II", track.data, stsz[0] + 4)
    if constant:
        raise Unsupported("video samples of one constant size")  # raw video; ffmpeg flags them its own way
    return int(count)


def _codec(track: _Track) -> bytes:
    stsd = track.box(b"mdia", b"minf", b"stbl", b"stsd")
    if stsd is None:
        raise Unsupported("no sample description")
    start, end = stsd
    _full_box(track.data, start, end, 12)
    (count,) = struct.unpack_from(">I", track.data, start + 4)
    if count != 1:
        raise Unsupported(f"{count} sample descriptions")
    return track.data[start + 12 : start + 16]


def _edits(track: _Track) -> list[tuple[int, int]] | None:
    """(media time, duration in the movie's timescale) of each edit; None without an edit list."""
    edts = track.box(b"edts")
    if edts is None:
        return None
    elst = _single(track.data, edts[0], edts[1], b"elst", required=False)
    if elst is None:
        return None
    start, end = elst
    version = _full_box(track.data, start, end, 4)
    (count,) = struct.unpack_from(">I", track.data, start + 4)
    entry = ">QqI" if version == 1 else ">IiI"
    width = struct.calcsize(entry)
    if version > 1 or start + 8 + count * width > end:
        raise Unsupported("unreadable edit list")
    edits = []
    for i in range(count):
        duration, media_time, rate = struct.unpack_from(entry, track.data, start + 8 + i * width)
        if rate != _UNIT_RATE:
            raise Unsupported("an edit with a rate other than 1")
        edits.append((media_time, duration))
    return edits


def _rescale(value: int, numerator: int, denominator: int) -> int:
    """av_rescale: value * numerator / denominator rounded to the nearest, halves away from zero."""
    return (value * numerator + denominator // 2) // denominator


def _video_frames(track: _Track, movie_timescale: int) -> Mp4Frames:
    codec = _codec(track)
    if codec not in CODECS:
        raise Unsupported(f"codec {codec!r} is left to ffprobe")
    _check_sample_groups(track)
    mdhd = track.box(b"mdia", b"mdhd")
    if mdhd is None:
        raise Unsupported("no media header")
    timescale = _timescale(track.data, *mdhd)
    count = _sample_count(track)
    if not 0 < count <= MAX_SAMPLES:
        raise Unsupported(f"{count} video samples")
    _check_chunks(track, count)
    edits = _edits(track)
    dts, durations = _decode_times(track, count)
    offsets = _composition_offsets(track, count)
    keyframes = _sync_samples(track, count)
    if keyframes is None and codec in KEYFRAMES_FROM_BITSTREAM:
        raise Unsupported("no sync sample table, and ffmpeg's parser flags the keyframes")
    if edits is None or not edits:
        pts = array("q", (d + o for d, o in zip(dts, offsets, strict=True)))
        keys = [pts[i] for i in range(count) if keyframes is None or i in keyframes]
        return Mp4Frames(timescale, pts, keys, durations, start_time=pts[0])
    return _edited(dts, durations, offsets, keyframes, edits, timescale, movie_timescale, has_ctts=_has_ctts(track))


KEYFRAME_GROUPS = frozenset({b"rap ", b"sync"})
"""Sample groups ffmpeg reads: random-access points and (HEVC) sync samples make more keyframes. It skips
the others (temporal levels `tscl`, `tele`, ... as phones write)."""


def _check_sample_groups(track: _Track) -> None:
    stbl = track.box(b"mdia", b"minf", b"stbl")
    if stbl is None:
        raise Unsupported("no sample table")
    for kind, start, end in _children(track.data, *stbl):
        if kind == b"stps":
            raise Unsupported("partial sync samples (stps) in the video track")
        if kind in (b"sbgp", b"sgpd"):
            _full_box(track.data, start, end, 4)
            grouping = track.data[start + 4 : start + 8]
            if grouping in KEYFRAME_GROUPS:
                raise Unsupported(f"{kind.decode()} {grouping.decode()} sample group in the video track")


def _has_ctts(track: _Track) -> bool:
    return track.box(b"mdia", b"minf", b"stbl", b"ctts") is not None


def _decode_times(track: _Track, count: int) -> tuple[array[int], array[int]]:
    stts = _table(track, b"stts", 2)
    if not stts or not stts[0]:
        raise Unsupported("no decoding times")
    counts, deltas = stts
    if sum(counts) != count:
        raise Unsupported("stts does not cover every sample")
    if any(delta == 0 or delta >= 1 << 31 for delta in deltas):
        raise Unsupported("a zero or negative sample duration")  # ffmpeg corrects those on its own terms
    dts, durations = array("q"), array("q")
    now = 0
    for n, delta in zip(counts, deltas, strict=True):
        dts.extend(range(now, now + n * delta, delta))
        durations.extend(array("q", [delta]) * n)
        now += n * delta
    return dts, durations


def _composition_offsets(track: _Track, count: int) -> array[int]:
    ctts = _table(track, b"ctts", 2, "i")
    if ctts is None:
        return array("q", bytes(8 * count))
    counts, values = ctts
    if any(n < 0 for n in counts) or sum(counts) != count:
        raise Unsupported("ctts does not cover every sample")
    if any(value < 0 or value >= 1 << 28 for value in values):
        raise Unsupported("negative or implausible composition offset")  # ffmpeg shifts dts or drops ctts
    offsets = array("q")
    for n, value in zip(counts, values, strict=True):
        offsets.extend(array("q", [value]) * n)
    return offsets


def _sync_samples(track: _Track, count: int) -> frozenset[int] | None:
    """0-based indexes of the sync samples; None when every sample is one (no stss)."""
    stss = _table(track, b"stss", 1)
    if stss is None:
        return None
    numbers = stss[0]
    if not numbers or numbers[0] < 1 or numbers[-1] > count or any(b <= a for a, b in itertools.pairwise(numbers)):
        raise Unsupported("empty or unordered sync sample table")
    return frozenset(n - 1 for n in numbers)


def _check_chunks(track: _Track, count: int) -> None:
    """ffmpeg indexes the samples its chunk tables reach: they must reach exactly `count`."""
    stsc = _table(track, b"stsc", 3)
    chunks = _entry_count(track, b"stco")
    if chunks is None:
        chunks = _entry_count(track, b"co64")
    if not stsc or not stsc[0] or chunks is None:
        raise Unsupported("no chunk tables")
    firsts, per_chunk, descriptions = stsc
    if firsts[0] != 1 or any(b <= a for a, b in itertools.pairwise(firsts)) or firsts[-1] > chunks:
        raise Unsupported("unordered sample-to-chunk table")
    if any(description != 1 for description in descriptions) or 0 in per_chunk:
        raise Unsupported("unusual sample-to-chunk entry")
    bounds = [*firsts[1:], chunks + 1]
    if sum((end - first) * n for first, n, end in zip(firsts, per_chunk, bounds, strict=True)) != count:
        raise Unsupported("chunks do not hold every sample")


def _edited(
    dts: array[int],
    durations: array[int],
    offsets: array[int],
    keyframes: frozenset[int] | None,
    edits: list[tuple[int, int]],
    timescale: int,
    movie_timescale: int,
    *,
    has_ctts: bool,
) -> Mp4Frames:
    """Replays ffmpeg's mov_fix_index for leading empty edits and one edit of the media."""
    empty = [duration for media_time, duration in edits if media_time == -1]
    if len(edits) - len(empty) != 1 or edits[-1][0] < 0:
        raise Unsupported("an edit list other than empty edits then one edit")
    media_time, movie_duration = edits[-1]
    empty_sum = sum(_rescale(duration, timescale, movie_timescale) for duration in empty)
    duration = _rescale(movie_duration, timescale, movie_timescale)
    edit_end = media_time + duration
    count = len(dts)
    first = _first_sample(dts, offsets, keyframes, media_time, has_ctts=has_ctts)
    # Kept packets: (dts as rewritten, original sample).
    kept_dts: array[int] = array("q")
    kept_samples: array[int] = array("q")
    counter = empty_sum
    started = False
    discarded_before: list[int] = []
    min_corrected: int | None = None
    waited_for_trailing = False
    for i in range(first, count):
        frame_duration = dts[i + 1] - dts[i] if i + 1 < count else duration
        cts = dts[i] + offsets[i]
        if cts < media_time or cts >= edit_end:
            if not started:
                discarded_before.append(frame_duration)
        else:
            corrected = counter + offsets[i]
            min_corrected = corrected if min_corrected is None else min(min_corrected, corrected)
            if not started:
                started = True
                rewritten = counter
                for back, discarded in enumerate(reversed(discarded_before), start=1):
                    rewritten -= discarded
                    kept_dts[len(kept_dts) - back] = rewritten
        kept_dts.append(counter)
        kept_samples.append(i)
        if started:
            counter += frame_duration
        is_key = keyframes is None or i in keyframes
        if cts + frame_duration >= edit_end and is_key:
            if has_ctts and not waited_for_trailing:
                waited_for_trailing = True  # trailing B-frames after this keyframe may belong to the edit
                continue
            break
    if not started or min_corrected is None:
        raise Unsupported("the edit shows no frame")
    shift = max(0, min_corrected - empty_sum)
    pts = array("q", (d - shift + offsets[s] for d, s in zip(kept_dts, kept_samples, strict=True)))
    keys = [p for p, s in zip(pts, kept_samples, strict=True) if keyframes is None or s in keyframes]
    kept_durations = array("q", (durations[s] for s in kept_samples))
    return Mp4Frames(timescale, pts, keys, kept_durations, start_time=empty_sum)


def _first_sample(
    dts: array[int], offsets: array[int], keyframes: frozenset[int] | None, media_time: int, *, has_ctts: bool
) -> int:
    """Where ffmpeg starts reading for an edit (find_prev_closest_index, then its fallbacks): the last keyframe
    at or before the edit's start by dts, then by pts; failing that any frame; failing that the first."""

    def is_key(i: int) -> bool:
        return keyframes is None or i in keyframes

    for any_frame in (False, True):
        index = bisect.bisect_right(dts, media_time) - 1
        while not any_frame and index >= 0 and not is_key(index):
            index -= 1
        # With composition offsets ffmpeg walks back to a keyframe presented at or before the start, even
        # in its any-frame search.
        while has_ctts and index >= 0 and not (dts[index] + offsets[index] <= media_time and is_key(index)):
            index -= 1
        if index >= 0:
            return index
    return 0


@contextmanager
def opened(source: str, deadline: float) -> Iterator[LocalFile | HttpRanges]:
    """A byte source for a local path or an http(s) URL, read until `deadline` (time.monotonic)."""
    reader: LocalFile | HttpRanges
    if source.startswith(("http://", "https://")):
        reader = HttpRanges(source, deadline)
    else:
        try:
            reader = LocalFile(source)
        except OSError as exc:
            raise Unsupported("file cannot be opened") from exc
    try:
        yield reader
    finally:
        reader.close()
