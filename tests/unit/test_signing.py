"""The worked example of README "Authentication": the string to sign and the signature, per api.md.

The expected values were produced with openssl (`openssl md5`, `openssl dgst -sha1 -hmac`), not with
this code; the README shows the same commands.
"""

import pytest

from transcoder_protocol import signing

ACCESS_KEY_ID = "EXAMPLEAK0000001"
SECRET = "ExampleSecretKey0123456789abcdef"
DATE = "Tue, 24 Nov 2026 08:00:00 GMT"
BODY = b'{"input":"s3://my-bucket/in.mp4","output":"out/in","template_name":"MP4_264_720p"}'

CREATE_TASK_STRING_TO_SIGN = (
    "POST\n"
    "8D400D33C9E4EF8A5DF8F306F554C787\n"
    "application/json\n"
    "Tue, 24 Nov 2026 08:00:00 GMT\n"
    "x-wz-nonce:5f2b8c0e9a1d4e7f\n"
    "/api/create_task"
)
LIST_TASK_STRING_TO_SIGN = (
    "GET\n"
    "\n"
    "\n"
    "Tue, 24 Nov 2026 08:00:00 GMT\n"
    "x-wz-nonce:0a1b2c3d\n"
    "/api/list_task?end_time=1795510800&start_time=1795424400&status=success"
)


def test_create_task_example() -> None:
    assert signing.content_md5(BODY) == "8D400D33C9E4EF8A5DF8F306F554C787"
    text = signing.string_to_sign(
        method="POST",
        content_md5=signing.content_md5(BODY),
        content_type="application/json",
        date=DATE,
        headers={"X-WZ-Nonce": "5f2b8c0e9a1d4e7f", "Content-Type": "application/json"},
        path="/api/create_task",
    )
    assert text == CREATE_TASK_STRING_TO_SIGN
    assert signing.signature(SECRET, text) == "CEQlm3EVyCswAghr3CdfJSc1w34="


def test_list_task_example_sorts_the_query() -> None:
    text = signing.string_to_sign(
        method="get",
        content_md5="",
        content_type="",
        date=DATE,
        headers={"X-Wz-Nonce": " 0a1b2c3d "},
        path="/api/list_task",
        query=[("status", "success"), ("start_time", "1795424400"), ("end_time", "1795510800")],
    )
    assert text == LIST_TASK_STRING_TO_SIGN
    assert signing.signature(SECRET, text) == "g6FqaDT6RJ7IHWAl3qjCTED0a9c="


def test_signed_headers_carry_the_example_signature() -> None:
    headers = signing.signed_headers(
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET,
        method="POST",
        path="/api/create_task",
        body=BODY,
        date=DATE,
        nonce="5f2b8c0e9a1d4e7f",
    )
    assert headers == {
        "Date": DATE,
        "X-WZ-Nonce": "5f2b8c0e9a1d4e7f",
        "Content-MD5": "8D400D33C9E4EF8A5DF8F306F554C787",
        "Content-Type": "application/json",
        "Authorization": "Visionular AccessKeyId=EXAMPLEAK0000001, Signature=CEQlm3EVyCswAghr3CdfJSc1w34=",
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, ""),
        ({"Content-Type": "application/json", "Date": DATE}, ""),
        ({"X-WZ-B": "2", "x-wz-a": " 1 "}, "x-wz-a:1\nx-wz-b:2"),
    ],
)
def test_canonical_headers(headers: dict[str, str], expected: str) -> None:
    assert signing.canonical_headers(headers) == expected


def test_fresh_requests_get_fresh_nonces_and_a_gmt_date() -> None:
    first, second = (
        signing.signed_headers(access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET, method="GET", path="/api/x")
        for _ in range(2)
    )
    assert first["X-WZ-Nonce"] != second["X-WZ-Nonce"]
    assert first["Date"].endswith(" GMT")
    assert "Content-MD5" not in first
