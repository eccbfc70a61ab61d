"""`transcoder upload FILE`: transcode a file from disk (create_upload's presigned POST, then create_task)."""

import argparse

from transcoder_client.commands import tasks
from transcoder_client.context import Context


def register(subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    upload = subcommands.add_parser(
        "upload",
        help="upload a file from disk into your part of the input bucket and transcode it",
        description="Upload FILE (streamed, at most the service's upload limit) and create a task for it.",
    )
    upload.add_argument("file", help="the video file to transcode")
    template = upload.add_mutually_exclusive_group()
    template.add_argument(
        "--template", "-t", dest="template_name", default=None, help="template name (default MP4_264_720p)"
    )
    template.add_argument("--template-id", help="template id, e.g. builtin-MP4-264-720p")
    # The global --output (the printed format) stays available as -o here.
    upload.add_argument(
        "--output", dest="output_key", help="output key in the storage (default: FILE's name without extension)"
    )
    upload.add_argument("--storage", dest="storage_id", help="storage id (default: the service's 'default')")
    upload.add_argument("--content-type", help="the file's media type (default: from its extension, e.g. video/mp4)")
    upload.add_argument("--callback-url", help="URL the service POSTs the finished task to")
    tasks.add_max_cost(upload)
    upload.add_argument("--wait", action="store_true", help="wait for the task to end, showing its progress")
    upload.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    upload.add_argument("--wait-timeout", type=float, help="give up waiting after this many seconds")
    upload.add_argument("--no-progress", action="store_true", help="no progress bar or lines on stderr")
    upload.add_argument("--quiet", "-q", action="store_true", help="print only the task id")
    upload.set_defaults(handler=upload_file)


DEFAULT_TEMPLATE = "MP4_264_720p"


def upload_file(ctx: Context) -> int:
    args = ctx.args
    client = ctx.client()
    task = client.upload(
        args.file,
        args.output_key,
        template_name=args.template_name or (None if args.template_id else DEFAULT_TEMPLATE),
        template_id=args.template_id,
        content_type=args.content_type,
        storage_id=args.storage_id,
        callback_url=args.callback_url,
        max_cost=args.max_cost,
    )
    return tasks.show_created(ctx, client, task)
