"""Callbacks: the signature, the retry schedule, which stream records are terminal transitions, URL checks."""

from pathlib import Path
from typing import Any

import pytest

from localmode.streams import matches, parse_filters, passes
from transcoder import fetch
from transcoder.callbacks import backoff
from transcoder.callbacks.signature import EVENT_ID_HEADER, SIGNATURE_HEADER, headers, sign, verify
from transcoder.callbacks.transitions import event_id, is_terminal_transition

# Computed with openssl (README, "Callbacks and events"):
#   printf '%s' "$BODY" | openssl dgst -sha256 -hmac ExampleSecretKey0123456789abcdef
EXAMPLE_BODY = b'{"task_id":"01m87kg1p53hsf8sqhnfdpq86h","status":"success"}'
EXAMPLE_SK = "ExampleSecretKey0123456789abcdef"
EXAMPLE_SIGNATURE = "sha256=aeceef798e43f9c204245f4509a166ac94895fd6544512963e22a67fdafa88e9"


def test_signature_matches_openssl() -> None:
    assert sign(EXAMPLE_BODY, EXAMPLE_SK) == EXAMPLE_SIGNATURE


def test_verification_fails_for_another_body_key_or_header() -> None:
    assert verify(EXAMPLE_BODY, EXAMPLE_SK, EXAMPLE_SIGNATURE)
    assert not verify(EXAMPLE_BODY + b" ", EXAMPLE_SK, EXAMPLE_SIGNATURE)
    assert not verify(EXAMPLE_BODY, EXAMPLE_SK[:-1] + "X", EXAMPLE_SIGNATURE)
    assert not verify(EXAMPLE_BODY, EXAMPLE_SK, EXAMPLE_SIGNATURE.removeprefix("sha256="))


def test_headers_carry_signature_and_event_id_but_never_the_secret() -> None:
    sent = headers(EXAMPLE_BODY, EXAMPLE_SK, "01m87kg1p53hsf8sqhnfdpq86h:success")
    assert sent[SIGNATURE_HEADER] == EXAMPLE_SIGNATURE
    assert sent[EVENT_ID_HEADER] == "01m87kg1p53hsf8sqhnfdpq86h:success"
    assert sent["Content-Type"] == "application/json"
    assert all(EXAMPLE_SK not in value for value in sent.values())


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    delays = [backoff.delay_after(n) for n in range(1, 11)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    with pytest.raises(ValueError, match="from 1"):
        backoff.delay_after(0)


def test_retries_stop_at_24_hours() -> None:
    assert backoff.next_delay(1, age_seconds=0) == 30
    assert backoff.next_delay(20, age_seconds=80_000) == 3600
    assert backoff.next_delay(20, age_seconds=86_400 - 3600) == 3600  # the last attempt lands at 24 h exactly
    assert backoff.next_delay(20, age_seconds=86_400 - 3599) is None
    # Every failure retried as scheduled: about 30 attempts in the 24 hours, the last one before the end.
    age, attempt = 0.0, 1
    while (delay := backoff.next_delay(attempt, age)) is not None:
        age, attempt = age + delay, attempt + 1
    assert age <= backoff.MAX_AGE_SECONDS
    assert 25 <= attempt <= 35


@pytest.mark.parametrize(
    ("event", "old", "new", "expected"),
    [
        ("MODIFY", "uploading", "success", True),
        ("MODIFY", "running", "fail", True),
        ("MODIFY", "pending", "cancelled", True),
        ("INSERT", None, "fail", True),  # a rejected drop is written ended
        ("INSERT", None, "pending", False),
        ("MODIFY", "pending", "downloading", False),
        ("MODIFY", "running", "running", False),  # progress
        ("MODIFY", "success", "success", False),  # a write to an ended task announces nothing again
        ("MODIFY", "cancelled", "fail", False),
        ("REMOVE", "cancelled", None, False),  # del_task: the cancel before it was the transition
        ("MODIFY", None, None, False),
    ],
)
def test_terminal_transitions(event: str, old: str | None, new: str | None, expected: bool) -> None:
    assert is_terminal_transition(event, old, new) is expected


def test_event_id_is_stable_per_transition() -> None:
    assert event_id("01m87kg1p53hsf8sqhnfdpq86h", "success") == "01m87kg1p53hsf8sqhnfdpq86h:success"


@pytest.mark.parametrize(
    "host",
    ["example.com", "a.b-c.example.com", "xn--bcher-kva.example", "127.0.0.1", "::1", "svc_1.example.com", "a."],
)
def test_valid_hosts(host: str) -> None:
    assert fetch.valid_host(host)


@pytest.mark.parametrize("host", ["", "a..b", "-a.com", "a-.com", "a b.com", "ex%41mple.com", "a" * 64 + ".com"])
def test_invalid_hosts(host: str) -> None:
    assert not fetch.valid_host(host)


def test_callback_url_messages_name_the_callback() -> None:
    with pytest.raises(fetch.RefusedInput, match=r"^callback URL must be https://"):
        fetch.check_url("http://example.com/", subject="callback")
    assert fetch.check_url("https://example.com:8443/hook?x=1", subject="callback") == (
        "example.com",
        8443,
        "/hook?x=1",
    )


# The notify mapping's filter (infra/constructs/callbacks.py), as local mode applies it.
FILTER = {
    "Filters": [
        {
            "Pattern": '{"eventName":["INSERT","MODIFY"],'
            '"dynamodb":{"NewImage":{"status":{"S":["success","fail","cancelled"]}}}}'
        }
    ]
}


def _record(event: str, status: str | None) -> dict[str, object]:
    image = {"NewImage": {"status": {"S": status}}} if status else {}
    return {"eventName": event, "dynamodb": {"Keys": {}, **image}}


def test_stream_filter_passes_terminal_new_images_only() -> None:
    patterns = parse_filters(FILTER)
    assert passes(patterns, _record("MODIFY", "success"))
    assert passes(patterns, _record("INSERT", "fail"))
    assert not passes(patterns, _record("MODIFY", "running"))
    assert not passes(patterns, _record("REMOVE", None))
    assert not matches(patterns[0], {"eventName": "MODIFY", "dynamodb": "not an object"})
    assert passes([], _record("REMOVE", None))  # no filter: everything


def test_stream_filter_rules_that_are_not_emulated_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported filter rule"):
        parse_filters({"Filters": [{"Pattern": '{"eventName":[{"prefix":"MOD"}]}'}]})


def test_readme_snippet_verifies_the_worked_example() -> None:
    """The receiver's check as README shows it, run on the example it documents."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Callbacks and events") :]
    snippet = section[section.index("```python\n") + len("```python\n") :]
    snippet = snippet[: snippet.index("```")]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own README's code
    check = namespace["is_from_transcoder"]
    assert check(EXAMPLE_BODY, EXAMPLE_SIGNATURE, EXAMPLE_SK)
    assert not check(EXAMPLE_BODY + b"\n", EXAMPLE_SIGNATURE, EXAMPLE_SK)
    assert EXAMPLE_SIGNATURE in section
