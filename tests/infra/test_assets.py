"""The bundled assets: the functions' code imports on its own (plus what Lambda provides), the ffmpeg layer."""

import importlib.util
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from infra.bundling import PYTHON_VERSION, bundle_functions, find_interpreter
from tests.infra.conftest import Synthesized

CONSOLE_HANDLER = "handlers.console_site.handler"
MAX_CONSOLE_ASSET_BYTES = 2 * 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]
BUILD_LAYER = ROOT / "layers" / "ffmpeg" / "build.py"
# What the Lambda Python runtime puts on sys.path besides the function's code and layers.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")
MAX_API_PACKAGE_BYTES = 30 * 1024 * 1024  # targets.md: API Lambda package (code + layers), unzipped
EM_X86_64, EM_AARCH64 = 0x3E, 0xB7


class Asset(NamedTuple):
    python: str
    path: Path


def _asset_dir(synthesized: Synthesized, code: dict[str, Any]) -> Path:
    key = code["S3Key"]
    assert isinstance(key, str) and key.endswith(".zip"), key
    path = synthesized.outdir / f"asset.{key.removesuffix('.zip')}"
    assert path.is_dir(), f"no asset directory {path.name} in the cloud assembly"
    return path


@pytest.fixture(scope="module")
def api_asset(synthesized: Synthesized) -> Path:
    _, function = synthesized.function_by_handler("handlers.api.handler")
    assert not function["Properties"].get("Layers")
    return _asset_dir(synthesized, function["Properties"]["Code"])


@pytest.fixture(scope="module")
def runtime_python() -> str | None:
    """A local CPython of the Lambda runtime's version, if one is installed (see infra.bundling)."""
    return find_interpreter(PYTHON_VERSION)


@pytest.fixture(scope="module")
def importable_asset(api_asset: Path, runtime_python: str | None, tmp_path_factory: pytest.TempPathFactory) -> Asset:
    """An interpreter and a functions asset it can import.

    The real asset carries wheels for the runtime's Python: pydantic-core's extension is compiled per CPython
    version (`_pydantic_core.cpython-313-…so`), so the 3.11 that runs the tests cannot load it, and a 3.11 wheel
    would not load on Lambda. So the real asset is imported by a local CPython of the runtime's version when
    one is installed; otherwise the same locked requirements and code are bundled for the local Python (only
    the compiled extensions' tags differ) and that asset is imported.
    """
    if runtime_python is not None:
        return Asset(python=runtime_python, path=api_asset)
    local = tmp_path_factory.mktemp("asset-for-local-python")
    bundle_functions(str(local), "x86_64", python_version=f"{sys.version_info.major}.{sys.version_info.minor}")
    return Asset(python=sys.executable, path=local)


@pytest.fixture(scope="module")
def layer_asset(synthesized: Synthesized) -> Path:
    (layer,) = synthesized.resources("AWS::Lambda::LayerVersion").values()
    return _asset_dir(synthesized, layer["Properties"]["Content"])


def _elf_machine(path: Path) -> int:
    with path.open("rb") as handle:
        header = handle.read(20)
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    assert header[4] == 2, f"{path} is not 64-bit"
    assert header[5] == 1, f"{path} is not little-endian"
    return int.from_bytes(header[18:20], "little")


def _runtime_sdk(tmp_path: Path) -> Path:
    """A directory with only the AWS SDK packages the Lambda runtime provides, linked from the venv."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    sdk = tmp_path / "runtime-sdk"
    sdk.mkdir()
    for name in RUNTIME_PROVIDED:
        source = site_packages / name if (site_packages / name).is_dir() else site_packages / f"{name}.py"
        assert source.exists(), f"{name} is not installed in {site_packages}"
        (sdk / source.name).symlink_to(source)
    return sdk


def test_all_functions_share_one_code_asset(synthesized: Synthesized, api_asset: Path) -> None:
    """Every function but CDK's inline BucketNotificationsHandler (the one acknowledged exception) runs our asset."""
    synthesized.cdk_inline_function()
    # The web console's static files are an asset of their own (test_console_asset).
    functions = synthesized.domain_functions()
    assert len(functions) == 14  # API, ingest, eight pipeline steps, notify, callback, the two reconcile functions
    for logical_id, function in functions.items():
        assert _asset_dir(synthesized, function["Properties"]["Code"]) == api_asset, logical_id


