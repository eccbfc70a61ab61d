"""Read decoded pixels of an output frame, to check what was drawn on it."""

import subprocess
from dataclasses import dataclass

from localmode.stack import static_ffmpeg


@dataclass(frozen=True)
class Frame:
    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        start = (y * self.width + x) * 3
        r, g, b = self.rgb[start : start + 3]
        return r, g, b


def frame_at(path: str, index: int, width: int, height: int) -> Frame:
    """Frame number `index` (from 0) of the file's video, as RGB."""
    ffmpeg, _ = static_ffmpeg()
    command = [ffmpeg, "-v", "error", "-i", path, "-vf", f"select=eq(n\\,{index})", "-frames:v", "1"]
    command += ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    rgb = subprocess.run(command, check=True, capture_output=True).stdout
    assert len(rgb) == width * height * 3, f"frame {index} of {path} is missing"
    return Frame(width, height, rgb)


def is_red(pixel: tuple[int, int, int]) -> bool:
    """Red after a lossy encode: strong red, little green and blue."""
    r, g, b = pixel
    return r > 180 and g < 70 and b < 70


def ffmpeg(*args: str) -> None:
    """Run the static ffmpeg quietly with `args`, failing the test on an error."""
    binary, _ = static_ffmpeg()
    subprocess.run([binary, "-v", "error", "-y", *args], check=True)


def dark_clip(path: str, *, seconds: int = 2, size: str = "1280x720", rate: int = 25) -> str:
    """Dark grey video with a tone: nothing on it is red unless a logo is drawn."""
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=0x202830:s={size}:r={rate}:d={seconds}"),
        *("-f", "lavfi", "-i", f"sine=duration={seconds}", "-c:v", "libx264", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", path),
    )
    return path
