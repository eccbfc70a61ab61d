"""Uploads from disk against moto's server, with S3's POST policy checks as local mode makes them.

create_upload answers a form; the file is POSTed to moto as a browser or the client would. The attacks:
an account writing into another's uploads (a crafted filename, a form whose key or policy is edited, a
form reused for another key or a larger file) and reading another's uploads (create_task naming them).
"""

import os
from pathlib import Path
from typing import Any

import pytest
import requests

from localmode.post_policy import enforce_post_policies
from tests.integration.conftest import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, Aws
from tests.integration.test_api_handler import _call
from transcoder.auth import keys
from transcoder_client.upload import post_file

VICTIM, EVIL = "acct-victim", "acct-evil"
VICTIM_KEY = ("VICTIMKEY0000001", "victimsecret00000000000000000001")
EVIL_KEY = ("EVILKEY000000001", "evilsecret000000000000000000000A")
OWN_KEY = (TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY)


@pytest.fixture(scope="module", autouse=True)
def _s3_checks_post_policies() -> None:
    enforce_post_policies()


@pytest.fixture
def accounts(aws: Aws) -> Aws:
    keys.create(VICTIM, access_key_id=VICTIM_KEY[0], secret_access_key=VICTIM_KEY[1])
    keys.create(EVIL, access_key_id=EVIL_KEY[0], secret_access_key=EVIL_KEY[1])
    return aws


def _form(key: tuple[str, str], **fields: Any) -> dict[str, Any]:
    body = {"filename": "clip.mp4", "size": 1000, "content_type": "video/mp4", **fields}
    status, answer = _call("POST", "/api/create_upload", body, key=key)
    assert (status, answer["code"]) == (200, 0), answer
    data: dict[str, Any] = answer["data"]
    return data


def _post(form: dict[str, Any], content: bytes, **changed: str) -> requests.Response:
    """The form as a browser POSTs it: its fields (some changed by the caller), then the file."""
    fields = {**form["fields"], **changed}
    files = {"file": ("clip.mp4", content, fields.get("Content-Type", "video/mp4"))}
    return requests.post(form["url"], data=fields, files=files, timeout=30)


def _objects(aws: Aws) -> list[str]:
    return [item["Key"] for item in aws.s3.list_objects_v2(Bucket=aws.input_bucket).get("Contents", [])]


def test_a_file_of_the_declared_size_and_type_lands_at_the_answered_key(accounts: Aws) -> None:
    form = _form(VICTIM_KEY)
    assert form["url"] == f"{os.environ['AWS_ENDPOINT_URL']}/{accounts.input_bucket}"
    assert form["key"].startswith("accounts/acct-victim/uploads/") and form["key"].endswith("/clip.mp4")
    assert form["input"] == f"s3://{accounts.input_bucket}/{form['key']}"
    assert (form["content_type"], form["max_bytes"]) == ("video/mp4", 1000)
    answer = _post(form, b"v" * 1000)
    assert answer.status_code == 204, answer.text
    stored = accounts.s3.get_object(Bucket=accounts.input_bucket, Key=form["key"])
    assert (stored["Body"].read(), stored["ContentType"]) == (b"v" * 1000, "video/mp4")
    # Its `input` is what create_task takes, for the account that uploaded it.
    body = {"input": form["input"], "output": "up/clip", "template_name": "MP4_264_360p"}
    status, created = _call("POST", "/api/create_task", body, key=VICTIM_KEY)
    assert (status, created["code"]) == (200, 0), created


def test_the_client_streams_a_file_through_the_form(accounts: Aws, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))  # several of the client's 1 MiB chunks
    form = _form(VICTIM_KEY, size=path.stat().st_size)
    post_file(form, str(path), file_size=path.stat().st_size, timeout=30)
    stored = accounts.s3.get_object(Bucket=accounts.input_bucket, Key=form["key"])["Body"].read()
    assert stored == path.read_bytes()


