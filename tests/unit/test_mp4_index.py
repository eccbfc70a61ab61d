"""The MP4/MOV header index against ffprobe's packet listing, on real encoded sources: exactly equal, or a fallback."""

import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.http_source import served
from tests.frames import ffmpeg
from tests.https_site import serve_https
from transcoder.media.keyframes import MOOV, PACKETS, KeyframeIndex, probe_keyframes
from transcoder.media.mp4_index import HttpRanges, Unsupported, find_moov, opened, read_mp4_frames

CAMERA_CLIP = Path(".cache/media/movie.mp4")
SMALL = "size=160x90"


def _top_level(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of the file's top-level boxes (32-bit sizes, as ffmpeg writes small files)."""
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        boxes.append((kind, offset, size))
        offset += size
    return boxes


def _with_64bit_sizes(source: str, target: str) -> None:
    """The same file with `mdat` and `moov` headers in their 64-bit form; no sample moves.

    ffmpeg writes an 8-byte `free` box before `mdat` for exactly this: `free` + `mdat` header become
    one 16-byte `mdat` header. `moov` (at the end) grows by 8 bytes in front of its own children.
    """
    data = open(source, "rb").read()  # noqa: SIM115 - a small test file
    boxes = _top_level(data)
    kinds = [kind for kind, _, _ in boxes]
    assert kinds[-3:] == [b"free", b"mdat", b"moov"], kinds
    (_, free_at, _), (_, _, mdat_size), (_, moov_at, moov_size) = boxes[-3:]
    out = bytearray(data[:free_at])
    out += struct.pack(">I4sQ", 1, b"mdat", mdat_size + 8) + data[free_at + 16 : moov_at]
    out += struct.pack(">I4sQ", 1, b"moov", moov_size + 8) + data[moov_at + 8 :]
    Path(target).write_bytes(bytes(out))


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _children(payload: bytes) -> list[tuple[bytes, bytes]]:
    return [(kind, payload[offset : offset + size]) for kind, offset, size in _top_level(payload)]


def _with_video_edits(source: str, target: str, edits: list[tuple[int, int, int]]) -> None:
    """The same file with the video track's edit list replaced by (duration, media time, rate) entries.

    `moov` is the last box, so growing it moves no sample. These are the edit lists other muxers and
    editors write (cuts inside a GOP, trims, several edits) that ffmpeg's own files rarely carry.
    """
    data = Path(source).read_bytes()
    kind, moov_at, _ = _top_level(data)[-1]
    assert kind == b"moov"
    elst = struct.pack(">II", 0, len(edits)) + b"".join(struct.pack(">IiI", *edit) for edit in edits)
    tracks = []
    for kind, child in _children(data[moov_at + 8 :]):
        handler = child.find(b"hdlr")
        if kind == b"trak" and child[handler + 12 : handler + 16] == b"vide":
            kept = [box for name, box in _children(child[8:]) if name != b"edts"]
            child = _box(b"trak", b"".join([kept[0], _box(b"edts", _box(b"elst", elst)), *kept[1:]]))
        tracks.append(child)
    Path(target).write_bytes(data[:moov_at] + _box(b"moov", b"".join(tracks)))


def _with_co64(source: str, target: str) -> None:
    """The same file with every track's 32-bit chunk offsets (stco) written as 64-bit ones (co64)."""

    def rebuilt(kind: bytes, box: bytes) -> bytes:
        if kind == b"stco":
            (count,) = struct.unpack_from(">I", box, 12)
            offsets = struct.unpack_from(f">{count}I", box, 16)
            return _box(b"co64", box[8:16] + struct.pack(f">{count}Q", *offsets))
        if kind in (b"trak", b"mdia", b"minf", b"stbl"):
            return _box(kind, b"".join(rebuilt(name, child) for name, child in _children(box[8:])))
        return box

    data = Path(source).read_bytes()
    kind, moov_at, _ = _top_level(data)[-1]
    assert kind == b"moov"
    moov = b"".join(rebuilt(name, child) for name, child in _children(data[moov_at + 8 :]))
    Path(target).write_bytes(data[:moov_at] + _box(b"moov", moov))


def _with_video_sample_group(source: str, target: str, grouping: bytes) -> None:
    """The same file with a sample group of type `grouping` over all video samples (sgpd with one empty
    description, sbgp mapping every sample to it), as phones write temporal-level groups (`tscl`)."""
    data = Path(source).read_bytes()
    kind, moov_at, _ = _top_level(data)[-1]
    assert kind == b"moov"

    def rebuilt(name: bytes, box: bytes, video: bool) -> bytes:
        if name in (b"mdia", b"minf"):
            return _box(name, b"".join(rebuilt(n, child, video) for n, child in _children(box[8:])))
        if name == b"stbl" and video:
            (samples,) = struct.unpack_from(">I", box, box.find(b"stsz") + 12)
            sgpd = _box(b"sgpd", struct.pack(">B3x4sII", 1, grouping, 0, 1) + struct.pack(">I", 0))
            sbgp = _box(b"sbgp", struct.pack(">I4sIII", 0, grouping, 1, samples, 1))
            return _box(b"stbl", box[8:] + sgpd + sbgp)
        return box

    tracks = []
    for name, child in _children(data[moov_at + 8 :]):
        if name == b"trak":
            handler = child.find(b"hdlr")
            video = child[handler + 12 : handler + 16] == b"vide"
            child = _box(b"trak", b"".join(rebuilt(n, c, video) for n, c in _children(child[8:])))
        tracks.append(child)
    Path(target).write_bytes(data[:moov_at] + _box(b"moov", b"".join(tracks)))


def _h264_b_frames(path: str) -> None:
    ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=30:duration=4", "-f", "lavfi", "-i", "sine=duration=4"),
        *("-c:v", "libx264", "-preset", "veryfast", "-g", "45", "-bf", "3", "-c:a", "aac", path),
    )


