"""Where the static ffmpeg and ffprobe are: the Lambda layer's /opt/bin, or a configured path."""

import os
import shutil

_LAYER_BIN = "/opt/bin"


def _find(name: str, env_var: str) -> str:
    configured = os.environ.get(env_var)
    if configured:
        return configured
    layer_path = os.path.join(_LAYER_BIN, name)
    if os.access(layer_path, os.X_OK):
        return layer_path
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found: set {env_var} or attach the ffmpeg layer")


def ffmpeg_path() -> str:
    return _find("ffmpeg", "FFMPEG_PATH")


def ffprobe_path() -> str:
    return _find("ffprobe", "FFPROBE_PATH")
