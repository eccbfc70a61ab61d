"""Local mode's HTTP front answers as API Gateway does at its edges: the payload limit and binary bodies."""

import http.client
import json
from urllib.parse import urlsplit

from tests.e2e.conftest import Local
from transcoder_client.signing import signed_headers

MAX_BODY_BYTES = 10 * 1024 * 1024


def _connection(local: Local) -> http.client.HTTPConnection:
    url = urlsplit(local.api_url)
    return http.client.HTTPConnection(str(url.hostname), url.port, timeout=30)


def test_a_body_over_10_mb_gets_api_gateways_413_before_it_is_sent(local: Local) -> None:
    connection = _connection(local)
    connection.putrequest("POST", "/api/create_task")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()  # the body never follows: the answer must not wait for it
    answer = connection.getresponse()
    assert answer.status == 413
    assert answer.getheader("Content-Type") == "application/json"
    assert json.loads(answer.read()) == {"message": "Request Too Long"}
    connection.close()


def test_a_signed_body_that_is_not_utf8_reaches_the_api_intact(local: Local) -> None:
    """Passed base64-encoded, as API Gateway passes binary: the signature over the raw bytes verifies,
    and the API rejects the body itself with the contract's code, not a gateway error."""
    body = b'{"input": "\xff\xfe"}'
    headers = signed_headers(
        access_key_id=local.access_key_id,
        secret_access_key=local.secret_access_key,
        method="POST",
        path="/api/create_task",
        body=body,
    )
    connection = _connection(local)
    connection.request("POST", "/api/create_task", body=body, headers=headers)
    answer = connection.getresponse()
    envelope = json.loads(answer.read())
    connection.close()
    assert envelope["code"] not in (1000, 1003), envelope
    assert (answer.status, envelope["code"]) in ((400, 1001), (400, 1002)), envelope
