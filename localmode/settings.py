"""The deployment settings local mode synthesizes with: cdk.json's, then $TRANSCODER_SETTINGS, then `--context`.

Every setting is typed by its DeploymentSettings field (infra/settings.py): a new field can be set here at once.
A bad setting is refused before any synth, in one line that names it and says what it accepts.
"""

import json
import math
import os
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from infra.settings import CONTEXT_KEY, DeploymentSettings

CDK_CONTEXT_ENV = "CDK_CONTEXT_JSON"
"""The CDK CLI's context for the app; when set, the app reads its settings there instead of cdk.json."""
SETTINGS_ENV = "TRANSCODER_SETTINGS"
"""A JSON object of deployment settings (cdk.json's `transcoder` keys) that local mode synthesizes with,
e.g. `{"trusted_input_networks": ["127.0.0.1/32"]}` to fetch inputs from and call back to this machine."""
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
"""Read here, not through infra.app: importing the CDK starts its node runtime, which a refusal needs not wait for."""


class SettingError(ValueError):
    """A setting local mode cannot synthesize with; the message names it and what it accepts."""


@dataclass(frozen=True)
class SettingType:
    """How a setting's value is read from `--context` text and from JSON ($TRANSCODER_SETTINGS, cdk.json)."""

    accepts: str
    """What the value may be, for the refusal's message."""
    from_text: Callable[[str], Any]
    from_json: Callable[[Any], Any]
    """Both raise ValueError for a value of another type."""


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(value)
    return value


def _text_to_bool(text: str) -> bool:
    choices = {"true": True, "false": False}
    if text.strip().lower() not in choices:
        raise ValueError(text)
    return choices[text.strip().lower()]


