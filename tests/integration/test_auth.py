"""Signature auth through the API function: every failure is 1003 (HTTP 401), and accounts never meet."""

import json
import time
from email.utils import formatdate

import boto3
import pytest

from tests.integration.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, Aws
from tests.integration.test_api_handler import VALID, _call, call_handler, signed_request_headers
from transcoder.auth import keys
from transcoder_protocol import signing

OTHER_ACCOUNT = "account-b"


def _assert_auth_fail(status: int, body: dict[str, object], reason: str) -> None:
    assert (status, body["code"]) == (401, 1003), body
    assert reason in str(body["msg"]), body["msg"]
    assert body["data"] is None


def test_unsigned_requests_are_refused_before_any_route(aws: Aws) -> None:
    for method, target in (("GET", "/api/list_template"), ("GET", "/api/no_such_api"), ("POST", "/api/create_task")):
        status, body = call_handler(method, target, {"Content-Type": "application/json"}, b"")
        _assert_auth_fail(status, body, "Authorization header is missing")


def test_the_openapi_document_is_public(aws: Aws) -> None:
    from handlers.api import handler
    from localmode.functions import LocalContext
    from localmode.http_api import to_rest_event

    event = to_rest_event("GET", "/api/openapi.json", {}, b"", "127.0.0.1")
    response = handler(event, LocalContext("api", 512, "arn:aws:lambda:us-east-1:123456789012:function:api", 29))
    assert response["statusCode"] == 200
    assert "/api/create_task" in json.loads(response["body"])["paths"]


def test_list_storage_type_needs_no_signature(aws: Aws) -> None:
    status, body = call_handler("GET", "/api/list_storage_type", {}, b"")
    assert (status, body["code"], body["data"]["list"]) == (200, 0, ["s3", "oss", "obs"])
    # Only that exact path: anything else under /api/ still needs a signature.
    status, body = call_handler("GET", "/api/list_storage", {}, b"")
    assert (status, body["code"]) == (401, 1003)


def test_a_tampered_body_is_refused(aws: Aws) -> None:
    body = json.dumps(VALID).encode()
    headers = signed_request_headers("POST", "/api/create_task", body)
    tampered = body.replace(b"MP4_264_360p", b"MP4_264_720p")
    _assert_auth_fail(*call_handler("POST", "/api/create_task", headers, tampered), "Content-MD5 does not match")


def test_a_replayed_request_is_refused(aws: Aws) -> None:
    body = json.dumps(VALID).encode()
    headers = signed_request_headers("POST", "/api/create_task", body)
    status, first = call_handler("POST", "/api/create_task", headers, body)
    assert (status, first["code"]) == (200, 0), first
    _assert_auth_fail(*call_handler("POST", "/api/create_task", headers, body), "already used")


def test_a_stale_date_is_refused(aws: Aws) -> None:
    headers = signing.signed_headers(
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        method="GET",
        path="/api/list_template",
        date=formatdate(time.time() - 16 * 60, usegmt=True),
    )
    _assert_auth_fail(*call_handler("GET", "/api/list_template", headers, b""), "15 minutes")


def test_a_wrong_secret_or_unknown_key_is_refused(aws: Aws) -> None:
    wrong = (TEST_ACCESS_KEY_ID, "x" * 32)
    _assert_auth_fail(*_call("GET", "/api/list_template", key=wrong), "Signature does not match")
    unknown = ("UNKNOWNKEY000001", TEST_SECRET_ACCESS_KEY)
    _assert_auth_fail(*_call("GET", "/api/list_template", key=unknown), "unknown or disabled")


def test_a_disabled_key_is_refused_at_once_and_works_again_when_enabled(aws: Aws) -> None:
    assert _call("GET", "/api/list_template")[0] == 200
    keys.set_status(TEST_ACCESS_KEY_ID, keys.DISABLED)
    _assert_auth_fail(*_call("GET", "/api/list_template"), "unknown or disabled")
    keys.set_status(TEST_ACCESS_KEY_ID, keys.ENABLED)
    assert _call("GET", "/api/list_template")[0] == 200


def test_secrets_are_stored_encrypted(aws: Aws) -> None:
    new = keys.create(OTHER_ACCOUNT, description="partner")
    item = boto3.client("dynamodb").get_item(
        TableName="test-keys", Key={"access_key_id": {"S": new.access_key.access_key_id}}
    )["Item"]
    assert new.secret_access_key.encode() not in item["secret_ciphertext"]["B"]
    assert new.secret_access_key not in json.dumps(item, default=str)
    listed = {key.access_key_id: key for key in keys.list_all()}
    assert listed[new.access_key.access_key_id].account_id == OTHER_ACCOUNT
    assert not hasattr(listed[new.access_key.access_key_id], "secret_access_key")
    with pytest.raises(keys.KeyExists):
        keys.create(OTHER_ACCOUNT, access_key_id=TEST_ACCESS_KEY_ID, secret_access_key=TEST_SECRET_ACCESS_KEY)


