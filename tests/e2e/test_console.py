"""The web console in a real browser: Debian's headless Chromium driven by Playwright, against local mode.

One module, one browser, the session's local mode: sign in, create a task from a generated clip, watch it
reach success in the list, open it (every query_task field, the MP4 playing in <video>), a failed task's
err_message, templates and storages. Every API request the page sends is checked with the server's own
verifier as well, so the browser's signing (WebCrypto HMAC-SHA1, X-WZ-Date) is proven, not assumed.

Set CONSOLE_SCREENSHOTS=docs/screenshots to refresh the README's screenshots.
"""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from localmode.media import generate_clip
from tests.e2e.conftest import Local
from transcoder.auth.verify import AuthFailure, SignedRequest, verify

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
ROOT = Path(__file__).resolve().parents[2]


class SignedRequests:
    """Every /api/ request the page sends, as the server's verifier sees it."""

    def __init__(self) -> None:
        self.seen: list[SignedRequest] = []

    def record(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if not parts.path.startswith("/api/"):
            return
        body = request.post_data_buffer or b""
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.seen.append(SignedRequest(request.method, parts.path, parse_qsl(parts.query), headers, body))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not (ROOT / "console" / "dist" / "index.html").exists():
        pytest.fail("the console is not built: `make console`")
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: `make chromium` (apt-get install chromium) installs it")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 860},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    target = os.environ.get("CONSOLE_SCREENSHOTS")
    if target:
        for png in folder.glob("*.png"):
            shutil.copy(png, ROOT / target / png.name)


def _sign_in(page: Any, local: Local, screenshots: Path) -> None:
    page.goto(f"{local.api_url}/")
    page.fill("input[name=ak]", local.access_key_id)
    page.fill("input[name=sk]", local.secret_access_key)
    page.screenshot(path=screenshots / "console-sign-in.png")
    page.click("#sign-in button[type=submit]")
    page.wait_for_selector("#tasks")


def test_console_signs_in_runs_a_task_and_plays_it(
    local: Local, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    signed = SignedRequests()
    page.on("request", signed.record)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The console is served by local mode at / with a CSP, the API beside it (same origin: no CORS).
    response = page.goto(f"{local.api_url}/")
    assert response is not None and response.ok
    assert "default-src 'self'" in response.headers["content-security-policy"]
    _sign_in(page, local, screenshots)
    # The key lives in this tab's sessionStorage only.
    stored = page.evaluate("() => [sessionStorage.length, localStorage.length, document.cookie]")
    assert stored == [1, 0, ""]

    clip = generate_clip(str(tmp_path / "console clip.mp4"), seconds=3, size="640x360", rate=25)
    input_url = local.upload(clip, "console/console clip.mp4")

    page.goto(f"{local.api_url}/#/new")
    page.wait_for_selector("#new-task select[name=template_name] option[value=MP4_264_360p]", state="attached")
    page.fill("input[name=input]", input_url)
    page.fill("input[name=output]", "console/clip é 360p")  # non-ASCII: the body's MD5 is of its UTF-8 bytes
    page.select_option("select[name=template_name]", "MP4_264_360p")
    page.click("#new-task button[type=submit]")
    page.wait_for_url("**/#/tasks/*")
    task_id = page.url.rsplit("/", 1)[1]

    # The list polls: the task shows up and reaches success with a full progress bar.
    page.goto(f"{local.api_url}/#/tasks")
    row = page.locator(f'#tasks tr[data-task-id="{task_id}"][data-status="success"]')
    row.wait_for()
    assert row.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    page.screenshot(path=screenshots / "console-tasks.png")

    row.locator("a").click()
    page.wait_for_selector('#task-fields tr[data-field="output_url"] a')
    task = local.client.query_task(task_id)
    shown = page.locator("#task-fields tr").evaluate_all("rows => rows.map(r => r.dataset.field)")
    assert set(shown) == set(task)  # every query_task field
    assert page.locator('#task-fields tr[data-field="dst_height"] td').inner_text() == "360"
    # The MP4 output plays in the page.
    page.wait_for_function("() => document.querySelector('#player').readyState >= 2")
    page.evaluate("() => document.querySelector('#player').play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.5")
    page.screenshot(path=screenshots / "console-task.png", full_page=True)

    # An HLS ladder plays from the private bucket: hls.js asks output_playlist (signed) for each playlist and
    # loads the segments from the presigned URLs in it.
    hls_id = local.client.create_task(input_url, "console/clip-hls", template_name="HLS_264_ladder")["task_id"]
    assert local.client.wait(hls_id, interval=0.1, timeout=120)["status"] == "success"
    page.goto(f"{local.api_url}/#/tasks/{hls_id}")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 2")
    page.evaluate("() => document.querySelector('#player').play()")
    page.wait_for_function("() => document.querySelector('#player').currentTime > 0.5")
    assert page.locator("#player-error").count() == 0
    assert any(seen.path == "/api/output_playlist" for seen in signed.seen), "playlists come from the signed route"

    # A failed task: its err_message, as query_task gives it.
    missing = f"s3://{local.input_bucket}/console/missing.mp4"
    failed_id = local.client.create_task(missing, "console/missing", template_name="MP4_264_360p")["task_id"]
    failed = local.client.wait(failed_id, interval=0.1, timeout=60)
    assert failed["status"] == "fail"
    page.goto(f"{local.api_url}/#/tasks/{failed_id}")
    assert page.locator("#err-message").inner_text() == f"{failed['err_code']}: {failed['err_message']}"

    page.goto(f"{local.api_url}/#/templates")
    page.wait_for_selector("#templates")
    assert "MP4_264_360p" in page.locator("#templates").inner_text()
    page.fill("#add-template input[name=name]", "console_480p")
    page.fill("#add-template input[name=resolution]", "480p")
    page.click("#add-template button[type=submit]")
    page.wait_for_selector("#templates >> text=console_480p")
    page.screenshot(path=screenshots / "console-templates.png", full_page=True)
    page.locator("#templates tr", has_text="console_480p").locator("button").click()
    page.wait_for_selector("#templates >> text=console_480p", state="detached")

    page.goto(f"{local.api_url}/#/storages")
    page.wait_for_selector("#storages >> text=default")

    assert errors == []
    # Every request the page signed passes the server's own verifier (each nonce used once).
    assert {(r.method, r.path) for r in signed.seen} >= {
        ("GET", "/api/list_storage"),
        ("GET", "/api/list_task"),
        ("POST", "/api/create_task"),
        ("GET", "/api/query_task"),
        ("POST", "/api/add_template"),
        ("DELETE", "/api/del_template"),
    }
    secrets = {local.access_key_id: ("default", local.secret_access_key)}
    nonces: set[str] = set()

    def claim(access_key_id: str, nonce: str) -> bool:
        fresh = nonce not in nonces
        nonces.add(nonce)
        return fresh

    for request in signed.seen:
        try:
            verify(request, now=time.time(), secret_of=secrets.get, claim_nonce=claim)
        except AuthFailure as failure:
            pytest.fail(f"{request.method} {request.path}: {failure}")


@pytest.mark.skipif(
    not (ROOT / "functions" / "handlers" / "upload_routes.py").exists(),
    reason="create_upload (the upload route) is not in this checkout",
)
def test_console_drop_zone_uploads_a_file_that_becomes_a_task(
    local: Local, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    _sign_in(page, local, screenshots)
    clip = generate_clip(str(tmp_path / "dropped.mp4"), seconds=2, size="640x360", rate=25)

    page.goto(f"{local.api_url}/#/new")
    page.wait_for_selector("#new-task select[name=template_name] option[value=MP4_264_360p]", state="attached")
    # What a drop does: the file input of the drop zone takes the same path (Playwright cannot drag from disk).
    page.set_input_files("#upload-file", str(clip))
    page.wait_for_selector("#upload-status >> text=Uploaded dropped.mp4")
    input_url = page.input_value("input[name=input]")
    assert input_url.startswith(f"s3://{local.input_bucket}/accounts/default/uploads/")
    assert input_url.endswith("/dropped.mp4")
    assert page.input_value("input[name=output]") == "uploads/dropped"
    page.screenshot(path=screenshots / "console-upload.png")
    page.select_option("select[name=template_name]", "MP4_264_360p")
    page.click("#new-task button[type=submit]")
    page.wait_for_url("**/#/tasks/*")
    task_id = page.url.rsplit("/", 1)[1]
    assert local.client.wait(task_id, interval=0.1, timeout=60)["status"] == "success"
