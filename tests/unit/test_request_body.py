"""The bounded JSON body parser: what it refuses, what it still accepts, and how it says why."""

import json

import pytest

from transcoder.api.body import MAX_DEPTH, BodyRefused, nesting_depth, parse_json_body
from transcoder.api.envelope import ApiCode


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 1000 + "]" * 1000, "nested 1000 deep"),
        ('{"a":' * 1000 + "1" + "}" * 1000, "nested 1000 deep"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"at most {MAX_DEPTH}"),
        ("9" * 5000, "5000 characters is out of range"),
        ('{"n": -' + "9" * 5000 + "}", "5001 characters is out of range"),
        ('{"n": 1e400}', "1e400 is out of range"),
        ('{"n": -1e400}', "-1e400 is out of range"),
        ('{"n": 0.' + "1" * 40 + "}", "out of range"),
        ('{"n": NaN}', "NaN is not a JSON value"),
        ('{"n": Infinity}', "Infinity is not a JSON value"),
        ("-Infinity", "-Infinity is not a JSON value"),
        ('"' + "x" * 70_000 + '"', "at most 65536 characters"),
    ],
)
def test_hostile_bodies_are_refused_as_bad_param(text: str, reason: str) -> None:
    with pytest.raises(BodyRefused) as refused:
        parse_json_body(text)
    assert refused.value.code == ApiCode.BAD_PARAM
    assert refused.value.detail.startswith("body: ")
    assert reason in refused.value.detail


@pytest.mark.parametrize(
    "value",
    [
        {"input": "s3://b/k", "output": "o", "template_name": "MP4_264_360p"},
        {"framerate": 29.97, "quality": 5, "video_bitrate": 100_000, "start_time": 1795424400, "n": -1e308},
        {"description": "[[[[{{{{" * 100 + '\\"]'},
        [[[["at the limit"]]]],
        None,
    ],
)
def test_ordinary_bodies_parse_as_json_loads_does(value: object) -> None:
    text = json.dumps(value)
    assert parse_json_body(text) == json.loads(text)


def test_text_that_is_not_json_still_raises_json_decode_error() -> None:
    """Powertools turns JSONDecodeError into its own validation error, which the API reports as 1002."""
    with pytest.raises(json.JSONDecodeError):
        parse_json_body("{not json")


def test_nesting_ignores_brackets_in_strings_and_escaped_quotes() -> None:
    assert nesting_depth('{"a": "[[[\\"{{{", "b": [1, {"c": []}]}') == 4
