"""Drop-a-file: parsing S3 notifications and routing keys to templates and outputs."""

import json
from typing import Any

import pytest

from transcoder.ingest import DroppedObject, ignore_reason, parse_notification, route


def _notification(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def _created(key: str, *, size: int = 10, event: str = "ObjectCreated:Put", **obj: str) -> dict[str, Any]:
    return {
        "eventName": event,
        "s3": {"bucket": {"name": "in-bucket"}, "object": {"key": key, "size": size, "eTag": "e1", **obj}},
    }


def test_test_event_and_non_create_events_yield_nothing() -> None:
    assert parse_notification(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})) == []
    assert parse_notification(_notification(_created("a.mp4", event="ObjectRemoved:Delete"))) == []
    assert parse_notification(_notification(_created("a.mp4", event="ObjectRestore:Completed"))) == []
    assert parse_notification(json.dumps({})) == []


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("MP4_264_360p/my+holiday/clip.mp4", "MP4_264_360p/my holiday/clip.mp4"),
        ("a%2Bb.mp4", "a+b.mp4"),
        ("caf%C3%A9/%E6%97%85%E8%A1%8C.mp4", "café/旅行.mp4"),
        ("100%25.mp4", "100%.mp4"),
    ],
)
def test_keys_are_form_decoded(encoded: str, key: str) -> None:
    (dropped,) = parse_notification(_notification(_created(encoded)))
    assert dropped.key == key


def test_every_created_record_counts_and_version_identifies_the_upload() -> None:
    body = _notification(
        _created("a.mp4", versionId="v1", sequencer="0A"),
        _created("b.mp4", event="ObjectCreated:CompleteMultipartUpload", sequencer="0B"),
        _created("c.mp4"),
    )
    assert [(d.key, d.version) for d in parse_notification(body)] == [("a.mp4", "v1"), ("b.mp4", "0B"), ("c.mp4", "e1")]


def test_idempotency_key_separates_versions_of_one_key() -> None:
    one = DroppedObject("b", "k.mp4", 1, "v1")
    two = DroppedObject("b", "k.mp4", 1, "v2")
    assert one.idempotency_key != two.idempotency_key
    assert one.idempotency_key == DroppedObject("b", "k.mp4", 5, "v1").idempotency_key


@pytest.mark.parametrize(
    ("key", "size", "reason"),
    [("folder/", 0, "folder marker"), ("MP4_264_360p/", 0, "folder marker"), ("a.mp4", 0, "zero-byte object")],
)
def test_folders_and_empty_objects_are_ignored(key: str, size: int, reason: str) -> None:
    assert ignore_reason(DroppedObject("b", key, size, "v"), "MP4_264_720p") == reason
    assert ignore_reason(DroppedObject("b", "a.mp4", 1, "v"), "MP4_264_720p") is None


def test_top_level_keys_are_api_inputs_unless_a_default_template_is_set() -> None:
    top_level = DroppedObject("b", "clip.mp4", 1, "v")
    assert ignore_reason(top_level, "") == "top-level key and no default template: an input for create_task"
    assert ignore_reason(top_level, "MP4_264_720p") is None
    assert ignore_reason(DroppedObject("b", "unknown/clip.mp4", 1, "v"), "") is None, "folder keys are drops"


@pytest.mark.parametrize(
    ("key", "default", "template", "output"),
    [
        ("MP4_264_360p/holiday/clip.mp4", "MP4_264_720p", "MP4_264_360p", "holiday/clip"),
        ("MP4_265_1080p/clip.mov", "", "MP4_265_1080p", "clip"),
        ("clip.mp4", "MP4_264_720p", "MP4_264_720p", "clip"),
        ("clip", "MP4_264_720p", "MP4_264_720p", "clip"),
        ("MP4_264_360p/a.b/c", "", "MP4_264_360p", "a.b/c"),
        ("MP4_264_360p/archive.tar.gz", "", "MP4_264_360p", "archive.tar"),
        ("MP4_264_360p/.hidden", "", "MP4_264_360p", ".hidden"),
    ],
)
def test_routes(key: str, default: str, template: str, output: str) -> None:
    where = route(key, default)
    assert (where.template_name, where.output) == (template, output)


def test_the_first_folder_names_the_template_even_when_unknown() -> None:
    assert route("holiday/clip.mp4", "MP4_264_720p").template_name == "holiday"
    assert route("clip.mp4", "").template_name == ""
