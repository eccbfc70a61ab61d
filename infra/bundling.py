"""Docker-free asset bundling: the function code with its dependencies, and the ffmpeg layer."""

import compileall
import hashlib
import os
import py_compile
import shutil
import subprocess
import tempfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
# The API verifies signatures with the client's own signing code, so the two can never disagree.
CLIENT_PACKAGE_DIR = ROOT / "client" / "transcoder_client"
FFMPEG_LAYER_DIR = ROOT / "layers" / "ffmpeg"
PYTHON_VERSION = "3.11"
RUNTIME = lambda_.Runtime.PYTHON_3_11
_WHEEL_PLATFORMS = {"x86_64": "x86_64-manylinux2014", "arm64": "aarch64-manylinux2014"}
# The Lambda Python runtime provides the AWS SDK; bundling it would triple the package.
_PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")


def find_uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools" / "bin" / "uv")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("uv not found: run `make setup` or set UV")


def bundle_functions(output_dir: str, architecture: str) -> None:
    """Install the locked run-time dependencies for the target platform, then copy the code."""
    uv = find_uv()
    exclude = [arg for name in _PROVIDED_BY_RUNTIME for arg in ("--no-emit-package", name)]
    requirements = subprocess.run(
        [
            *(uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-project", "--no-header"),
            *("--no-annotate", "--color", "never", *exclude),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write(requirements)
    try:
        subprocess.run(
            [
                uv, "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:", "--no-compile",
                "--python-platform", _WHEEL_PLATFORMS[architecture], "--python-version", PYTHON_VERSION,
                "--target", output_dir, "-r", handle.name,
            ],
            check=True,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    skip_compiled = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FUNCTIONS_DIR, output_dir, dirs_exist_ok=True, ignore=skip_compiled)
    shutil.copytree(CLIENT_PACKAGE_DIR, Path(output_dir) / CLIENT_PACKAGE_DIR.name, ignore=skip_compiled)
    # Lambda's file system is read-only: without .pyc files every cold start compiles every module. The
    # asset zip carries fixed timestamps, so the .pyc files must not be checked against them.
    compileall.compile_dir(
        output_dir, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


@jsii.implements(cdk.ILocalBundling)
class _FunctionsBundler:
    def __init__(self, architecture: str) -> None:
        self.architecture = architecture

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: object) -> bool:
        bundle_functions(output_dir, self.architecture)
        return True


@jsii.implements(cdk.ILocalBundling)
class _FfmpegLayerBundler:
    def __init__(self, architecture: str) -> None:
        self.architecture = architecture

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: object) -> bool:
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else "python3",
                str(FFMPEG_LAYER_DIR / "build.py"), "--architecture", self.architecture, "--out", output_dir,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return True


def content_hash(*paths: Path, salt: str) -> str:
    """A hash of the files under `paths` and `salt`: the asset changes only when its inputs do."""
    digest = hashlib.sha256(salt.encode())
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def functions_code(architecture: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["**/__pycache__", "**/*.pyc"],
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=content_hash(FUNCTIONS_DIR, CLIENT_PACKAGE_DIR, ROOT / "uv.lock", salt=architecture),
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=_FunctionsBundler(architecture)),
    )


def ffmpeg_layer_code(architecture: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FFMPEG_LAYER_DIR),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=content_hash(FFMPEG_LAYER_DIR, salt=architecture),
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=_FfmpegLayerBundler(architecture)),
    )