def _hevc_open_gop(path: str) -> None:
    ffmpeg(
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=25:duration=4", "-c:v", "libx265", "-tag:v", "hvc1"),
        *("-x265-params", "open-gop=1:keyint=30:min-keyint=30:bframes=4:log-level=error", path),
    )


SourceMaker = Callable[[Path], str]


def _copy_of(base: Callable[[str], None], *options: str, name: str) -> SourceMaker:
    """A source made by stream-copying `base`'s output with `options` (cuts that leave edit lists behind)."""

    def make(folder: Path) -> str:
        original, path = str(folder / f"{name}-base.mp4"), str(folder / name)
        base(original)
        input_options = [o for o in options if o.startswith("@")]
        output_options = [o for o in options if not o.startswith("@")]
        ffmpeg(*[o[1:] for o in input_options], "-i", original, "-c", "copy", *output_options, path)
        return path

    return make


def _encoded(name: str, *args: str) -> SourceMaker:
    def make(folder: Path) -> str:
        path = str(folder / name)
        ffmpeg(*args, path)
        return path

    return make


def _made_by(base: Callable[[str], None], name: str) -> SourceMaker:
    def make(folder: Path) -> str:
        path = str(folder / name)
        base(path)
        return path

    return make


FRAME = 512
"""A 30 fps frame in ffmpeg's MP4 video timescale (15360); movie timescale 1000."""
STARTS = 2 * FRAME
"""ffmpeg's own edit of `_h264_b_frames`: presentation starts after the B-frame delay."""
RATE_1 = 0x00010000


def _edited(name: str, *edits: tuple[int, int, int]) -> SourceMaker:
    def make(folder: Path) -> str:
        original, path = str(folder / f"{name}-base.mp4"), str(folder / name)
        _h264_b_frames(original)
        _with_video_edits(original, path, list(edits))
        return path

    return make


def _grouped(name: str, grouping: bytes) -> SourceMaker:
    def make(folder: Path) -> str:
        original, path = str(folder / f"{name}-base.mp4"), str(folder / name)
        _h264_b_frames(original)
        _with_video_sample_group(original, path, grouping)
        assert grouping in Path(path).read_bytes()
        return path

    return make


def _co64(folder: Path) -> str:
    original, path = str(folder / "for-co64.mp4"), str(folder / "co64.mp4")
    _h264_b_frames(original)
    _with_co64(original, path)
    written = Path(path).read_bytes()
    assert b"co64" in written and b"stco" not in written
    return path


def _sixty_four_bit(folder: Path) -> str:
    original, path = str(folder / "for-64.mp4"), str(folder / "64bit.mp4")
    _h264_b_frames(original)
    _with_64bit_sizes(original, path)
    return path


