"""Turn a template and the probed source into an ffmpeg argument list.

Only validated template fields and probed numbers reach the arguments; nothing is
passed through as raw text, and the list is executed without a shell.
"""

import math
import os
from dataclasses import dataclass

from transcoder.media.info import MediaInfo, VideoStream
from transcoder.media.ladder import (
    Rendition,
    ladder_graph,
    ladder_rates,
    ladder_selection,
    plan_renditions,
    rendition_rate,
    var_stream_map,
)
from transcoder.media.sources import reader_options
from transcoder.template_rules import (
    DEFAULT_LIMITS,
    MIN_OUTPUT_SIDE,
    OutputLimits,
    check_output,
    check_template,
    min_output_side,
    parse_logo_offset,
    parse_logo_size,
    parse_resolution,
)
from transcoder.templates import DEFAULT_AUDIO_BITRATE_KBPS, ContainerFormat, Template, VideoCodec

# CRF for quality 5 is each encoder's own default (x264 23, x265 28); each step is 2.
_CRF_AT_QUALITY_5 = {VideoCodec.H264: 23, VideoCodec.H265: 28}
_ENCODERS = {VideoCodec.H264: "libx264", VideoCodec.H265: "libx265"}
PRESET = "veryfast"
DEFAULT_HLS_SEGMENT_SECONDS = 6
DEFAULT_LOGO_OFFSET = (10, 10)


@dataclass(frozen=True)
class EncodePlan:
    width: int
    height: int
    fps: float
    has_audio: bool
    output_args: list[str]
    """Everything after the input: stream selection, filters, codecs, container."""
    segmented: bool = False
    """HLS: the destination is a playlist, with segments named after it in the same folder."""
    logo_input: tuple[int, int] | None = None
    """(width, height) of the raw RGBA logo read as the second input, when the template draws one."""
    variant_names: tuple[str, ...] = ()
    """HLS ladder: the destination is the master playlist; each variant's files carry its name."""
    video_args: tuple[str, ...] = ()
    """The video part of `output_args` (selection, filters, codec, rate control, GOP) without keyframes
    forced for HLS: what each chunk of a chunked encode repeats."""
    audio_args: tuple[str, ...] = ()
    """The audio codec part of `output_args` (empty without audio): what the once-per-task audio encode uses."""
    output_rate: str | None = None
    """The template's frame rate when it changes the source's (the `fps` filter's value), else None."""
    hls_segment_seconds: int | None = None
    """HLS: the segment length, on whose grid keyframes are forced."""
    container_args: tuple[str, ...] = ()
    """The container part of `output_args` (`-f …` and its options)."""
    ladder_graph: str | None = None
    """HLS ladder: the filter graph decoding the source once and splitting it into the variants, whose
    outputs are labelled [v0], [v1], … in `variant_names` order."""
    variant_video_args: tuple[tuple[str, ...], ...] = ()
    """HLS ladder: per variant, the arguments of an output file holding only that variant's video (its
    `-map [v<i>]`, codec, its own rate control, GOP, tag), without forced keyframes: what each chunk
    repeats for every variant."""

    def command(self, ffmpeg: str, source: str, destination: str, logo: str | None = None) -> list[str]:
        naming, target = self.hls_naming(destination)
        return [
            *(ffmpeg, "-hide_banner", "-nostdin", "-y"),
            *reader_options(source),
            *("-i", source, *self.logo_arguments(logo), *self.output_args, *naming, target),
        ]

    def hls_naming(self, destination: str) -> tuple[list[str], str]:
        """HLS: the options naming the files written beside `destination`, and the output ffmpeg is given.

        A single playlist's segments are `<stem>_00000.ts`…; a ladder's `destination` is the master
        playlist, each variant's playlist `<stem>_<name>.m3u8` and its segments `<stem>_<name>_00000.ts`….
        """
        if not self.segmented:
            return [], destination
        stem = os.path.splitext(destination)[0]
        if not self.variant_names:
            return ["-hls_segment_filename", f"{stem}_%05d.ts"], destination
        # %v is each variant's name; the master playlist goes beside them, named as the output.
        naming = ["-master_pl_name", os.path.basename(destination), "-hls_segment_filename", f"{stem}_%v_%05d.ts"]
        return naming, f"{stem}_%v.m3u8"

    def logo_arguments(self, logo: str | None) -> list[str]:
        """The logo's input options and `-i`, placed after the source's input."""
        if (logo is None) != (self.logo_input is None):
            raise ValueError("a logo input is needed exactly when the plan draws a logo")
        if logo is None or self.logo_input is None:
            return []
        width, height = self.logo_input
        # Raw pixels of a size we decoded ourselves: ffmpeg has nothing to guess or parse.
        raw = ["-f", "rawvideo", "-pixel_format", "rgba", "-video_size", f"{width}x{height}"]
        return [*reader_options(logo), *raw, "-i", logo]


