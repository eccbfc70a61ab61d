"""An HLS adaptive ladder: several renditions of the source from one decode, in one ffmpeg run.

The renditions share the source's frames (`split`), are never upscaled (a rung above the source
becomes the source's size, once), and get capped bitrates: the master playlist's BANDWIDTH needs them.
"""

from collections.abc import Sequence
from dataclasses import dataclass

# kbps by short side, for H.264 at the `veryfast` preset; a rung between two rows gets the lower one's.
_KBPS_BY_SHORT_SIDE = ((2160, 16000), (1440, 9000), (1080, 5000), (720, 2800), (540, 2000), (480, 1400), (360, 800))
_MIN_KBPS = 400


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    kbps: int

    @property
    def name(self) -> str:
        return f"{min(self.width, self.height)}p"


def _kbps(short_side: int) -> int:
    return next((kbps for side, kbps in _KBPS_BY_SHORT_SIDE if short_side >= side), _MIN_KBPS)


def plan_renditions(sizes: list[tuple[int, int]]) -> list[Rendition]:
    """Renditions of the output sizes of the ladder's rungs, largest first, each size once."""
    renditions: list[Rendition] = []
    for width, height in sorted(sizes, key=lambda size: size[0] * size[1], reverse=True):
        if all((r.width, r.height) != (width, height) for r in renditions):
            renditions.append(Rendition(width, height, _kbps(min(width, height))))
    return renditions


def ladder_graph(renditions: list[Rendition], pre_filters: list[str]) -> str:
    """The filter graph decoding the source once and splitting it into the renditions, labelled [v0], [v1], …"""
    labels = "".join(f"[s{i}]" for i in range(len(renditions)))
    graph = f"[0:V:0]{''.join(f + ',' for f in pre_filters)}split={len(renditions)}{labels}"
    for i, rendition in enumerate(renditions):
        graph += f";[s{i}]scale={rendition.width}:{rendition.height},setsar=1[v{i}]"
    return graph


def ladder_selection(renditions: list[Rendition], pre_filters: list[str], has_audio: bool) -> list[str]:
    """The filter graph splitting the source into the renditions, and their `-map`s (video, audio, …)."""
    args = ["-filter_complex", ladder_graph(renditions, pre_filters)]
    for i in range(len(renditions)):
        args += ["-map", f"[v{i}]", *(["-map", "0:a:0"] if has_audio else [])]
    return args


def rendition_rate(rendition: Rendition, stream: int | None = None) -> list[str]:
    """The rendition's capped bitrate: for output video stream `stream`, or for an output of its own (None)."""
    kbps = rendition.kbps
    video = "" if stream is None else f":v:{stream}"
    bitrate = "-b:v" if stream is None else f"-b:v:{stream}"
    return [bitrate, f"{kbps}k", f"-maxrate{video}", f"{int(kbps * 1.2)}k", f"-bufsize{video}", f"{kbps * 2}k"]


def ladder_rates(renditions: list[Rendition]) -> list[str]:
    return [arg for i, rendition in enumerate(renditions) for arg in rendition_rate(rendition, i)]


def var_stream_map(renditions: list[Rendition], has_audio: bool) -> list[str]:
    """One variant per rendition, each with the audio, named by its short side (`%v` in file names)."""
    return variant_stream_map([rendition.name for rendition in renditions], has_audio)


def variant_stream_map(names: Sequence[str], has_audio: bool) -> list[str]:
    """`-var_stream_map`: variant i is output video stream i (and audio stream i), named `names[i]`."""
    audio = ",a:{i}" if has_audio else ""
    variants = [f"v:{i}{audio.format(i=i)},name:{name}" for i, name in enumerate(names)]
    return ["-var_stream_map", " ".join(variants)]
