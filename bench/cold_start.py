"""The API cold start figure: import time of `handlers.api` ÷ import time of `boto3` alone, in one run.

Seconds of import time on a shared 2-core machine move by ±30 % between runs; the ratio of two imports
measured in alternating fresh processes of the same run is what can be compared across runs. boto3 is
the floor every Python AWS function pays.

Both sides import from bytecode, as on Lambda (the asset is precompiled): the processes write and read
their .pyc files in a scratch PYTHONPYCACHEPREFIX after one warm-up import of each side.
"""

import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
API_MODULE = "handlers.api"
SDK_MODULE = "boto3"
TARGET_RATIO = 1.5
# What a first signed request loads that the import defers (the handler's lazily imported domain modules).
FIRST_REQUEST_LOADS = ("keys.enabled_secret", "nonces.claim", "repository.get", "tasks.task_view")
_HANDLER_ENVIRONMENT = {
    "TASK_TABLE": "t",
    "INPUT_BUCKET": "i",
    "OUTPUT_BUCKET": "o",
    "WORK_BUCKET": "w",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "transcoder",
}


def import_ms(python: str, module: str, env: dict[str, str]) -> float:
    """Cumulative `-X importtime` of `module` in a fresh process, in milliseconds."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", f"import {module}"], env=env, capture_output=True, text=True
    )
    match = re.search(rf"import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}\s*$", done.stderr, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no import time for {module} in:\n{done.stderr[-2000:]}")
    return int(match.group(1)) / 1000


def first_request_imports_ms(python: str, env: dict[str, str]) -> float:
    """Wall time of importing the handler and then loading what a first signed request loads."""
    touch = ", ".join(f"api.{name}" for name in FIRST_REQUEST_LOADS)
    code = (
        "import time; start = time.perf_counter()\n"
        f"import {API_MODULE} as api; {touch}\n"
        "print((time.perf_counter() - start) * 1000)"
    )
    done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def measure(python: str, pythonpath: str, runs: int, pycache: str) -> dict[str, Any]:
    """`runs` imports of each side, alternating which goes first; medians and their ratio."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(_HANDLER_ENVIRONMENT, PYTHONPATH=pythonpath, PYTHONPYCACHEPREFIX=pycache)
    for module in (API_MODULE, SDK_MODULE):  # warm-up: writes the bytecode the measured runs read
        import_ms(python, module, env)
    api: list[float] = []
    sdk: list[float] = []
    first_request: list[float] = []
    for run in range(runs):
        pair = [(API_MODULE, api), (SDK_MODULE, sdk)]
        for module, times in pair if run % 2 == 0 else reversed(pair):
            times.append(import_ms(python, module, env))
        first_request.append(first_request_imports_ms(python, env))
    api_median, sdk_median = statistics.median(api), statistics.median(sdk)
    return {
        "api_cold_start_ratio": round(api_median / sdk_median, 2),
        "handlers_api_ms_median": round(api_median, 1),
        "boto3_ms_median": round(sdk_median, 1),
        "handlers_api_ms": [round(t, 1) for t in api],
        "boto3_ms": [round(t, 1) for t in sdk],
        "with_first_request_imports_ms_median": round(statistics.median(first_request), 1),
    }


def _lambda_asset(scratch: str, python_version: str) -> tuple[str, str] | str:
    """(interpreter, PYTHONPATH) of the bundled asset beside the locked SDK, or why it cannot be measured."""
    from infra.bundling import bundle_functions, find_interpreter

    interpreter = find_interpreter(python_version)
    if interpreter is None:
        return f"no local CPython {python_version}"
    asset, sdk = os.path.join(scratch, "asset"), Path(scratch, "runtime-sdk")
    bundle_functions(asset, "x86_64", python_version)
    # The runtime provides the SDK, which the asset leaves out: the locked one, linked from this environment.
    site_packages = Path(sysconfig.get_paths()["purelib"])
    sdk.mkdir()
    for name in ("boto3", "botocore", "s3transfer"):
        (sdk / name).symlink_to(site_packages / name)
    return interpreter, f"{asset}{os.pathsep}{sdk}"


def api_cold_start(runs: int = 7, lambda_python: str = "3.13") -> dict[str, Any]:
    """The figure with the local interpreter and, when one exists, with the Lambda runtime's CPython."""
    with tempfile.TemporaryDirectory(prefix="transcoder-cold-start-") as scratch:
        local = measure(sys.executable, f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'client'}", runs, f"{scratch}/pyc")
        asset = _lambda_asset(scratch, lambda_python)
        if isinstance(asset, str):
            on_runtime: dict[str, Any] = {"skipped": asset}
        else:
            on_runtime = measure(*asset, runs, f"{scratch}/pyc-asset")
    return {
        "figure": "API cold start",
        **local,
        "target_ratio": TARGET_RATIO,
        "python": f"{sys.version.split()[0]} ({sys.executable}), functions/ and client/ from the source tree",
        f"bundled_asset_python{lambda_python}": on_runtime,
        "method": (
            f"python -X importtime -c 'import {API_MODULE}' ÷ python -X importtime -c 'import {SDK_MODULE}', "
            f"cumulative, {runs} fresh processes of each alternating (order swapped every run) after one warm-up "
            "each, medians; bytecode in a scratch PYTHONPYCACHEPREFIX. with_first_request_imports_ms: in-process "
            f"wall time of importing {API_MODULE} and then loading what a first signed request loads "
            f"({', '.join(FIRST_REQUEST_LOADS)}): the import's deferred part is paid there"
        ),
    }
