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


DROP = "drop/"


@pytest.mark.parametrize(
    ("key", "size", "reason"),
    [
        ("drop/folder/", 0, "folder marker"),
        ("drop/MP4_264_360p/", 0, "folder marker"),
        ("drop/a.mp4", 0, "zero-byte object"),
    ],
)
def test_folders_and_empty_objects_are_ignored(key: str, size: int, reason: str) -> None:
    assert ignore_reason(DroppedObject("b", key, size, "v"), DROP) == reason
    assert ignore_reason(DroppedObject("b", "drop/a.mp4", 1, "v"), DROP) is None


@pytest.mark.parametrize(
    "key",
    [
        "videos/clip.mp4",  # an input uploaded for create_task
        "MP4_264_360p/clip.mp4",  # the old convention: a folder named like a template is not a drop any more
        "clip.mp4",
        "drop",
        "drop/",
        "dropped/clip.mp4",
        "Drop/MP4_264_360p/clip.mp4",
        "x/drop/MP4_264_360p/clip.mp4",
    ],
)
def test_keys_outside_the_drop_prefix_are_not_drops(key: str) -> None:
    assert ignore_reason(DroppedObject("b", key, 10, "v"), DROP) == "outside 'drop/': not a drop"
    assert route(key, DROP, "MP4_264_720p") is None


@pytest.mark.parametrize(
    ("key", "default", "template", "output"),
    [
        ("drop/MP4_264_360p/holiday/clip.mp4", "MP4_264_720p", "MP4_264_360p", "holiday/clip"),
        ("drop/MP4_265_1080p/clip.mov", "", "MP4_265_1080p", "clip"),
        ("drop/clip.mp4", "MP4_264_720p", "MP4_264_720p", "clip"),
        ("drop/clip.mp4", "", "", "clip"),
        ("drop/clip", "MP4_264_720p", "MP4_264_720p", "clip"),
        ("drop/MP4_264_360p/a.b/c", "", "MP4_264_360p", "a.b/c"),
        ("drop/MP4_264_360p/archive.tar.gz", "", "MP4_264_360p", "archive.tar"),
        ("drop/MP4_264_360p/.hidden", "", "MP4_264_360p", ".hidden"),
        ("drop/drop/clip.mp4", "", "drop", "clip"),
    ],
)
def test_routes(key: str, default: str, template: str, output: str) -> None:
    where = route(key, DROP, default)
    assert where is not None
    assert (where.template_name, where.output) == (template, output)
    assert where.by_default == (key.count("/") == 1)


def test_the_first_folder_under_the_prefix_names_the_template_even_when_unknown() -> None:
    where = route("drop/holiday/clip.mp4", DROP, "MP4_264_720p")
    assert where is not None and (where.template_name, where.by_default) == ("holiday", False)


def test_another_prefix_is_honoured() -> None:
    where = route("incoming/drops/MP4_264_360p/clip.mp4", "incoming/drops/", "")
    assert where is not None and (where.template_name, where.output) == ("MP4_264_360p", "clip")
    assert route("drop/MP4_264_360p/clip.mp4", "incoming/drops/", "") is None


def test_the_version_id_is_kept_apart_from_the_idempotency_version() -> None:
    body = _notification(
        _created("drop/a.mp4", versionId="v1", sequencer="0A"),
        _created("drop/b.mp4", versionId="null", sequencer="0B"),
        _created("drop/c.mp4", sequencer="0C"),
    )
    assert [(d.version, d.version_id) for d in parse_notification(body)] == [("v1", "v1"), ("0B", None), ("0C", None)]


@pytest.mark.parametrize("value", ["", "drop", "/drop/"])
def test_a_drop_prefix_that_is_not_a_folder_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """An empty prefix would make every upload of the bucket a drop again."""
    from transcoder.settings import settings

    monkeypatch.setenv("DROP_PREFIX", value)
    settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="DROP_PREFIX"):
            settings()
    finally:
        monkeypatch.undo()
        settings.cache_clear()
    assert settings().drop_prefix == "drop/"
