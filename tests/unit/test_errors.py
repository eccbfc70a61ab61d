"""err_code mapping of the errors a task can end with (api.md, transcode error codes)."""

import pytest

from transcoder import errors
from transcoder.errors import INTERNAL_ERROR_CODE, SUCCESS_CODE, TaskError, err_code_for

EXPECTED = {
    "InputNotFound": 2001,
    "InputNotDecodable": 2002,
    "InputOverLimits": 2003,
    "NoVideoStream": 2004,
    "LogoNotUsable": 2005,
    "CostOverCap": 2006,
    "TranscodeFailed": 3001,
    "TranscodeTimedOut": 3002,
    "OutputWriteFailed": 4001,
    "TaskCancelled": 5001,
    "StoppedOutsideService": 9001,
    "TaskStuck": 9002,
}


@pytest.mark.parametrize(("name", "code"), EXPECTED.items())
def test_error_name_maps_to_code(name: str, code: int) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, TaskError)
    assert cls.err_code == code
    assert cls("x").err_code == code
    assert err_code_for(name) == code


def test_every_task_error_subclass_is_known() -> None:
    subclasses = {cls.__name__ for cls in TaskError.__subclasses__()}
    assert subclasses == set(EXPECTED)
    assert len(set(EXPECTED.values())) == len(EXPECTED)


@pytest.mark.parametrize("name", ["States.Timeout", "Sandbox.Timedout"])
def test_timeouts_map_to_3002(name: str) -> None:
    assert err_code_for(name) == 3002


@pytest.mark.parametrize(
    "name",
    [
        "",
        "TaskError",
        "Exception",
        "States.ALL",
        "States.TaskFailed",
        "Lambda.ServiceException",
        "TransientStorageError",
        "StatusConflict",
        "inputnotfound",  # names are case-sensitive
        "transcoder.errors.InputNotFound",
        "KeyError",
    ],
)
def test_anything_else_maps_to_9000(name: str) -> None:
    assert err_code_for(name) == 9000


def test_constants() -> None:
    assert INTERNAL_ERROR_CODE == 9000
    assert SUCCESS_CODE == 0
    assert TaskError.err_code == 9000


def test_non_task_errors_are_not_task_errors() -> None:
    assert not issubclass(errors.TransientStorageError, TaskError)
    assert not issubclass(errors.StatusConflict, TaskError)