def _even(value: float, min_side: int) -> int:
    return max(min_side, round(value / 2) * 2)


def output_size(video: VideoStream, resolution: str, min_side: int = MIN_OUTPUT_SIDE) -> tuple[int, int]:
    """Keep the display aspect ratio, even dimensions, and never upscale a `Np` resolution.

    No side is below `min_side`, the smallest the encoder takes reliably: only a tiny source or a
    sliver of an extreme aspect ratio gets there, and is stretched to it rather than failed.
    """
    width, height = video.display_width, video.display_height
    try:
        parsed = parse_resolution(resolution)
    except ValueError as exc:
        raise ValueError(f"resolution {resolution!r}: {exc}") from exc
    if parsed.short_side is not None:
        scale = min(1.0, parsed.short_side / min(width, height))
    elif parsed.box is not None:
        scale = min(parsed.box[0] / width, parsed.box[1] / height)
    else:
        scale = 1.0
    return _even(width * scale, min_side), _even(height * scale, min_side)


def crf_for(template: Template) -> int:
    return _CRF_AT_QUALITY_5[template.vcodec] - 2 * (template.quality - 5)


def logo_placement(template: Template, logo_input: tuple[int, int]) -> tuple[int, int, int, int]:
    """(width, height, x, y) of the logo in the output, as integers parsed from the validated fields."""
    try:
        width, height = parse_logo_size(template.logo_size) or logo_input
    except ValueError as exc:
        raise ValueError(f"logo_size {template.logo_size!r}: {exc}") from exc
    try:
        x, y = parse_logo_offset(template.logo_offset) or DEFAULT_LOGO_OFFSET
    except ValueError as exc:
        raise ValueError(f"logo_offset {template.logo_offset!r}: {exc}") from exc
    return width, height, x, y


def _video_selection(video_filters: list[str], template: Template, logo_input: tuple[int, int] | None) -> list[str]:
    """`-map`/`-vf` for the source's video, or a filter graph that also draws the logo over it."""
    if logo_input is None:
        return ["-map", "0:V:0", "-vf", ",".join(video_filters)]
    width, height, x, y = logo_placement(template, logo_input)
    graph = f"[0:V:0]{','.join(video_filters)}[base];"
    logo = "[1:v:0]"
    if (width, height) != logo_input:
        graph += f"{logo}scale={width}:{height}[logo];"
        logo = "[logo]"
    # The logo is one frame: overlay repeats it to the end (eof_action=repeat), so the output keeps
    # the source's frames, and the source stays the main input, so its timing drives the output.
    graph += f"[base]{logo}overlay=x={x}:y={y}:eof_action=repeat:repeatlast=1[video]"
    return ["-filter_complex", graph, "-map", "[video]"]


