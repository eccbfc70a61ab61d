"""The web console's static files, served at /console/ by a function of their own (API Gateway REST proxy).

Standard library only, and in an asset of its own: serving the console adds nothing to the API function's
package or cold start. Only the files the build wrote are served, looked up by exact name: a path never
reaches the file system.
"""

import os
from functools import cache
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
# In the function's asset the build sits beside handlers/ (console/); in a checkout, at console/dist.
_CANDIDATE_DIRS = (_HERE.parent / "console", _HERE.parents[1] / "console" / "dist")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# The page loads only its own files. Media and hls.js's requests go to the outputs' presigned URLs (S3 over
# https; local mode's emulator over http), and hls.js runs its demuxer in a blob: worker.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob: https: http:; connect-src 'self' https: http:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def site_dir() -> Path:
    explicit = os.environ.get("CONSOLE_SITE_DIR")
    if explicit:
        return Path(explicit)
    found = next((d for d in _CANDIDATE_DIRS if (d / "index.html").is_file()), None)
    if found is None:
        raise FileNotFoundError("the console is not built: run `make console`")
    return found


@cache
def _files() -> dict[str, tuple[str, str]]:
    """Each file the build wrote, by name: (content type, text)."""
    root = site_dir()
    return {
        path.name: (_TYPES[path.suffix], path.read_text(encoding="utf-8"))
        for path in root.iterdir()
        if path.is_file() and path.suffix in _TYPES
    }


def _answer(status: int, body: str, content_type: str, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**_SECURITY_HEADERS, "Content-Type": content_type, **headers},
        "body": body,
        "isBase64Encoded": False,
    }


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    path = str(event.get("path") or "")
    if event.get("httpMethod") not in ("GET", "HEAD"):
        return _answer(405, "method not allowed\n", _TYPES[".txt"], Allow="GET, HEAD")
    if path in ("/console", ""):
        # Relative links in the page need the trailing slash; the stage (/v1) is part of the public path.
        public = str((event.get("requestContext") or {}).get("path") or path)
        return _answer(301, "", _TYPES[".txt"], Location=public.rstrip("/") + "/")
    name = path.removeprefix("/console/") or "index.html"
    found = _files().get(name)
    if found is None:
        return _answer(404, "not found\n", _TYPES[".txt"])
    content_type, text = found
    return _answer(200, "" if event.get("httpMethod") == "HEAD" else text, content_type)