def test_the_asset_carries_the_protocol_but_not_the_client(api_asset: Path) -> None:
    """The API verifies with the client distribution's transcoder_protocol; the rest of the client stays out."""
    assert (api_asset / "transcoder_protocol" / "signing.py").is_file()
    assert (api_asset / "transcoder_protocol" / "codes.py").is_file()
    assert not (api_asset / "transcoder_client").exists() and not (api_asset / "tqdm").exists()


@pytest.mark.parametrize(
    "module", ["handlers.api", "handlers.pipeline", "handlers.ingest", "handlers.notify", "handlers.callback"]
)
def test_handlers_import_from_the_asset_alone(importable_asset: Asset, tmp_path: Path, module: str) -> None:
    sdk = _runtime_sdk(tmp_path)
    python, api_asset = importable_asset
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "TASK_TABLE": "tasks",
        "INPUT_BUCKET": "input",
        "OUTPUT_BUCKET": "output",
        "WORK_BUCKET": "work",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
        "POWERTOOLS_SERVICE_NAME": "transcoder",
    }
    # -I: no PYTHONPATH, user site or cwd; -S: no site-packages; -B: leave the asset unchanged.
    # Then sys.path gets the asset first, then the runtime's SDK (pure Python: it imports on any version).
    script = (
        "import sys, importlib\n"
        "assert not [p for p in sys.path if 'site-packages' in p], sys.path\n"
        f"sys.path[:0] = [{str(api_asset)!r}, {str(sdk)!r}]\n"
        f"importlib.import_module({module!r})\n"
        # Modules the handler imports lazily must be in the asset too: run them all.
        "from transcoder.lazy import load_pending; load_pending()\n"
        "outside = sorted({getattr(m, '__file__', None) or '' for m in list(sys.modules.values())}\n"
        f"    - {{''}})\n"
        f"allowed = ({str(api_asset)!r}, {str(sdk)!r}, sys.base_prefix)\n"
        "bad = [f for f in outside if not f.startswith(allowed) or '/site-packages/' in f]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [python, "-I", "-S", "-B", "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_runtime_provided_sdk_is_not_bundled(api_asset: Path) -> None:
    for name in ("boto3", "botocore", "s3transfer"):
        assert not (api_asset / name).exists(), f"{name} is bundled: the Lambda runtime provides it"
        assert not list(api_asset.glob(f"{name}-*.dist-info")), name


def test_api_package_size(api_asset: Path) -> None:
    size = sum(p.stat().st_size for p in api_asset.rglob("*") if p.is_file() and not p.is_symlink())
    assert size <= MAX_API_PACKAGE_BYTES, f"API package is {size / 2**20:.1f} MiB unzipped"
    assert not [p for p in api_asset.rglob("*") if p.is_symlink()], "symlinks do not survive zipping as intended"


def test_asset_holds_only_code_and_locked_wheels(api_asset: Path) -> None:
    assert (api_asset / "handlers" / "api.py").is_file()
    assert (api_asset / "handlers" / "pipeline.py").is_file()
    assert (api_asset / "handlers" / "ingest.py").is_file()
    assert not (api_asset / "tests").exists()
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    # Workspace members (the client) carry no version in the lock: they are sources, never bundled as wheels.
    locked = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in lock["package"] if "version" in p}
    dist_infos = list(api_asset.glob("*.dist-info"))
    assert dist_infos
    for dist_info in dist_infos:
        name, version = dist_info.name.removesuffix(".dist-info").rsplit("-", 1)
        name = re.sub(r"[-_.]+", "-", name).lower()
        assert locked.get(name) == version, f"{dist_info.name} does not match uv.lock ({locked.get(name)})"


