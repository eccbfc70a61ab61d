"""A minimal HTTP client of the API, for the demo, the benchmark and the end-to-end tests."""

import json
import time
import urllib.error
import urllib.request
from typing import Any

TERMINAL = {"success", "fail", "cancelled"}


def _open(request: urllib.request.Request | str, timeout: float) -> Any:
    url = request.full_url if isinstance(request, urllib.request.Request) else request
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url[:40]}")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - scheme checked above


def call(api_url: str, method: str, path: str, body: Any = None, timeout: float = 30) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(api_url + path, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with _open(request, timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def create_task(api_url: str, **fields: Any) -> dict[str, Any]:
    status, body = call(api_url, "POST", "/api/create_task", fields)
    if status != 200 or body.get("code") != 0:
        raise RuntimeError(f"create_task failed: HTTP {status} {body}")
    return body


def wait_for_task(
    api_url: str, task_id: str, *, timeout: float = 600, interval: float = 0.1, on_poll: Any = None
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        _, body = call(api_url, "GET", f"/api/query_task?task_id={task_id}")
        data = body.get("data") or {}
        if on_poll:
            on_poll(data)
        if data.get("status") in TERMINAL:
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} still {data.get('status')} after {timeout} s")
        time.sleep(interval)


def download(url: str, path: str) -> None:
    with _open(url, 60) as response, open(path, "wb") as handle:
        while chunk := response.read(1 << 20):
            handle.write(chunk)
