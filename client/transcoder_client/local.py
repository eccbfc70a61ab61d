"""Local mode's state file: where `transcoder --local` finds the running local mode's API and key."""

import json
from pathlib import Path

from transcoder_client.errors import ConfigError

STATE_FILE = Path(".cache") / "localmode.json"
"""Written by `make local` in the project's checkout (localmode.__main__.STATE_FILE), removed when it stops."""


def read_state(path: str | Path) -> dict[str, str]:
    try:
        state: dict[str, str] = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: is local mode running (make local)?") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not local mode's state file ({exc})") from None
    return state
