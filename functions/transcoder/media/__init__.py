"""Probing and encoding media with the static ffmpeg/ffprobe binaries."""
