"""The web console's static files: what the console function serves, and how local mode routes to it."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from handlers import console_site
from localmode.http_api import to_rest_event


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "console.js").write_text("console.log('hi')")
    (tmp_path / "console.css").write_text("body{}")
    (tmp_path / "notes.md").write_text("not served")
    monkeypatch.setenv("CONSOLE_SITE_DIR", str(tmp_path))
    console_site._files.cache_clear()
    yield tmp_path
    console_site._files.cache_clear()


def _get(path: str, method: str = "GET", public_path: str | None = None) -> dict[str, Any]:
    event = {"httpMethod": method, "path": path, "requestContext": {"path": public_path or f"/v1{path}"}}
    return console_site.handler(event, None)


def test_the_page_and_its_files_with_their_types_and_a_strict_csp(site: Path) -> None:
    page = _get("/console/")
    assert page["statusCode"] == 200
    assert page["body"] == (site / "index.html").read_text()
    assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert page["headers"]["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert page["headers"]["X-Content-Type-Options"] == "nosniff"
    assert _get("/console/console.js")["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert _get("/console/console.css")["body"] == "body{}"


def test_the_bare_path_redirects_to_the_folder_keeping_the_stage(site: Path) -> None:
    answer = _get("/console", public_path="/v1/console")
    assert answer["statusCode"] == 301
    assert answer["headers"]["Location"] == "/v1/console/"


@pytest.mark.parametrize(
    "path",
    [
        "/console/notes.md",  # in the folder, but not a file the build writes
        "/console/../pyproject.toml",
        "/console/..%2F..%2Fpyproject.toml",
        "/console//etc/passwd",
        "/console/sub/index.html",
    ],
)
def test_only_the_built_files_are_served_by_name(site: Path, path: str) -> None:
    assert _get(path)["statusCode"] == 404


def test_only_reads(site: Path) -> None:
    answer = _get("/console/", method="POST")
    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == "GET, HEAD"
    head = _get("/console/", method="HEAD")
    assert (head["statusCode"], head["body"]) == (200, "")


def test_an_unbuilt_console_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSOLE_SITE_DIR", raising=False)
    monkeypatch.setattr(console_site, "_CANDIDATE_DIRS", (tmp_path / "none",))
    with pytest.raises(FileNotFoundError, match="make console"):
        console_site.site_dir()


@pytest.mark.parametrize(
    ("target", "function_path"),
    [("/", "/console/"), ("/console.js", "/console/console.js"), ("/console/", "/console/"), ("/console", "/console")],
)
def test_local_mode_serves_the_console_at_its_root(target: str, function_path: str) -> None:
    event = to_rest_event("GET", target, {}, b"", "127.0.0.1")
    assert event["path"] == function_path
    assert event["resource"] in ("/console", "/console/{file}")
    assert event["requestContext"]["path"] == target


def test_local_mode_still_sends_the_api_to_the_api_function() -> None:
    event = to_rest_event("GET", "/api/list_task?count=1", {}, b"", "127.0.0.1")
    assert event["resource"] == "/api/{proxy+}"
    assert event["queryStringParameters"] == {"count": "1"}