def _camera_clip(folder: Path) -> str:
    if not CAMERA_CLIP.exists():
        pytest.skip("run `make media` for the camera clip")
    return str(CAMERA_CLIP)


def _camera_clip_cut(folder: Path) -> str:
    source, path = _camera_clip(folder), str(folder / "camera-cut.mov")
    ffmpeg("-ss", "2.2", "-i", source, "-c", "copy", path)
    return path


HEADER_SOURCES: dict[str, SourceMaker] = {
    "h264 B-frames, moov at the end": _made_by(_h264_b_frames, "h264.mp4"),
    "h264 faststart": _copy_of(_h264_b_frames, "-movflags", "+faststart", name="fast.mp4"),
    "hevc open GOP": _made_by(_hevc_open_gop, "hevc.mp4"),
    "hevc cut inside a GOP": _copy_of(_hevc_open_gop, "@-ss", "@1.7", name="hevc-cut.mp4"),
    "input -ss copy: frames before the edit": _copy_of(_h264_b_frames, "@-ss", "@2", name="cut.mp4"),
    "input -ss -t copy: edit ends early": _copy_of(_h264_b_frames, "@-ss", "@2", "-t", "1.1", name="trim.mp4"),
    "output -ss copy: empty edit": _copy_of(_h264_b_frames, "-ss", "0.8", name="late.mp4"),
    "itsoffset: empty edit, audio priming": _copy_of(_h264_b_frames, "@-itsoffset", "@2", name="offset.mp4"),
    "no edit list": _copy_of(_h264_b_frames, "-use_editlist", "0", name="noelst.mp4"),
    "MOV container": _copy_of(_h264_b_frames, name="clip.mov"),
    "MOV, NTSC rate, timescale 600": _encoded(
        "ntsc.mov",
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=30000/1001:duration=3", "-c:v", "libx264"),
        *("-preset", "veryfast", "-video_track_timescale", "600"),
    ),
    "variable frame rate": _encoded(
        "vfr.mp4",
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=30:duration=4,setpts='PTS+if(gt(N\\,40)\\,N*0.7\\,0)'"),
        *("-fps_mode", "vfr", "-c:v", "libx264", "-preset", "veryfast"),
    ),
    "HEVC intra only: no stss": _encoded(
        "hevc-intra.mp4",
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=25:duration=2", "-c:v", "libx265", "-tag:v", "hvc1"),
        *("-x265-params", "keyint=1:log-level=error"),
    ),
    "vp9": _encoded(
        "vp9.mp4",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2={SMALL}:rate=24:duration=2",
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
    ),
    "64-bit mdat and moov sizes": _sixty_four_bit,
    "64-bit chunk offsets (co64)": _co64,
    "a temporal-level sample group (tscl), which ffmpeg skips": _grouped("tscl.mp4", b"tscl"),
    "edit starting inside a GOP": _edited("mid.mp4", (2000, STARTS + 50 * FRAME, RATE_1)),
    "edit starting between frames": _edited("odd.mp4", (1333, STARTS + 777, RATE_1)),
    "edit starting before the first frame": _edited("early.mp4", (4000, 0, RATE_1)),
    "edit ending inside a GOP": _edited("end.mp4", (1000, STARTS + 20 * FRAME, RATE_1)),
    "edit longer than the media": _edited("long.mp4", (9000, STARTS + 100 * FRAME, RATE_1)),
    "two empty edits, then one inside a GOP": _edited(
        "empties.mp4", (300, -1, RATE_1), (200, -1, RATE_1), (3000, STARTS + 47 * FRAME, RATE_1)
    ),
    "empty edit list": _edited("none.mp4"),
    "camera clip": _camera_clip,
    "camera clip cut": _camera_clip_cut,
}