def test_s3_refuses_a_larger_file_another_type_or_an_expired_form(
    accounts: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = _form(VICTIM_KEY, size=1000)
    answer = _post(form, b"v" * 1001)
    assert answer.status_code == 400 and "EntityTooLarge" in answer.text
    answer = _post(form, b"v" * 1000, **{"Content-Type": "text/html"})
    assert answer.status_code == 403 and '"$Content-Type", "video/mp4"' in answer.text
    import localmode.post_policy as post_policy

    later = post_policy.time.time() + 15 * 60 + 1
    monkeypatch.setattr(post_policy.time, "time", lambda: later)
    answer = _post(form, b"v" * 1000)
    assert answer.status_code == 403 and "Policy expired" in answer.text
    assert _objects(accounts) == []


def test_bad_fields_are_refused_with_the_contracts_codes(accounts: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_INPUT_BYTES", "5000")
    from transcoder.settings import settings

    settings.cache_clear()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"filename": "clip.mp4", "size": 10}, 1001, "content_type"),
        ({"size": 10, "content_type": "video/mp4"}, 1001, "filename"),
        ({"filename": "clip.mp4", "content_type": "video/mp4"}, 1001, "size"),
        ({"filename": "clip.mp4", "size": 0, "content_type": "video/mp4"}, 1002, "size"),
        ({"filename": "clip.mp4", "size": 5001, "content_type": "video/mp4"}, 1002, "size"),
        ({"filename": "clip.mp4", "size": "10", "content_type": "video/mp4"}, 1002, "size"),
        ({"filename": "clip.mp4", "size": 10, "content_type": "text/html"}, 1002, "content_type"),
        ({"filename": "../clip.mp4", "size": 10, "content_type": "video/mp4"}, 1002, "filename"),
        ({"filename": "", "size": 10, "content_type": "video/mp4"}, 1002, "filename"),
    ]
    for body, code, field in cases:
        status, answer = _call("POST", "/api/create_upload", body, key=VICTIM_KEY)
        assert (status, answer["code"]) == (400, code), (body, answer)
        assert field in answer["msg"], (body, answer)
    settings.cache_clear()
    status, answer = _call("POST", "/api/create_upload", {"filename": "a.mp4", "size": 1, "content_type": "video/mp4"},
                           key=("NOSUCHKEY0000001", "x" * 32))  # fmt: skip
    assert (status, answer["code"]) == (401, 1003), "signed like every route"


# -- attacks: account B (evil) against account A (victim) -------------------------------------------------------


def test_a_crafted_filename_cannot_leave_the_callers_uploads(accounts: Aws) -> None:
    for filename in (
        "../../acct-victim/uploads/x/clip.mp4",
        "../../../accounts/acct-victim/uploads/x/clip.mp4",
        "..",
        "a/../../acct-victim/clip.mp4",
        "..\\..\\acct-victim\\clip.mp4",
    ):
        body = {"filename": filename, "size": 10, "content_type": "video/mp4"}
        status, answer = _call("POST", "/api/create_upload", body, key=EVIL_KEY)
        assert (status, answer["code"]) == (400, 1002), (filename, answer)
        assert "filename" in answer["msg"]
    for filename in ("clip.mp4", "acct-victim", "...mp4", "%2e%2e%2fvictim.mp4", "accounts_acct-victim.mp4"):
        parts = _form(EVIL_KEY, filename=filename)["key"].split("/")
        assert (parts[:3], len(parts), parts[-1]) == (["accounts", "acct-evil", "uploads"], 5, filename)


def test_a_form_edited_to_another_accounts_key_is_refused_by_s3(accounts: Aws) -> None:
    form = _form(EVIL_KEY)
    victims = form["key"].replace("accounts/acct-evil/", "accounts/acct-victim/")
    answer = _post(form, b"v" * 1000, key=victims)
    assert answer.status_code == 403 and "$key" in answer.text
    # Rewriting the policy too breaks its signature.
    import base64
    import json

    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, dict) and "key" in c)]
    policy["conditions"].append(["starts-with", "$key", "accounts/"])
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    answer = _post(form, b"v" * 1000, key=victims, policy=forged)
    assert answer.status_code == 403 and "SignatureDoesNotMatch" in answer.text
    # An extra field the policy does not name (here: making the object public) is refused.
    answer = _post(form, b"v" * 1000, acl="public-read")
    assert answer.status_code == 403 and "Extra input fields: acl" in answer.text
    assert _objects(accounts) == []


def test_another_accounts_upload_cannot_be_an_input(accounts: Aws) -> None:
    form = _form(VICTIM_KEY)
    assert _post(form, b"v" * 1000).status_code == 204
    victims = form["input"]
    traversal = victims.replace("accounts/acct-victim/", "accounts/acct-evil/uploads/x/../../../accounts/acct-victim/")
    for key, url in ((EVIL_KEY, victims), (EVIL_KEY, traversal), (OWN_KEY, victims), (OWN_KEY, traversal)):
        status, answer = _call(
            "POST", "/api/create_task", {"input": url, "output": "stolen", "template_name": "MP4_264_360p"}, key=key
        )
        assert (status, answer["code"]) == (400, 1002), (key, url, answer)
        assert answer["msg"].startswith("bad param: input: "), answer
    # Nothing was created for anyone: no task reads the victim's file.
    assert accounts.sfn.list_executions(stateMachineArn=os.environ["STATE_MACHINE_ARN"])["executions"] == []