def plan_encode(
    template: Template,
    media: MediaInfo,
    logo_input: tuple[int, int] | None = None,
    *,
    limits: OutputLimits = DEFAULT_LIMITS,
) -> EncodePlan:
    """`logo_input`: (width, height) of the staged logo; required exactly when the template has a logo.

    Raises TemplateRuleError when a field breaks today's rules (the template was stored before they
    changed), OutputOverLimits when the output made of this source would be beyond `limits`.
    """
    if media.video is None:
        raise ValueError("a source without a video stream cannot be planned")
    template = check_template(template, limits)
    if (template.logo_path is None) != (logo_input is None):
        raise ValueError("a template with logo_path needs its staged logo, and only then")
    fps = template.framerate or media.video.fps
    rate_filters = []
    output_rate = None
    if template.framerate and not math.isclose(template.framerate, media.video.fps, rel_tol=1e-3):
        output_rate = f"{template.framerate:g}"
        rate_filters.append(f"fps={output_rate}")
    renditions: list[Rendition] = []
    if template.renditions:
        if logo_input is not None or template.format is not ContainerFormat.HLS:
            raise ValueError("a ladder is an HLS template without a logo")
        sizes = [output_size(media.video, f"{side}p", min_output_side(template.vcodec)) for side in template.renditions]
        renditions = plan_renditions(sizes)
        width, height = renditions[0].width, renditions[0].height
        args = ladder_selection(renditions, rate_filters, has_audio=media.audio is not None)
        video_selection = args
    else:
        width, height = output_size(media.video, template.resolution, min_output_side(template.vcodec))
        video_selection = _video_selection([f"scale={width}:{height}", "setsar=1", *rate_filters], template, logo_input)
        args = list(video_selection)
        if media.audio is not None:
            args += ["-map", "0:a:0"]
    check_output(width, height, fps, limits)
    encoder = ["-c:v", _ENCODERS[template.vcodec], "-preset", PRESET]
    pixels_and_gop = ["-pix_fmt", "yuv420p"]
    if template.gop_seconds:
        pixels_and_gop += ["-g", str(max(1, round(fps * template.gop_seconds)))]
    if renditions:
        rate = ladder_rates(renditions)
    elif template.video_bitrate:
        kbps = template.video_bitrate
        rate = ["-b:v", f"{kbps}k", "-maxrate", f"{int(kbps * 1.2)}k", "-bufsize", f"{kbps * 2}k"]
    else:
        rate = ["-crf", str(crf_for(template))]
    codec = [*encoder, *rate, *pixels_and_gop]
    args += codec
    segment_seconds = None
    if template.format is ContainerFormat.HLS:
        # Segments can only start at keyframes: put one at every segment boundary.
        segment_seconds = template.hls_seg_time or DEFAULT_HLS_SEGMENT_SECONDS
        args += ["-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})"]
    tag = []
    if template.vcodec is VideoCodec.H265:
        # hvc1 is the tag Apple players require for HEVC in MP4.
        tag = ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
    args += tag
    audio: list[str] = []
    if media.audio is not None:
        audio_kbps = template.audio_bitrate or DEFAULT_AUDIO_BITRATE_KBPS
        audio = ["-c:a", "aac", "-b:a", f"{audio_kbps}k"]
        if media.audio.channels > 2:
            audio += ["-ac", "2"]
    args += audio
    args += ["-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"]
    container = _container_args(template)
    args += container
    if renditions:
        args += var_stream_map(renditions, has_audio=media.audio is not None)
    return EncodePlan(
        width=width,
        height=height,
        fps=fps,
        has_audio=media.audio is not None,
        output_args=args,
        segmented=template.format is ContainerFormat.HLS,
        logo_input=logo_input,
        variant_names=tuple(r.name for r in renditions),
        video_args=tuple([*video_selection, *codec, *tag]) if not renditions else (),
        ladder_graph=ladder_graph(renditions, rate_filters) if renditions else None,
        variant_video_args=tuple(
            ("-map", f"[v{i}]", *encoder, *rendition_rate(rendition), *pixels_and_gop, *tag)
            for i, rendition in enumerate(renditions)
        ),
        audio_args=tuple(audio),
        output_rate=output_rate,
        hls_segment_seconds=segment_seconds,
        container_args=tuple(container),
    )


def _container_args(template: Template) -> list[str]:
    if template.format is ContainerFormat.HLS:
        seconds = template.hls_seg_time or DEFAULT_HLS_SEGMENT_SECONDS
        return ["-f", "hls", "-hls_time", str(seconds), "-hls_playlist_type", "vod", "-hls_list_size", "0"]
    if template.format is ContainerFormat.FLV:
        return ["-f", "flv"]
    return ["-movflags", "+faststart", "-f", "mp4"]