FALLBACK_SOURCES: dict[str, SourceMaker] = {
    "fragmented MP4": _copy_of(_h264_b_frames, "-movflags", "frag_keyframe+empty_moov", name="frag.mp4"),
    "H.264 intra only: no stss, the parser flags keyframes": _encoded(
        "intra.mp4", "-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=30:duration=2", "-c:v", "libx264", "-g", "1"
    ),
    "MOV with PCM audio, read in ffmpeg's chunk mode": _encoded(
        "pcm.mov",
        *("-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=24:duration=1", "-f", "lavfi", "-i", "sine=duration=1"),
        *("-c:v", "libx264", "-c:a", "pcm_s16le"),
    ),
    "ProRes: a codec left to ffprobe": _encoded(
        "prores.mov", "-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=24:duration=1", "-c:v", "prores_ks"
    ),
    "two edits of the media": _edited("two.mp4", (1000, STARTS, RATE_1), (1000, STARTS + 60 * FRAME, RATE_1)),
    "an edit played at half speed": _edited("slow.mp4", (4000, STARTS, RATE_1 // 2)),
    "an empty edit after the media": _edited("after.mp4", (3000, STARTS, RATE_1), (1000, -1, RATE_1)),
    "an edit of no length": _edited("zero.mp4", (0, STARTS, RATE_1)),
    "a random-access sample group (rap)": _grouped("rap.mp4", b"rap "),
    "Matroska: not MP4": _encoded(
        "clip.mkv", "-f", "lavfi", "-i", f"testsrc2={SMALL}:rate=24:duration=1", "-c:v", "libx264"
    ),
}


def _same_index(header: KeyframeIndex, packets: KeyframeIndex) -> None:
    assert packets.read_from == PACKETS
    assert header.frames.time_base == packets.frames.time_base
    assert header.frames.origin == packets.frames.origin
    assert list(header.frames.frame_pts) == list(packets.frames.frame_pts)
    assert list(header.frames.keyframe_pts) == list(packets.frames.keyframe_pts)
    assert header.frames.end_pts == packets.frames.end_pts
    assert header.audio_start == packets.audio_start


@pytest.mark.parametrize("name", HEADER_SOURCES)
def test_the_header_index_is_exactly_ffprobes(name: str, tmp_path: Path) -> None:
    source = HEADER_SOURCES[name](tmp_path)
    header = probe_keyframes(source)
    assert header.read_from == MOOV
    _same_index(header, probe_keyframes(source, from_moov=False))


@pytest.mark.parametrize("name", FALLBACK_SOURCES)
def test_what_the_header_cannot_vouch_for_is_listed_by_ffprobe(name: str, tmp_path: Path) -> None:
    source = FALLBACK_SOURCES[name](tmp_path)
    index = probe_keyframes(source)
    assert index.read_from == PACKETS
    assert index == probe_keyframes(source, from_moov=False)


def test_a_fragmented_mp4_is_refused_by_the_header_reader(tmp_path: Path) -> None:
    source = FALLBACK_SOURCES["fragmented MP4"](tmp_path)
    with opened(source, time.monotonic() + 10) as reader, pytest.raises(Unsupported, match="fragmented"):
        read_mp4_frames(reader)


def test_a_file_cut_before_its_moov_has_none(tmp_path: Path) -> None:
    source = HEADER_SOURCES["h264 B-frames, moov at the end"](tmp_path)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(Path(source).read_bytes()[:-100])
    with opened(str(cut), time.monotonic() + 10) as reader, pytest.raises(Unsupported):
        find_moov(reader)


@pytest.fixture(scope="module")
def minute_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A minute of lossless 720p (about 120 MB) with audio, moov at the end as ffmpeg writes it: large
    beside ffprobe's own header read (its 5 MB probe window)."""
    path = str(tmp_path_factory.mktemp("minute") / "minute.mp4")
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60", "-f", "lavfi", "-i", "sine=duration=60"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "60", "-c:a", "aac", path),
    )
    return path


def test_over_http_the_header_path_reads_a_small_part_of_the_file(minute_source: str) -> None:
    size = os.path.getsize(minute_source)
    local = probe_keyframes(minute_source, from_moov=False)
    with served(minute_source) as (url, counts):
        counts.take()
        with opened(url, time.monotonic() + 30) as reader:
            read_mp4_frames(reader)
            assert isinstance(reader, HttpRanges) and reader.requests <= 4
        moov_only = counts.take()
        remote = probe_keyframes(url)
        header_path = counts.take()
        probe_keyframes(url, from_moov=False)
        packets_path = counts.take()
    assert remote.read_from == MOOV
    _same_index(remote, local)
    assert moov_only.bytes_sent < size / 20, (moov_only, size)
    # ffprobe's own header read (origin, audio start) plus the moov reads, against ffprobe reading every packet.
    assert header_path.bytes_sent < packets_path.bytes_sent / 4, (header_path, packets_path, size)


def test_the_header_reader_verifies_tls_and_follows_no_redirect(
    tmp_path: Path, minute_source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # This server cannot seek: ffprobe finds the moov only at the front.
    ffmpeg("-i", minute_source, "-c", "copy", "-movflags", "+faststart", str(site / "clip.mp4"))
    deadline = time.monotonic() + 30
    with serve_https(site) as (base_url, certificate):
        with pytest.raises(Unsupported, match="SSLError"), opened(f"{base_url}/clip.mp4", deadline) as reader:
            reader.head(100)  # a self-signed peer nobody trusts
        monkeypatch.setenv("CA_BUNDLE", str(certificate))
        with pytest.raises(Unsupported, match="HTTP 302"), opened(f"{base_url}/redirect?to=/clip.mp4", deadline) as r:
            r.head(100)
        # This server ignores Range and would send the whole file: the header path gives way to ffprobe.
        with pytest.raises(Unsupported, match="HTTP 200"), opened(f"{base_url}/clip.mp4", deadline) as reader:
            reader.head(100)
        index = probe_keyframes(f"{base_url}/clip.mp4")
    assert index.read_from == PACKETS
    assert index.frames == probe_keyframes(minute_source, from_moov=False).frames


def _box_offset(data: bytes | bytearray, start: int, end: int, kind: bytes, *, handler: bytes | None = None) -> int:
    """Offset of the first `kind` box in data[start:end] (with that handler, for a trak)."""
    offset = start
    while offset < end:
        size, name = struct.unpack_from(">I4s", data, offset)
        if name == kind and (handler is None or data[data.find(b"hdlr", offset) + 12 :][:4] == handler):
            return offset
        offset += size
    raise LookupError(kind)


def _claiming_samples(source: str, target: str, claimed: int) -> None:
    """The file with its video tables rewritten in place to claim about `claimed` samples, consistently:
    one stts entry, a constant stsz, one stsc entry spreading them over the real chunks."""
    data = bytearray(Path(source).read_bytes())
    moov = _box_offset(data, 0, len(data), b"moov")
    stbl = moov + 8
    for kind, handler in ((b"trak", b"vide"), (b"mdia", None), (b"minf", None), (b"stbl", None)):
        stbl = _box_offset(data, stbl, len(data), kind, handler=handler) + 8
    tables = {kind: _box_offset(data, stbl, len(data), kind) + 8 for kind in (b"stts", b"stsz", b"stsc", b"stco")}
    (chunks,) = struct.unpack_from(">I", data, tables[b"stco"] + 4)
    per_chunk = claimed // chunks
    count = per_chunk * chunks
    struct.pack_into(">III", data, tables[b"stts"] + 4, 1, count, 512)
    struct.pack_into(">II", data, tables[b"stsz"] + 4, 1000, count)
    struct.pack_into(">IIII", data, tables[b"stsc"] + 4, 1, 1, per_chunk, 1)
    Path(target).write_bytes(bytes(data))


def test_a_header_claiming_billions_of_samples_is_left_to_ffprobe_at_once(tmp_path: Path) -> None:
    source = HEADER_SOURCES["h264 B-frames, moov at the end"](tmp_path)
    claiming = str(tmp_path / "claims.mp4")
    _claiming_samples(source, claiming, 2**31)
    started = time.monotonic()
    with opened(claiming, started + 10) as reader, pytest.raises(Unsupported, match="samples"):
        read_mp4_frames(reader)
    assert time.monotonic() - started < 2  # no table was expanded


def test_a_faststart_file_cut_short_is_listed_by_ffprobe_up_to_where_it_ends(tmp_path: Path) -> None:
    """An upload that broke off: the moov at the front promises every frame, ffprobe lists those present."""
    source = HEADER_SOURCES["h264 faststart"](tmp_path)
    cut = tmp_path / "cut-short.mp4"
    data = Path(source).read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 5])
    index = probe_keyframes(str(cut))
    assert index.read_from == PACKETS
    assert index == probe_keyframes(str(cut), from_moov=False)
    assert index.frame_count < probe_keyframes(source).frame_count
