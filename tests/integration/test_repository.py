"""Status writes are conditional: never backwards, never after a terminal status, under races."""

import threading
from collections import Counter

from tests.integration.conftest import Aws
from transcoder import repository
from transcoder.ids import new_task_id
from transcoder.models import TaskModel
from transcoder.status import Status


def _new_task() -> str:
    task = TaskModel(
        task_id=new_task_id(),
        account_id="default",
        status=Status.PENDING.value,
        create_time=repository.now(),
        input="s3://test-input/a.mp4",
        output="a",
        objkey="a.mp4",
        bucket="test-output",
        region="us-east-1",
        template_id="builtin-MP4-264-360p",
        template_name="MP4_264_360p",
    )
    repository.insert(task)
    return task.task_id


def test_pipeline_order_and_terminal_lock(aws: Aws) -> None:
    task_id = _new_task()
    assert repository.move(task_id, Status.DOWNLOADING)
    assert repository.move(task_id, Status.RUNNING)
    assert not repository.move(task_id, Status.DOWNLOADING), "moved backwards"
    assert repository.move(task_id, Status.RUNNING, progress=40), "re-writing the same status is allowed"
    assert not repository.move(task_id, Status.SUCCESS), "success only after uploading"
    assert repository.move(task_id, Status.UPLOADING)
    assert repository.move(task_id, Status.SUCCESS, err_code=0)
    for target in Status:
        assert not repository.move(task_id, target), f"terminal task moved to {target}"
    task = repository.get(task_id)
    assert task is not None
    assert task.status == "success"
    assert task.progress == 100
    assert task.finish_time >= task.create_time


def test_missing_task_is_never_created_by_a_move(aws: Aws) -> None:
    assert not repository.move("0" * 26, Status.FAIL, err_code=9000)
    assert repository.get("0" * 26) is None


def test_insert_twice_fails(aws: Aws) -> None:
    task_id = _new_task()
    task = repository.get(task_id)
    assert task is not None
    try:
        repository.insert(task)
    except ValueError as exc:
        assert task_id in str(exc)
    else:
        raise AssertionError("second insert overwrote the task")


def test_concurrent_writers_agree_on_one_terminal_status(aws: Aws) -> None:
    task_id = _new_task()
    assert repository.move(task_id, Status.DOWNLOADING)
    assert repository.move(task_id, Status.RUNNING)
    assert repository.move(task_id, Status.UPLOADING)
    targets = [Status.SUCCESS, Status.FAIL, Status.CANCELLED] * 8
    results: list[tuple[Status, bool]] = []
    barrier = threading.Barrier(len(targets))

    def write(target: Status) -> None:
        barrier.wait()
        results.append((target, repository.move(task_id, target, err_message=f"by {target}")))

    threads = [threading.Thread(target=write, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [target for target, moved in results if moved]
    assert len(winners) == 1, Counter(winners)
    task = repository.get(task_id)
    assert task is not None
    assert task.status == winners[0].value
    assert task.err_message == f"by {winners[0]}"


def test_progress_only_rises_while_running(aws: Aws) -> None:
    task_id = _new_task()
    assert not repository.report_progress(task_id, 50), "progress before running"
    repository.move(task_id, Status.DOWNLOADING)
    repository.move(task_id, Status.RUNNING)
    assert repository.report_progress(task_id, 50)
    assert not repository.report_progress(task_id, 30)
    task = repository.get(task_id)
    assert task is not None
    assert task.progress == 50


def test_a_task_is_still_wanted_until_it_ends_or_is_deleted(aws: Aws) -> None:
    task_id = _new_task()
    for status in (Status.PENDING, Status.DOWNLOADING, Status.RUNNING, Status.UPLOADING):
        assert repository.move(task_id, status)
        assert repository.still_wanted(task_id), status
    for ending in (Status.CANCELLED, Status.FAIL, Status.SUCCESS):
        ended = _new_task()
        assert repository.move(ended, Status.RUNNING)
        if ending is Status.SUCCESS:
            assert repository.move(ended, Status.UPLOADING)
        assert repository.move(ended, ending)
        assert not repository.still_wanted(ended), ending
    repository.delete(task_id)
    assert not repository.still_wanted(task_id), "a deleted task"
