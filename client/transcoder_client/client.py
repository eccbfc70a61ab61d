"""The Python client of the transcoding API (api.md): every call signed, answers unwrapped, errors typed."""

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transcoder_client import __version__, config
from transcoder_client.errors import (
    ApiError,
    ConfigError,
    InternalError,
    ThrottledError,
    TransportError,
)
from transcoder_protocol.signing import signed_headers

TERMINAL_STATUSES = frozenset({"success", "fail", "cancelled"})
API_PREFIX = "/api/"
USER_AGENT = f"transcoder-client/{__version__}"
RETRIED_METHODS = frozenset({"GET", "HEAD", "DELETE"})
"""Calls sent again after a lost answer, a 5xx or a 429: reads, and deletes (every DELETE names its ids).
POST and PUT are sent once, except create_task with a client_token (the API answers a repeat with the
first task: functions/handlers/client_token.py)."""

Params = Mapping[str, str | int | float | bool | None]
ProgressCallback = Callable[[dict[str, Any]], None]


def check_http_url(url: str, what: str) -> str:
    """Only http(s): urllib would also open file:// and ftp://, which no answer of this API should lead to."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{what} must be an http(s) URL, not {scheme or 'a relative URL'!r}")
    return url


def open_url(request: urllib.request.Request, timeout: float) -> Any:
    check_http_url(request.full_url, "URL")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - scheme checked above


@dataclass(frozen=True)
class Response:
    """One answer as received: the HTTP status and the decoded JSON body (or its text when not JSON)."""

    http_status: int
    body: Any


class Client:
    """A signed client of one deployment (or of local mode).

    `endpoint` is the base URL the API's `/api/...` paths hang off: `http://127.0.0.1:8080` for local mode,
    the stack's `ApiUrl` output (with its stage, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod`)
    for a deployment.
    """

    def __init__(
        self,
        endpoint: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 10.0,
    ) -> None:
        """`retries`: how many times a retried call (see RETRIED_METHODS) is sent again after no answer, a 5xx
        or a 429, waiting a random time up to `backoff * 2**attempt` seconds (at most `max_backoff`) first."""
        self.endpoint = check_http_url(endpoint.rstrip("/"), "endpoint")
        self.access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    @classmethod
    def from_profile(
        cls,
        name: str | None = None,
        *,
        config_path: str | Path | None = None,
        timeout: float = 30.0,
        retries: int = 3,
    ) -> "Client":
        """A client with the settings the `transcoder` command uses with `--profile name`.

        Each setting from the environment (TRANSCODER_ENDPOINT, ...) else the profile's table in the config
        file (~/.config/transcoder/config.toml, or $TRANSCODER_CONFIG, or `config_path`). The profile is
        `name`, else $TRANSCODER_PROFILE, else `default`; ConfigError when a named profile is missing.
        """
        settings = config.resolve(profile=name, config_path=Path(config_path) if config_path else None)
        for warning in settings.warnings:
            warnings.warn(warning, stacklevel=2)
        if not settings.endpoint:
            raise ConfigError(
                f"no endpoint: set ${config.ENV_ENDPOINT} or `endpoint` in profile [{settings.profile}] of "
                f"{config_path or config.default_config_path(os.environ)}"
            )
        return cls(
            settings.endpoint, settings.access_key_id, settings.secret_access_key, timeout=timeout, retries=retries
        )

    def __repr__(self) -> str:  # never the secret
        return f"Client(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    # -- the HTTP exchange -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
        signed: bool = True,
        retry: bool | None = None,
    ) -> Response:
        """One signed HTTP call of `path` (e.g. `/api/query_task`); the answer as it came, whatever its code.

        GET parameters go in the query string and are signed decoded, as the server reads them; a JSON body
        is serialized once and those exact bytes are both signed (Content-MD5) and sent. With `retry` (by
        default for RETRIED_METHODS) no answer, a 5xx or a 429 is tried again, each attempt signed anew
        (a fresh Date and nonce: the API refuses a replayed one).
        """
        method = method.upper()
        retry = method in RETRIED_METHODS if retry is None else retry
        attempt = 0
        while True:
            try:
                response = self._send(method, path, params=params, body=body, signed=signed)
            except TransportError:
                if not retry or attempt >= self.retries:
                    raise
            else:
                if not retry or attempt >= self.retries or not _worth_retrying(response.http_status):
                    return response
            time.sleep(self._delay(attempt))
            attempt += 1

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter: clients that failed together do not come back together."""
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - a wait, not a secret

    def _send(self, method: str, path: str, *, params: Params | None, body: Any, signed: bool) -> Response:
        pairs = [(name, _query_value(value)) for name, value in (params or {}).items() if value is not None]
        query = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if signed:
            access_key_id, secret_access_key = self._keys()
            # Sign what the server will decode from the query string we send, not the pairs we meant.
            sent_pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
            headers |= signed_headers(
                access_key_id=access_key_id,
                secret_access_key=secret_access_key,
                method=method,
                path=path,
                query=sent_pairs,
                body=data,
            )
        elif data:
            headers["Content-Type"] = "application/json"
        url = self.endpoint + path + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        try:
            with open_url(request, self.timeout) as answer:
                return Response(answer.status, _decode(answer.read()))
        except urllib.error.HTTPError as error:
            try:
                return Response(error.code, _decode(error.read()))
            finally:
                error.close()
        except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise TransportError(f"{method} {self.endpoint}{path}: {reason}") from error

    def call(
        self,
        method: str,
        name: str,
        *,
        params: Params | None = None,
        body: Any = None,
        signed: bool = True,
        retry: bool | None = None,
    ) -> Any:
        """Call endpoint `name` (e.g. `query_task`): its `data` on code 0, otherwise ApiError."""
        response = self.request(method, API_PREFIX + name, params=params, body=body, signed=signed, retry=retry)
        envelope = response.body
        if isinstance(envelope, dict) and envelope.get("code") == 0 and response.http_status < 400:
            return envelope.get("data")
        raise ApiError.from_response(response.http_status, envelope)

    def _keys(self) -> tuple[str, str]:
        if not self.access_key_id or not self._secret_access_key:
            raise ConfigError(
                "no access key: set TRANSCODER_ACCESS_KEY_ID and TRANSCODER_SECRET_ACCESS_KEY or a config profile"
            )
        return self.access_key_id, self._secret_access_key

    # -- tasks -------------------------------------------------------------------------------------

    def create_task(
        self,
        input: str,
        output: str,
        *,
        template_name: str | None = None,
        template_id: str | None = None,
        storage_id: str | None = None,
        callback_url: str | None = None,
        client_token: str | None = None,
        max_cost: float | None = None,
    ) -> dict[str, Any]:
        """`{task_id}`. With a client_token, the same token returns the same task. With max_cost (USD), a task
        whose estimated cost is higher ends `fail` 2006 before any encode."""
        fields = {
            "input": input,
            "output": output,
            "template_name": template_name,
            "template_id": template_id,
            "storage_id": storage_id,
            "callback_url": callback_url,
            "client_token": client_token,
            "max_cost": max_cost,
        }
        # With a client_token a repeat is answered with the first call's task, so a lost answer can be retried.
        body = _present(fields)
        return self._data(self.call("POST", "create_task", body=body, retry=client_token is not None))

    def query_task(self, task_id: str) -> dict[str, Any]:
        return self._data(self.call("GET", "query_task", params={"task_id": task_id}))

    def list_tasks(
        self, start_time: int, end_time: int, *, status: str | None = None, start_num: int = 0, count: int = 50
    ) -> dict[str, Any]:
        """`{list, total, num}`: tasks created in [start_time, end_time] (unix seconds), newest first."""
        params = {"start_time": start_time, "end_time": end_time, "status": status, "start_num": start_num}
        return self._data(self.call("GET", "list_task", params={**params, "count": count}))

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        return self._data(self.call("POST", "cancel_task", body={"task_id": task_id}))

    def delete_task(self, task_id: str) -> None:
        self.call("DELETE", "del_task", body={"task_id": task_id})

    def list_summary(self, start_time: int | None = None, end_time: int | None = None) -> dict[str, Any]:
        """Per-hour counts; start_time and end_time are hours ago (the API's defaults: 48 and 24)."""
        params = {"start_time": start_time, "end_time": end_time}
        return self._data(self.call("GET", "list_summary", params=params))

    def wait(
        self,
        task_id: str,
        on_progress: ProgressCallback | None = None,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        transient_retries: int = 5,
    ) -> dict[str, Any]:
        """Poll query_task until the task is success, fail or cancelled; the final task.

        A watch outlives blips: up to `transient_retries` consecutive throttles, 1000s or transport errors
        are waited out; anything else (1003, 1004, ...) is raised at once. TimeoutError after `timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        failures = 0
        while True:
            try:
                task = self.query_task(task_id)
                failures = 0
            except (ThrottledError, InternalError, TransportError):
                failures += 1
                if failures > transient_retries:
                    raise
                task = None
            if task is not None:
                if on_progress:
                    on_progress(task)
                if task.get("status") in TERMINAL_STATUSES:
                    return task
            if deadline is not None and time.monotonic() >= deadline:
                status = task.get("status") if task else "unknown"
                raise TimeoutError(f"task {task_id} still {status} after {timeout} s")
            time.sleep(interval * (2 ** min(failures, 4)))

    def download(self, task: dict[str, Any] | str, path: str) -> list[str]:
        """Download a successful task's output to `path` (a file, or a directory to put it in); the files written.

        `task` is query_task's data or a task id. See transcoder_client.download for multi-file (HLS) outputs.
        """
        from transcoder_client.download import download_output

        data = self.query_task(task) if isinstance(task, str) else task
        return download_output(data, path, timeout=max(self.timeout, 60.0))

    def create_upload(self, filename: str, size: int, content_type: str) -> dict[str, Any]:
        """(ext) A presigned S3 POST form for one file: `{url, fields, input, key, content_type, max_bytes, ...}`."""
        body = {"filename": filename, "size": size, "content_type": content_type}
        return self._data(self.call("POST", "create_upload", body=body))

    def upload(
        self,
        path: str,
        output: str | None = None,
        *,
        template_name: str | None = None,
        template_id: str | None = None,
        content_type: str | None = None,
        wait: bool = False,
        on_progress: ProgressCallback | None = None,
        **create_options: Any,
    ) -> dict[str, Any]:
        """Transcode a file from disk: upload it to your part of the input bucket (create_upload's presigned
        POST, streamed), create the task, and return it (with `wait`, once it has ended).

        `output` defaults to the file's name without its extension; `content_type` to the one its extension
        names. `create_options` go to create_task (storage_id, callback_url, client_token).
        """
        from transcoder_client.upload import UploadError, guess_content_type, post_file

        name = os.path.basename(path)
        content_type = content_type or guess_content_type(path)
        if not content_type:
            raise UploadError(f"{name}: cannot tell its media type from the extension; give content_type")
        size = os.path.getsize(path)
        form = self.create_upload(name, size, content_type)
        post_file(form, path, file_size=size, timeout=max(self.timeout, 60.0))
        created = self.create_task(
            form["input"],
            output or os.path.splitext(name)[0],
            template_name=template_name,
            template_id=template_id,
            **create_options,
        )
        if wait:
            return self.wait(created["task_id"], on_progress)
        return self.query_task(created["task_id"])

    # -- templates ---------------------------------------------------------------------------------

    def add_template(self, name: str, **fields: Any) -> dict[str, Any]:
        """The new template. Fields as in api.md: format, quality, framerate, resolution, vcodec, ..."""
        return self._data(self.call("POST", "add_template", body=_present({"name": name, **fields})))

    def query_template(self, *, name: str | None = None, template_id: str | None = None) -> dict[str, Any]:
        return self._data(self.call("GET", "query_template", params=_identify(name=name, template_id=template_id)))

    def update_template(self, name: str, **fields: Any) -> dict[str, Any]:
        return self._data(self.call("PUT", "update_template", body=_present({"name": name, **fields})))

    def list_templates(self) -> dict[str, Any]:
        """`{list, num}`, built-ins first."""
        return self._data(self.call("GET", "list_template"))

    def del_template(self, *, name: str | None = None, template_id: str | None = None) -> None:
        self.call("DELETE", "del_template", body=_identify(name=name, template_id=template_id))

    # -- storages ----------------------------------------------------------------------------------

    def add_storage(
        self,
        type: str,
        region: str,
        bucket: str,
        *,
        prefix: str | None = None,
        storage_ak: str | None = None,
        storage_sk: str | None = None,
        notify: str | None = None,
        endpoint: str | None = None,
    ) -> dict[str, Any]:
        """`{storage_id}`."""
        fields = {"type": type, "region": region, "bucket": bucket, "prefix": prefix, "storage_ak": storage_ak}
        fields |= {"storage_sk": storage_sk, "notify": notify, "endpoint": endpoint}
        return self._data(self.call("POST", "add_storage", body=_present(fields)))

    def query_storage(self, storage_id: str) -> dict[str, Any]:
        return self._data(self.call("GET", "query_storage", params={"storage_id": storage_id}))

    def list_storages(self) -> dict[str, Any]:
        return self._data(self.call("GET", "list_storage"))

    def list_storage_types(self) -> dict[str, Any]:
        """The one call the contract leaves unsigned: it works without keys."""
        return self._data(self.call("GET", "list_storage_type", signed=False))

    def del_storage(self, storage_id: str) -> None:
        self.call("DELETE", "del_storage", body={"storage_id": storage_id})

    @staticmethod
    def _data(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ApiError.from_response(200, f"expected an object as data, got {type(data).__name__}")
        return data


def _worth_retrying(http_status: int) -> bool:
    """A fault of the service or a gateway, or throttling: the same request may succeed later."""
    return http_status >= 500 or http_status == 429


def _query_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that were given: an omitted optional field is left to the server's default."""
    return {name: value for name, value in fields.items() if value is not None}


def _identify(*, name: str | None, template_id: str | None) -> dict[str, str]:
    if bool(name) == bool(template_id):
        raise ValueError("give exactly one of name and template_id")
    return {"name": name} if name else {"template_id": str(template_id)}


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")
