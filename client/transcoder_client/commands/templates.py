"""`transcoder templates list|show|add|update|delete`."""

import argparse
from typing import Any

from transcoder_client.context import Context

TEMPLATE_COLUMNS = ("name", "template_id", "template_type", "format", "vcodec", "resolution", "quality", "framerate")
# The template fields of api.md a command-line option sets: (option, field, type).
_FIELDS: tuple[tuple[str, str, type], ...] = (
    ("--description", "description", str),
    ("--format", "format", str),
    ("--quality", "quality", int),
    ("--framerate", "framerate", float),  # 23.976, 29.97: the API keeps 3 decimals
    ("--resolution", "resolution", str),
    ("--vcodec", "vcodec", str),
    ("--acodec", "acodec", str),
    ("--audio-bitrate", "audio_bitrate", int),
    ("--video-bitrate", "video_bitrate", int),
    ("--gop-seconds", "gop_seconds", float),
    ("--hls-seg-time", "hls_seg_time", int),
)


def register(subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subcommands.add_parser("templates", help="list, show, add, update and delete templates")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="every template, built-ins first").set_defaults(handler=list_templates)
    for name, handler, help_text in (
        ("show", show_template, "show one template"),
        ("delete", delete_template, "delete a custom template"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("name", nargs="?", help="template name")
        action.add_argument("--id", dest="template_id", help="template id instead of the name")
        action.set_defaults(handler=handler)
    for name, handler, help_text in (
        ("add", add_template, "add a custom template (unset fields take the API's defaults)"),
        ("update", update_template, "change fields of a custom template"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("name")
        for option, field, kind in _FIELDS:
            action.add_argument(option, dest=field, type=kind, metavar=field.upper())
        action.set_defaults(handler=handler)


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, field) for _, field, _ in _FIELDS if getattr(args, field) is not None}


def _which(args: argparse.Namespace) -> dict[str, str | None]:
    if bool(args.name) == bool(args.template_id):
        raise SystemExit(f"transcoder templates {args.action}: give a template name or --id, not both")
    return {"name": args.name, "template_id": args.template_id}


def list_templates(ctx: Context) -> int:
    ctx.out.rows(ctx.client().list_templates(), TEMPLATE_COLUMNS, empty="no templates")
    return 0


def show_template(ctx: Context) -> int:
    ctx.out.item(ctx.client().query_template(**_which(ctx.args)))
    return 0


def add_template(ctx: Context) -> int:
    ctx.out.item(ctx.client().add_template(ctx.args.name, **_fields(ctx.args)))
    return 0


def update_template(ctx: Context) -> int:
    fields = _fields(ctx.args)
    if not fields:
        raise SystemExit("transcoder templates update: give at least one field to change, e.g. --quality 7")
    ctx.out.item(ctx.client().update_template(ctx.args.name, **fields))
    return 0


def delete_template(ctx: Context) -> int:
    which = _which(ctx.args)
    ctx.client().del_template(**which)
    ctx.out.message(f"deleted template {which['name'] or which['template_id']}")
    return 0
