"""Local mode's S3 POST policy checks (moto makes none), on forms botocore signs as the API function does."""

from typing import Any

import boto3
import pytest
from botocore.config import Config

from localmode.post_policy import PolicyRefusal, check_post

SECRETS = {"AKLOCAL": "secret-local"}
BUCKET = "input"
KEY = "accounts/acme/uploads/01m87kg1p53hsf8sqhnfdpq86h/clip.mp4"


@pytest.fixture(scope="module")
def form() -> dict[str, Any]:
    s3 = boto3.client(
        "s3",
        aws_access_key_id="AKLOCAL",
        aws_secret_access_key="secret-local",
        region_name="us-east-1",
        config=Config(signature_version="s3v4"),  # as transcoder.storage's client signs
    )
    signed: dict[str, Any] = s3.generate_presigned_post(
        BUCKET,
        KEY,
        Fields={"Content-Type": "video/mp4"},
        Conditions=[{"Content-Type": "video/mp4"}, ["content-length-range", 1, 100]],
        ExpiresIn=900,
    )
    return signed["fields"]


def _check(fields: dict[str, Any], size: int = 100, now: float | None = None, bucket: str = BUCKET) -> None:
    import time

    check_post(fields, bucket=bucket, file_size=size, secret_of=SECRETS.get, now=now or time.time())


def _refusal(fields: dict[str, Any], **options: Any) -> PolicyRefusal:
    with pytest.raises(PolicyRefusal) as refused:
        _check(fields, **options)
    return refused.value


def test_the_signed_form_is_accepted_as_signed(form: dict[str, Any]) -> None:
    _check(form, size=1)
    _check(form, size=100)
    _check({name.upper(): value for name, value in form.items()})  # field names match in any case
    _check({**form, "x-ignore-note": "anything"})


def test_what_the_policy_does_not_allow_is_refused(form: dict[str, Any]) -> None:
    assert _refusal(form, size=101).code == "EntityTooLarge"
    assert _refusal(form, size=0).code == "EntityTooSmall"
    assert "$key" in _refusal({**form, "key": "accounts/other/uploads/x/clip.mp4"}).message
    assert "$Content-Type" in _refusal({**form, "Content-Type": "text/html"}).message
    assert "$bucket" in _refusal(form, bucket="output").message
    assert "Extra input fields: acl" in _refusal({**form, "acl": "public-read"}).message
    assert _refusal(form, now=10**10).message.endswith("Policy expired.")


def test_the_policy_and_its_signature_are_required(form: dict[str, Any]) -> None:
    without_policy = {name: value for name, value in form.items() if name != "policy"}
    assert _refusal(without_policy).code == "AccessDenied"
    assert _refusal({**form, "x-amz-signature": "0" * 64}).code == "SignatureDoesNotMatch"
    assert _refusal({**form, "policy": form["policy"][:-4] + "AAAA"}).code == "SignatureDoesNotMatch"
    other_key = form["x-amz-credential"].replace("AKLOCAL", "AKOTHER")
    assert _refusal({**form, "x-amz-credential": other_key}).code == "InvalidAccessKeyId"
