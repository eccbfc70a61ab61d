"""Local mode's state file: where `transcoder --local` finds the running local mode's API and key."""

import json
import os
from collections.abc import Mapping
from pathlib import Path

from transcoder_client.errors import ConfigError

STATE_FILE = Path(".cache") / "localmode.json"
"""Written by `make local` in the project's checkout (localmode.__main__.STATE_FILE), removed when it stops."""
ENV_STATE_FILE = "TRANSCODER_LOCAL_STATE"
"""Names another state file (local mode's banner exports it, so `--local` works from any directory)."""


def state_file(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """`--state-file`, else `$TRANSCODER_LOCAL_STATE`, else `.cache/localmode.json` of the current directory."""
    environ = os.environ if environ is None else environ
    return Path(explicit or environ.get(ENV_STATE_FILE) or STATE_FILE)


def read_state(path: str | Path) -> dict[str, str]:
    try:
        state: dict[str, str] = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{path} not found: is local mode running (make local)? Run from the checkout, "
            f"or set ${ENV_STATE_FILE} as its banner says"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not local mode's state file ({exc})") from None
    return state