def test_bytecode_is_precompiled_unchecked(api_asset: Path, runtime_python: str | None) -> None:
    """Lambda's disk is read-only: the asset carries the runtime's .pyc files, needing no timestamp check (zip mtimes).

    Without a local CPython of the runtime's version there is no bytecode at all: never another version's.
    """
    compiled = list(api_asset.rglob("*.pyc"))
    if runtime_python is None:
        assert compiled == []
        pytest.skip(f"no local Python {PYTHON_VERSION}: the asset ships source only")
    tag = "cpython-" + PYTHON_VERSION.replace(".", "")
    magic = subprocess.run(
        [runtime_python, "-I", "-c", "import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert bytes.fromhex(magic) != importlib.util.MAGIC_NUMBER, "the runtime's bytecode is not the local Python's"
    assert (api_asset / "handlers" / "__pycache__" / f"api.{tag}.pyc").is_file()
    assert len(compiled) >= len(list(api_asset.rglob("*.py"))) * 0.9
    for pyc in compiled:
        assert pyc.parent.name == "__pycache__" and pyc.name.endswith(f".{tag}.pyc"), pyc
        with pyc.open("rb") as handle:
            header = handle.read(8)
        assert header[:4].hex() == magic, f"{pyc}: not Python {PYTHON_VERSION} bytecode"
        assert int.from_bytes(header[4:8], "little") == 0b01, f"{pyc}: not an unchecked-hash .pyc"


def test_compiled_extensions_match_the_runtime_and_default_architecture(api_asset: Path) -> None:
    extensions = list(api_asset.rglob("*.so"))
    assert extensions, "pydantic_core ships a compiled extension"
    tag = "cpython-" + PYTHON_VERSION.replace(".", "")
    for extension in extensions:
        assert _elf_machine(extension) == EM_X86_64, extension
        assert tag in extension.name or "abi3" in extension.name or ".cpython" not in extension.name, extension
    assert [e for e in extensions if tag in e.name], f"no extension built for {tag}"


# --- the ffmpeg layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["ffmpeg", "ffprobe"])
def test_layer_binaries(layer_asset: Path, tool: str) -> None:
    binary = layer_asset / "bin" / tool
    assert binary.is_file()
    assert os.access(binary, os.X_OK), f"{tool} is not executable"
    assert _elf_machine(binary) == EM_X86_64


def test_layer_ffmpeg_runs(layer_asset: Path) -> None:
    result = subprocess.run(
        [str(layer_asset / "bin" / "ffmpeg"), "-hide_banner", "-version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ffmpeg version n8.1"), result.stdout[:200]


def test_layer_licences(layer_asset: Path) -> None:
    licences = layer_asset / "licenses" / "ffmpeg"
    gpl = licences / "LICENSE.GPL-3.0.txt"
    assert "GNU GENERAL PUBLIC LICENSE" in gpl.read_text()
    assert "Version 3" in gpl.read_text()
    notice = (licences / "NOTICE.md").read_text()
    assert "n8.1" in notice
    assert sorted(p.relative_to(layer_asset).as_posix() for p in layer_asset.rglob("*") if p.is_file()) == [
        "bin/ffmpeg",
        "bin/ffprobe",
        "licenses/ffmpeg/LICENSE.GPL-3.0.txt",
        "licenses/ffmpeg/NOTICE.md",
    ]


def test_layer_build_for_arm64(tmp_path: Path) -> None:
    out = tmp_path / "ffmpeg-arm64"
    result = subprocess.run(
        [sys.executable, str(BUILD_LAYER), "--architecture", "arm64", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for tool in ("ffmpeg", "ffprobe"):
        binary = out / "bin" / tool
        assert os.access(binary, os.X_OK), tool
        assert _elf_machine(binary) == EM_AARCH64, tool
    assert (out / "licenses" / "ffmpeg" / "LICENSE.GPL-3.0.txt").is_file()


def test_layer_version_is_the_locked_one() -> None:
    source = BUILD_LAYER.read_text()
    pinned = re.search(r'^VERSION = "([^"]+)"$', source, re.MULTILINE)
    package = re.search(r'^PACKAGE = "([^"]+)"$', source, re.MULTILINE)
    assert pinned and package
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (locked,) = [p["version"] for p in lock["package"] if p["name"] == package.group(1)]
    assert pinned.group(1) == locked


def test_bundling_works_when_the_cdk_cli_forces_colour(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CDK CLI runs the app with colour forced on; uv's output must still be a clean requirements file."""
    from infra.bundling import bundle_functions

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("CLICOLOR_FORCE", "1")
    bundle_functions(str(tmp_path), "x86_64")
    assert (tmp_path / "pydantic_core").is_dir()
    assert (tmp_path / "handlers" / "api.py").is_file()


def test_console_asset_is_the_built_page_and_its_handler_only(synthesized: Synthesized) -> None:
    """The console's function carries its static files and a standard-library handler, nothing of the API's."""
    _, function = synthesized.function_by_handler(CONSOLE_HANDLER)
    asset = _asset_dir(synthesized, function["Properties"]["Code"])
    files = sorted(str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file())
    assert files == [
        "console/console.css",
        "console/console.js",
        "console/index.html",
        "handlers/__init__.py",
        "handlers/console_site.py",
    ]
    assert sum((asset / f).stat().st_size for f in files) < MAX_CONSOLE_ASSET_BYTES
    # hls.js is bundled from node_modules: the page loads nothing from another site.
    page = (asset / "console" / "index.html").read_text()
    assert "http" not in page
    assert "hlsManifestParsed" in (asset / "console" / "console.js").read_text()
