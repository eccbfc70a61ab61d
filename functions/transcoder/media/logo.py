"""Turn a fetched logo file into raw RGBA pixels, accepting only one PNG or JPEG still image.

The logo reaches ffmpeg as raw RGBA of known size, never as a file for it to guess the format of:
ffprobe identifies the file, PNGs are decoded here (the shipped ffmpeg cannot), JPEGs by ffmpeg.
"""

import json
import os
import subprocess
import tempfile

from transcoder.errors import LogoNotUsable
from transcoder.media.binaries import ffmpeg_path, ffprobe_path
from transcoder.media.png import PngError, RgbaImage, decode_png

MAX_LOGO_PIXELS = 1024 * 1024
"""A logo is small; this also bounds the pure-Python PNG decode (about 2 s at worst, here)."""
_TOOL_TIMEOUT_SECONDS = 30
_ACCEPTED = {("png_pipe", "png"), ("jpeg_pipe", "mjpeg")}


def _identify(path: str) -> tuple[str, str, int, int, str]:
    """(format, codec, width, height, frames read) of the file, as ffprobe sees it."""
    command = [
        *(ffprobe_path(), "-v", "error", "-count_frames", "-print_format", "json"),
        *("-show_entries", "format=format_name:stream=codec_type,codec_name,width,height,nb_read_frames", path),
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=_TOOL_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LogoNotUsable("logo could not be read by ffprobe within the time limit") from exc
    data = json.loads(result.stdout or b"{}") if result.returncode == 0 else {}
    streams = data.get("streams") or []
    if len(streams) != 1 or streams[0].get("codec_type") != "video":
        raise LogoNotUsable("logo is not an image (PNG or JPEG expected)")
    stream = streams[0]
    return (
        str((data.get("format") or {}).get("format_name", "")),
        str(stream.get("codec_name", "")),
        int(stream.get("width") or 0),
        int(stream.get("height") or 0),
        str(stream.get("nb_read_frames", "")),
    )


def _decode_jpeg(path: str, width: int, height: int) -> RgbaImage:
    command = [
        *(ffmpeg_path(), "-hide_banner", "-nostdin", "-v", "error", "-f", "jpeg_pipe", "-i", path),
        *("-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"),
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=_TOOL_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        raise LogoNotUsable("logo JPEG could not be decoded within the time limit") from exc
    if result.returncode != 0 or len(result.stdout) != width * height * 4:
        raise LogoNotUsable("logo JPEG could not be decoded")
    return RgbaImage(width, height, result.stdout)


def decode_logo(data: bytes) -> RgbaImage:
    """RGBA pixels of a PNG or JPEG still image; LogoNotUsable (with the reason) for anything else."""
    if not data:
        raise LogoNotUsable("logo is empty (0 bytes)")
    with tempfile.TemporaryDirectory(prefix="logo-") as folder:
        path = os.path.join(folder, "logo")
        with open(path, "wb") as file:
            file.write(data)
        format_name, codec, width, height, frames = _identify(path)
        if (format_name, codec) not in _ACCEPTED:
            raise LogoNotUsable(f"logo must be a PNG or JPEG still image (got {format_name or 'unknown'} {codec})")
        if codec == "png":
            try:
                return decode_png(data, max_pixels=MAX_LOGO_PIXELS)
            except PngError as exc:
                raise LogoNotUsable(f"logo: {exc}") from exc
        if frames != "1":
            raise LogoNotUsable("logo must be one still image, not several")
        if width <= 0 or height <= 0 or width * height > MAX_LOGO_PIXELS:
            raise LogoNotUsable(f"logo is {width}x{height}; at most {MAX_LOGO_PIXELS} pixels are accepted")
        return _decode_jpeg(path, width, height)
