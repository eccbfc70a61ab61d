"""Clips for tests, made with ffmpeg's lavfi sources (cached per session by the fixtures)."""

from localmode.media import generate_clip, probe_file

__all__ = ["generate_clip", "probe_file"]