def _json_of(kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise ValueError(value)
        return value

    return check


def _one_of(choices: tuple[Any, ...]) -> SettingType:
    by_text = {str(choice): choice for choice in choices}

    def from_text(text: str) -> Any:
        return by_text[text.strip()] if text.strip() in by_text else _refuse(text)

    def from_json(value: Any) -> Any:
        return value if value in choices and type(value) in {type(choice) for choice in choices} else _refuse(value)

    return SettingType(f"one of {', '.join(by_text)}", from_text, from_json)


def _refuse(value: Any) -> Any:
    raise ValueError(value)


def _optional(inner: SettingType) -> SettingType:
    return SettingType(
        f"{inner.accepts}, or none",
        lambda text: None if text.strip().lower() == "none" else inner.from_text(text),
        lambda value: None if value is None else inner.from_json(value),
    )


def _items(inner: SettingType) -> SettingType:
    def from_json(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError(value)
        return tuple(inner.from_json(item) for item in value)

    return SettingType(
        f"comma-separated values ({inner.accepts} each; empty for none)",
        lambda text: tuple(inner.from_text(item.strip()) for item in text.split(",") if item.strip()),
        from_json,
    )


_SCALARS = {
    bool: SettingType("true or false", _text_to_bool, _json_of(bool)),
    int: SettingType("a whole number", lambda text: int(text.strip()), _integer),
    float: SettingType("a number", lambda text: _number(float(text)), _number),
    str: SettingType("text", lambda text: text, _json_of(str)),
}


def setting_type(annotation: Any) -> SettingType:
    """The reading of a DeploymentSettings field's type; TypeError for a type this module cannot read yet."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return _one_of(arguments)
    if origin is tuple and len(arguments) == 2 and arguments[1] is Ellipsis:
        return _items(setting_type(arguments[0]))
    if origin in (typing.Union, types.UnionType) and type(None) in arguments and len(arguments) == 2:
        return _optional(setting_type(next(argument for argument in arguments if argument is not type(None))))
    raise TypeError(f"no reading of {annotation} from text: add one to localmode/settings.py")


def setting_annotations() -> dict[str, Any]:
    """Every setting's type, by name, from the fields of DeploymentSettings."""
    hints = typing.get_type_hints(DeploymentSettings)
    return {field.name: hints[field.name] for field in fields(DeploymentSettings) if field.init}


def _annotation_of(name: str, where: str) -> Any:
    known = setting_annotations()
    if name not in known:
        raise SettingError(f"{where}: unknown setting {name!r}; the settings are {', '.join(known)}")
    return known[name]


def parse_assignment(text: str) -> tuple[str, Any]:
    """`name=value` of `--context`, typed by the setting's field."""
    name, equals, value = text.partition("=")
    name = name.strip()
    if not equals or not name:
        raise SettingError(f"--context {text}: expected name=value, e.g. max_input_seconds=60")
    annotation = _annotation_of(name, f"--context {text}")
    try:
        kind = setting_type(annotation)
    except TypeError:
        raise SettingError(
            f"--context {text}: {name} ({annotation}) has no text form; set it in ${SETTINGS_ENV}"
        ) from None
    try:
        return name, kind.from_text(value)
    except ValueError:
        raise SettingError(f"--context {text}: {name} takes {kind.accepts}, not {value!r}") from None


def _from_json(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SettingError(f'{where} must be a JSON object of settings, e.g. {{"max_input_seconds": 60}}')
    typed: dict[str, Any] = {}
    for name, value in raw.items():
        annotation = _annotation_of(name, where)
        try:
            kind = setting_type(annotation)
        except TypeError:
            typed[name] = value  # a type without a reading yet: DeploymentSettings' own checks judge it
            continue
        try:
            typed[name] = kind.from_json(value)
        except ValueError:
            raise SettingError(f"{where}: {name} takes {kind.accepts}, not {json.dumps(value)}") from None
    return typed


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """$TRANSCODER_SETTINGS, typed."""
    raw = environ.get(SETTINGS_ENV, "")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise SettingError(f"{SETTINGS_ENV} is not JSON ({error})") from None
    return _from_json(parsed, SETTINGS_ENV)


def local_settings(
    assignments: Sequence[str] = (), environ: Mapping[str, str] = os.environ, cdk_json: Path = CDK_JSON
) -> dict[str, Any]:
    """The settings local mode synthesizes with over cdk.json's: $TRANSCODER_SETTINGS's, then `--context
    name=value`'s (the command line wins), typed.

    Checked as the DeploymentSettings the synth builds from cdk.json's settings and these: SettingError names
    the setting, whatever refuses it (its type, or DeploymentSettings' own checks), and where it was set.
    """
    # Under $CDK_CONTEXT_JSON (the CDK CLI's way in) the app reads its context from there, not from cdk.json.
    where = f"${CDK_CONTEXT_ENV}" if CDK_CONTEXT_ENV in environ else "cdk.json"
    try:
        context = json.loads(environ[CDK_CONTEXT_ENV]) if CDK_CONTEXT_ENV in environ else _cdk_json_context(cdk_json)
    except ValueError as error:
        raise SettingError(f"{where} is not JSON ({error})") from None
    deployed = _from_json(context.get(CONTEXT_KEY, {}) if isinstance(context, dict) else context, where)
    from_environment = environment_settings(environ)
    from_command_line = dict(parse_assignment(assignment) for assignment in assignments)
    overrides = {**from_environment, **from_command_line}
    source = {
        **dict.fromkeys(deployed, where),
        **dict.fromkeys(from_environment, f"${SETTINGS_ENV}"),
        **dict.fromkeys(from_command_line, "--context"),
    }
    _check({**deployed, **overrides}, source)
    return overrides


def _cdk_json_context(path: Path) -> Any:
    return json.loads(path.read_text())["context"]


def _check(effective: dict[str, Any], source: dict[str, str]) -> None:
    try:
        DeploymentSettings(**effective)
    except ValueError as error:
        named = [name for name in setting_annotations() if re.search(rf"\b{name}\b", str(error))]
        # Some checks (a network's syntax) do not name the setting: the one that fails alone is it.
        culprits = named or [name for name in effective if _fails_alone(name, effective[name])]
        prefix = "" if named else f"{', '.join(culprits)}: "
        settings = ", ".join(
            f"{name}={_shown(effective[name])} from {source[name]}" for name in culprits if name in source
        )
        raise SettingError(f"{prefix}{error}" + (f" ({settings})" if settings else "")) from None


def _fails_alone(name: str, value: Any) -> bool:
    try:
        DeploymentSettings(**{name: value})
    except ValueError:
        return True
    return False


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value).lower() if isinstance(value, bool) else str(value)