def test_one_account_never_sees_another_accounts_data(aws: Aws) -> None:
    other = keys.create(OTHER_ACCOUNT)
    other_key = (other.access_key.access_key_id, other.secret_access_key)
    status, created = _call("POST", "/api/create_task", VALID)
    assert status == 200, created
    task_id = created["data"]["task_id"]
    template = {"name": "shared-name", "resolution": "480p"}
    status, added = _call("POST", "/api/add_template", template)
    assert status == 200, added
    template_id = added["data"]["template_id"]

    for method, target, body in (
        ("GET", f"/api/query_task?task_id={task_id}", None),
        ("POST", "/api/cancel_task", {"task_id": task_id}),
        ("DELETE", "/api/del_task", {"task_id": task_id}),
        ("GET", f"/api/query_template?template_id={template_id}", None),
        ("GET", "/api/query_template?name=shared-name", None),
        ("DELETE", "/api/del_template", {"name": "shared-name"}),
    ):
        status, answer = _call(method, target, body, key=other_key)
        assert (status, answer["code"]) == (404, 1004), (target, answer)

    # The deployment's own buckets are read for its own account only; other accounts bring storages.
    status, refused = _call("POST", "/api/create_task", VALID, key=other_key)
    assert (status, refused["code"]) == (400, 1002) and "input" in refused["msg"], refused
    logo = {"name": "s3-logo", "resolution": "480p", "logo_path": "s3://test-input/logo.png"}
    status, refused = _call("POST", "/api/add_template", logo, key=other_key)
    assert (status, refused["code"]) == (400, 1002) and "logo_path" in refused["msg"], refused

    now = int(time.time())
    _, listed = _call("GET", f"/api/list_task?start_time={now - 60}&end_time={now + 60}", key=other_key)
    assert (listed["data"]["total"], listed["data"]["list"]) == (0, [])
    _, templates = _call("GET", "/api/list_template", key=other_key)
    assert "shared-name" not in {t["name"] for t in templates["data"]["list"]}
    # Names are unique per account: the other account may use the same one.
    status, own = _call("POST", "/api/add_template", template, key=other_key)
    assert status == 200, own
    assert own["data"]["template_id"] != template_id

    # The owner still sees its task and template, untouched.
    _, mine = _call("GET", f"/api/query_task?task_id={task_id}")
    assert mine["data"]["status"] == "pending"
    _, tpl = _call("GET", f"/api/query_template?template_id={template_id}")
    assert tpl["data"]["resolution"] == "480p"


def _signed_without_nonce(method: str, target: str, body: bytes, *, date: float) -> dict[str, str]:
    """Headers as a client writes them that leaves out X-WZ-Nonce (the contract makes it optional)."""
    when = formatdate(date, usegmt=True)
    md5, media_type = (signing.content_md5(body), "application/json") if body else ("", "")
    text = signing.string_to_sign(
        method=method, content_md5=md5, content_type=media_type, date=when, headers={}, path=target
    )
    sign = signing.signature(TEST_SECRET_ACCESS_KEY, text)
    headers = {"Date": when, "Authorization": signing.authorization(TEST_ACCESS_KEY_ID, sign)}
    return headers | ({"Content-MD5": md5, "Content-Type": media_type} if body else {})


def test_a_create_task_without_nonce_cannot_be_replayed_but_a_resigned_retry_is_served(aws: Aws) -> None:
    body = json.dumps(VALID).encode()
    now = time.time()
    headers = _signed_without_nonce("POST", "/api/create_task", body, date=now)
    status, first = call_handler("POST", "/api/create_task", headers, body)
    assert (status, first["code"]) == (200, 0), first
    _assert_auth_fail(*call_handler("POST", "/api/create_task", headers, body), "replayed request")
    retry = _signed_without_nonce("POST", "/api/create_task", body, date=now + 1)
    status, again = call_handler("POST", "/api/create_task", retry, body)
    assert (status, again["code"]) == (200, 0), again


def test_reads_without_nonce_may_be_repeated(aws: Aws) -> None:
    headers = _signed_without_nonce("GET", "/api/list_template", b"", date=time.time())
    for _ in range(2):
        status, body = call_handler("GET", "/api/list_template", headers, b"")
        assert (status, body["code"]) == (200, 0), body
