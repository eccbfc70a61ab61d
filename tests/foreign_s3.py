"""A second, S3-compatible endpoint that enforces credentials: `python -m tests.foreign_s3 <port>`.

It stands for another cloud or account (an OSS/OBS endpoint, or another AWS account): moto's server in
its own process (its own buckets and users, apart from the deployment's emulator), with
INITIAL_NO_AUTH_ACTION_COUNT set by the caller, so that after the setup actions (an IAM user, its access
key, its policy, the bucket) every request must be signed by a key moto knows.

moto checks the Authorization header only; a presigned URL (how ffmpeg reads inputs) carries its SigV4
signature in the query string, which moto would not check. This process adds that check, so a URL
signed with a wrong key or secret is refused (403) like the header-signed requests are.
"""

import base64
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import boto3
from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import CreateAccessKeyFailure, IAMUserAccessKey
from moto.s3.exceptions import AccessForbidden
from moto.server import ThreadedMotoServer


def _quote(value: str) -> str:
    return quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def presigned_signature(
    method: str, raw_path: str, query: str, headers: Any, secret_key: str
) -> tuple[str, dict[str, str]]:
    """The SigV4 query-string signature (AWS's "Authenticating Requests: Using Query Parameters")."""
    pairs = parse_qsl(query, keep_blank_values=True)
    params = dict(pairs)
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    signed = params["X-Amz-SignedHeaders"]
    canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(pairs) if k != "X-Amz-Signature")
    canonical_headers = "".join(f"{name}:{str(headers.get(name, '')).strip()}\n" for name in signed.split(";"))
    request = "\n".join([method, raw_path, canonical_query, canonical_headers, signed, "UNSIGNED-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(request.encode()).hexdigest()])
    date, region, service, terminal = scope.split("/")
    key = _hmac(("AWS4" + secret_key).encode(), date)
    for part in (region, service, terminal):
        key = _hmac(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), params


_original = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    enforcing = ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT
    if not enforcing or "Authorization" in self.headers:
        _original(self, iam_request_cls, resource)
        return
    query = urlsplit(self.uri).query
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "X-Amz-Signature" in params:  # SigV4
        access_key_id = params.get("X-Amz-Credential", "").split("/", 1)[0]
        secret_key = _secret_of(self.current_account, access_key_id)
        expected, _ = presigned_signature(self.method, self.raw_path, query, self.headers, secret_key)
        issued = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        expires = issued + int(params["X-Amz-Expires"])
    elif "Signature" in params and "AWSAccessKeyId" in params:  # the older query signature (OSS's "s3")
        secret_key = _secret_of(self.current_account, params["AWSAccessKeyId"])
        expected = presigned_signature_v2(self.method, self.raw_path, params["Expires"], secret_key)
        expires = int(params["Expires"])
    else:
        raise AccessForbidden("Anonymous access is not allowed on this endpoint")
    if not hmac.compare_digest(expected, params.get("X-Amz-Signature") or params["Signature"]):
        raise AccessForbidden("The request signature we calculated does not match the signature you provided.")
    if time.time() > expires:
        raise AccessForbidden("Request has expired")


def presigned_signature_v2(method: str, raw_path: str, expires: str, secret_key: str) -> str:
    """Signature version 2 in a query string: HMAC-SHA1 of verb, (empty MD5, type), expiry and resource."""
    to_sign = f"{method}\n\n\n{expires}\n{unquote(raw_path)}"
    return base64.b64encode(hmac.new(secret_key.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def _secret_of(account_id: str, access_key_id: str) -> str:
    try:
        known = IAMUserAccessKey(account_id, "aws", access_key_id, {})
    except CreateAccessKeyFailure as exc:
        raise AccessForbidden("The AWS Access Key Id you provided does not exist in our records.") from exc
    return str(known.create_credentials().secret_key)


def main() -> None:
    port = int(sys.argv[1])
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()


# --- for the tests: start one, with a user and a bucket ------------------------------------------

SETUP_ACTIONS = 4
"""create_user, create_access_key, put_user_policy, create_bucket: authentication starts after these."""
_FULL_S3 = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'


@dataclass(frozen=True)
class ForeignEndpoint:
    url: str
    bucket: str
    access_key: str
    secret_key: str

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
        )


@contextmanager
def foreign_endpoint(bucket: str = "foreignbucket") -> Iterator[ForeignEndpoint]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_ACTIONS), "PYTHONPATH": str(root)}
    environment.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.foreign_s3", str(port)],
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != b"ready":
            raise RuntimeError("the foreign S3 endpoint did not start")
        url = f"http://127.0.0.1:{port}"
        setup = {"endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "setup"}
        iam = boto3.client("iam", **setup, aws_secret_access_key="setup")
        iam.create_user(UserName="partner")
        key = iam.create_access_key(UserName="partner")["AccessKey"]
        iam.put_user_policy(UserName="partner", PolicyName="s3", PolicyDocument=_FULL_S3)
        boto3.client("s3", **setup, aws_secret_access_key="setup").create_bucket(Bucket=bucket)
        yield ForeignEndpoint(url, bucket, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        process.wait(timeout=10)
