"""Task ids: ULID layout, Crockford base32, sortable by creation time."""

import itertools
import re
import time

import pytest

from transcoder.ids import is_task_id, new_task_id

CROCKFORD_LOWER = re.compile(r"^[0-9abcdefghjkmnpqrstvwxyz]{26}$")


def test_length_and_alphabet() -> None:
    for _ in range(200):
        task_id = new_task_id()
        assert len(task_id) == 26
        assert CROCKFORD_LOWER.match(task_id), task_id
        assert not set(task_id) & set("ilou")
        assert is_task_id(task_id)


def test_time_prefix_encodes_the_milliseconds() -> None:
    # 10 base-32 digits of the millisecond timestamp, most significant first.
    assert new_task_id(0)[:10] == "0000000000"
    assert new_task_id(1)[:10] == "0000000001"
    assert new_task_id(32)[:10] == "0000000010"
    assert new_task_id(2**48 - 1)[:10] == "7zzzzzzzzz"


def test_default_timestamp_is_now() -> None:
    before = new_task_id(int(time.time() * 1000))[:10]
    task_id = new_task_id()
    after = new_task_id(int(time.time() * 1000))[:10]
    assert before <= task_id[:10] <= after


@pytest.mark.parametrize(
    "times",
    [
        [1_700_000_000_000, 1_700_000_000_001],  # across a millisecond boundary
        [1_700_000_000_031, 1_700_000_000_032],  # where the last time digit carries
        [1_699_999_999_999, 1_700_000_000_000],
        [0, 1, 31, 32, 1023, 1024],
        [1_000, 1_700_000_000_000, 2_000_000_000_000, 2**48 - 1],  # far apart
    ],
)
def test_lexical_order_is_creation_order(times: list[int]) -> None:
    # Several ids per millisecond: the random part must never outweigh the time part.
    ids = [new_task_id(ms) for ms in times for _ in range(20)]
    for earlier, later in itertools.pairwise(ids):
        if earlier[:10] != later[:10]:
            assert earlier < later
    per_ms = [sorted(new_task_id(ms) for _ in range(20)) for ms in times]
    for older, newer in itertools.pairwise(per_ms):
        assert older[-1] < newer[0]


def test_ids_from_the_clock_sort_in_creation_order() -> None:
    ids = []
    for _ in range(3):
        ids.append(new_task_id())
        time.sleep(0.002)
    assert ids == sorted(ids)


def test_unique_over_10k() -> None:
    ids = [new_task_id(1_700_000_000_000) for _ in range(10_000)]
    assert len(set(ids)) == 10_000
    # Same millisecond: all variation is in the 16 random characters.
    assert len({task_id[10:] for task_id in ids}) == 10_000


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0" * 25,
        "0" * 27,
        "01hxyz" + "0" * 19,  # 25
        "01HXYZ" + "0" * 20,  # upper case is not the stored form
        "0" * 25 + "i",
        "0" * 25 + "l",
        "0" * 25 + "o",
        "0" * 25 + "u",
        "0" * 25 + "-",
        "0" * 25 + " ",
        "0" * 25 + "é",
        "../" + "0" * 23,
    ],
)
def test_is_task_id_rejects(value: str) -> None:
    assert not is_task_id(value)


def test_is_task_id_accepts() -> None:
    assert is_task_id("0" * 26)
    assert is_task_id("01hz3v8k9q" + "abcdefghjkmnpqrs")
