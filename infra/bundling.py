"""Docker-free asset bundling: the function code with its dependencies, and the ffmpeg layer."""

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
# The API verifies signatures with the client's own signing code (and answers with the same code table), so
# the two can never disagree: the protocol package of the client's distribution, copied in alone.
PROTOCOL_PACKAGE_DIR = ROOT / "client" / "transcoder_protocol"
FFMPEG_LAYER_DIR = ROOT / "layers" / "ffmpeg"
CONSOLE_DIR = ROOT / "console"
CONSOLE_HANDLER = FUNCTIONS_DIR / "handlers" / "console_site.py"
# The newest runtime whose CPython the bundling can compile bytecode with and the tests can import the asset
# with on these machines (3.14 is offered too, but no local 3.14 interpreter exists to check it).
RUNTIME = lambda_.Runtime.PYTHON_3_13
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
_WHEEL_PLATFORMS = {"x86_64": "x86_64-manylinux2014", "arm64": "aarch64-manylinux2014"}
# The Lambda Python runtime provides the AWS SDK; bundling it would triple the package.
_PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer")


def find_uv() -> str:
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(ROOT / ".tools" / "bin" / "uv")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError("uv not found: run `make setup` or set UV")


def _python_version_of(interpreter: str) -> str | None:
    try:
        result = subprocess.run(
            [interpreter, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


@functools.cache
def find_interpreter(version: str) -> str | None:
    """A local CPython `version` (e.g. "3.13"): $LAMBDA_PYTHON, on PATH, uv-managed or pyenv-installed."""
    try:
        uv_managed = subprocess.run(
            [find_uv(), "python", "find", "--managed-python", "--no-python-downloads", version],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except FileNotFoundError:
        uv_managed = ""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which(f"python{version}"),
        uv_managed,
        *sorted(str(p) for p in pyenv_root.glob(f"versions/{version}.*/bin/python{version}")),
    ]
    return next((c for c in candidates if c and _python_version_of(c) == version), None)


def bundle_functions(output_dir: str, architecture: str, python_version: str = PYTHON_VERSION) -> None:
    """Install the locked run-time dependencies for the target platform and Python, then copy the code."""
    uv = find_uv()
    exclude = [arg for name in _PROVIDED_BY_RUNTIME for arg in ("--no-emit-package", name)]
    requirements = subprocess.run(
        [
            # --no-emit-workspace: the project and the client distribution are code copied below, not wheels.
            *(uv, "export", "--frozen", "--no-dev", "--no-hashes", "--no-emit-workspace", "--no-header"),
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
                "--python-platform", _WHEEL_PLATFORMS[architecture], "--python-version", python_version,
                "--target", output_dir, "-r", handle.name,
            ],
            check=True,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    skip_compiled = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FUNCTIONS_DIR, output_dir, dirs_exist_ok=True, ignore=skip_compiled)
    shutil.copytree(PROTOCOL_PACKAGE_DIR, Path(output_dir) / PROTOCOL_PACKAGE_DIR.name, ignore=skip_compiled)
    precompile(output_dir, python_version)


def precompile(output_dir: str, python_version: str) -> None:
    """Lambda's disk is read-only: without .pyc files every cold start compiles every module in memory.

    Bytecode is specific to a CPython version (a 3.11 .pyc is ignored by 3.13), so it takes an interpreter of
    the runtime's version; without one the asset ships source only, which costs each cold start about 0.5 s
    (measured here: importing the API handler on 3.13 took 1.0 s without .pyc files, 0.5 s with them).
    The asset zip carries fixed timestamps, so the .pyc files must not be checked against them.
    """
    interpreter = find_interpreter(python_version)
    if interpreter is None:
        print(
            f"warning: no Python {python_version} found (set LAMBDA_PYTHON): the functions ship without bytecode, "
            "and each cold start compiles it",
            file=sys.stderr,
        )
        return
    subprocess.run(
        [
            interpreter, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            output_dir,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


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


@jsii.implements(cdk.ILocalBundling)
class _ConsoleSiteBundler:
    """The console's handler and its built static files: `handlers/console_site.py` beside `console/`."""

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_: object) -> bool:
        build_console(Path(output_dir) / "console")
        handlers = Path(output_dir) / "handlers"
        handlers.mkdir()
        shutil.copy(FUNCTIONS_DIR / "handlers" / "__init__.py", handlers / "__init__.py")
        shutil.copy(CONSOLE_HANDLER, handlers / CONSOLE_HANDLER.name)
        return True


def build_console(output_dir: Path) -> None:
    """Bundle the console (esbuild, hls.js and the signing code from node_modules) into `output_dir`."""
    if not (ROOT / "node_modules" / "esbuild").is_dir():
        raise FileNotFoundError("node_modules is missing: run `make console` (npm ci) before synthesizing")
    subprocess.run(
        ["node", str(CONSOLE_DIR / "build.mjs"), str(output_dir)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )


def console_site_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(CONSOLE_DIR),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=content_hash(
            CONSOLE_DIR / "src", CONSOLE_DIR / "build.mjs", CONSOLE_HANDLER, ROOT / "package-lock.json", salt="console"
        ),
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=_ConsoleSiteBundler()),
    )


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


def _functions_salt(architecture: str) -> str:
    """The runtime's Python and whether bytecode is precompiled change the asset, so they are part of its hash."""
    bytecode = "pyc" if find_interpreter(PYTHON_VERSION) else "source-only"
    return f"{architecture}/python{PYTHON_VERSION}/{bytecode}"


def functions_code(architecture: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["**/__pycache__", "**/*.pyc"],
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=content_hash(
            FUNCTIONS_DIR, PROTOCOL_PACKAGE_DIR, ROOT / "uv.lock", salt=_functions_salt(architecture)
        ),
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=_FunctionsBundler(architecture)),
    )


def ffmpeg_layer_code(architecture: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(FFMPEG_LAYER_DIR),
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=content_hash(FFMPEG_LAYER_DIR, salt=architecture),
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=_FfmpegLayerBundler(architecture)),
    )
