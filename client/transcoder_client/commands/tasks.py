"""Task subcommands: create, query, list, watch, download, cancel, delete, summary."""

import argparse
import re
import time
from datetime import datetime
from typing import Any

from transcoder_client.client import Client
from transcoder_client.context import Context
from transcoder_client.errors import ConfigError, IncompleteDownload, TaskFailed
from transcoder_client.output import iso_time
from transcoder_client.progress import TaskProgress

STATUSES = ("pending", "downloading", "running", "uploading", "success", "fail", "cancelled")
TASK_COLUMNS = ("task_id", "status", "progress", "create_time", "template_name", "input", "objkey", "err_code")
SUMMARY_DEFAULT_HOURS = 24
"""`summary` without --since: the last 24 hours, as `list`."""
TIME_FORMS = "now, 30m/24h/7d ago, unix seconds or ISO 8601"
"""What every time flag (--since, --until) takes: parse_time."""
_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(value: str, *, now: float | None = None) -> int:
    """Unix seconds from `now`, `24h` / `30m` / `7d` (ago), 10-digit unix seconds, or ISO 8601 (local time if naive)."""
    now = time.time() if now is None else now
    text = value.strip().lower()
    if text == "now":
        return int(now)
    if match := _RELATIVE.match(text):
        return int(now) - int(match[1]) * _UNIT_SECONDS[match[2]]
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected {TIME_FORMS}") from None
    return int(moment.astimezone().timestamp() if moment.tzinfo is None else moment.timestamp())


def register(subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    create = subcommands.add_parser("create", help="create a transcoding task")
    create.add_argument("input", help="s3://bucket/key (the input bucket) or an https:// URL")
    create.add_argument("output", help="output key in the storage (the template's extension is added)")
    template = create.add_mutually_exclusive_group(required=True)
    template.add_argument("--template", "-t", dest="template_name", help="template name, e.g. MP4_264_720p")
    template.add_argument("--template-id", help="template id, e.g. builtin-MP4-264-720p")
    create.add_argument("--storage", dest="storage_id", help="storage id (default: the service's 'default')")
    create.add_argument("--client-token", help="idempotency token: the same token returns the same task")
    create.add_argument("--callback-url", help="URL the service POSTs the finished task to")
    add_max_cost(create)
    _waiting_options(create, "--wait", "wait for the task to end, showing its progress")
    create.add_argument(
        "--quiet", "-q", action="store_true", help="print only the task id (TASK=$(transcoder create ... -q))"
    )
    create.set_defaults(handler=create_task)

    query = subcommands.add_parser("query", help="show a task")
    query.add_argument("task_id")
    query.set_defaults(handler=query_task)

    listing = subcommands.add_parser("list", help="list tasks created in a time range, newest first")
    # argparse converts the string defaults too, so "24h" and "now" are taken when the command runs.
    listing.add_argument("--since", type=parse_time, default="24h", help=f"start: {TIME_FORMS} (default 24h)")
    listing.add_argument("--until", type=parse_time, default="now", help="end: as --since (default now)")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--start", type=int, default=0, help="skip this many tasks (paging)")
    listing.add_argument("--count", type=int, default=50, help="page size, at most 500 (default 50)")
    listing.add_argument("--all", action="store_true", help="fetch every page")
    listing.set_defaults(handler=list_tasks)

    watch = subcommands.add_parser("watch", help="show a task's progress until it ends (exit 3 on fail/cancelled)")
    watch.add_argument("task_id")
    _waiting_options(watch, None, None)
    watch.set_defaults(handler=watch_task, wait=True)

    download = subcommands.add_parser("download", help="download a successful task's output")
    download.add_argument("task_id")
    download.add_argument("path", nargs="?", default=".", help="file, or directory to write into (default .)")
    download.set_defaults(handler=download_output)

    for name, handler, help_text in (
        ("cancel", cancel_task, "cancel a task that has not ended"),
        ("delete", delete_task, "delete a task (a task that has not ended is cancelled first)"),
    ):
        command = subcommands.add_parser(name, help=help_text)
        command.add_argument("task_id")
        command.set_defaults(handler=handler)

    summary = subcommands.add_parser("summary", help="per-hour task counts and output minutes")
    # The same time flags as `list`; the API counts in whole hours ago, so times are rounded to the hour.
    # --from-hours/--to-hours (hours ago) were the first spellings: still accepted, no longer shown.
    summary.add_argument("--since", type=parse_time, help=f"start: {TIME_FORMS} (default 24h)")
    summary.add_argument("--until", type=parse_time, help="end: as --since (default now)")
    summary.add_argument("--from-hours", type=int, help=argparse.SUPPRESS)
    summary.add_argument("--to-hours", type=int, help=argparse.SUPPRESS)
    summary.set_defaults(handler=list_summary)


def _waiting_options(parser: argparse.ArgumentParser, flag: str | None, help_text: str | None) -> None:
    if flag:
        parser.add_argument(flag, action="store_true", help=help_text)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    parser.add_argument("--wait-timeout", type=float, help="give up waiting after this many seconds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or lines on stderr")


def add_max_cost(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="fail the task before any encode if its estimated cost is higher (default: your account's cap)",
    )


def create_task(ctx: Context) -> int:
    args = ctx.args
    client = ctx.client()
    created = client.create_task(
        args.input,
        args.output,
        template_name=args.template_name,
        template_id=args.template_id,
        storage_id=args.storage_id,
        callback_url=args.callback_url,
        client_token=args.client_token,
        max_cost=args.max_cost,
    )
    return show_created(ctx, client, created)


def show_created(ctx: Context, client: Client, created: dict[str, Any]) -> int:
    """A task just created: its id alone (-q), the task, or its progress until it ends (--wait)."""
    args = ctx.args
    if args.quiet:
        print(created["task_id"], file=ctx.out.stream, flush=True)
    elif not args.wait:
        ctx.out.item(created)
    return _watch(ctx, client, created["task_id"], show_task=not args.quiet) if args.wait else 0


def query_task(ctx: Context) -> int:
    ctx.out.item(ctx.client().query_task(ctx.args.task_id))
    return 0


def list_tasks(ctx: Context) -> int:
    args = ctx.args
    start, end = args.since, args.until
    client = ctx.client()
    page = client.list_tasks(start, end, status=args.status, start_num=args.start, count=args.count)
    if args.all:
        found = list(page.get("list", []))
        while page.get("list") and args.start + len(found) < int(page.get("total", 0)):
            page = client.list_tasks(
                start, end, status=args.status, start_num=args.start + len(found), count=args.count
            )
            found += page.get("list", [])
        page = {"list": found, "total": page.get("total", len(found)), "num": len(found)}
    shown = len(page.get("list", []))
    span = f"from {iso_time(start)} to {iso_time(end)}" + (f" with status {args.status}" if args.status else "")
    ctx.out.rows(page, TASK_COLUMNS, empty=f"no tasks {span}")
    if shown:
        ctx.out.message(f"{shown} of {page.get('total', shown)} task(s) {span}")
    return 0


def watch_task(ctx: Context) -> int:
    return _watch(ctx, ctx.client(), ctx.args.task_id)


def _watch(ctx: Context, client: Client, task_id: str, *, show_task: bool = True) -> int:
    args = ctx.args
    with TaskProgress(task_id, enabled=not args.no_progress) as progress:
        task = client.wait(task_id, progress, interval=args.interval, timeout=args.wait_timeout)
    if show_task:
        ctx.out.item(task)
    if task["status"] != "success":
        raise TaskFailed(task)
    return 0


def download_output(ctx: Context) -> int:
    try:
        written = ctx.client().download(ctx.args.task_id, ctx.args.path)
    except IncompleteDownload as error:
        for path in error.written:
            ctx.out.message(path)
        raise
    for path in written:
        ctx.out.message(path)
    if ctx.out.format == "json":
        ctx.out.item({"files": written})
    return 0


def cancel_task(ctx: Context) -> int:
    ctx.out.item(ctx.client().cancel_task(ctx.args.task_id))
    return 0


def delete_task(ctx: Context) -> int:
    ctx.client().delete_task(ctx.args.task_id)
    ctx.out.message(f"deleted {ctx.args.task_id}")
    return 0


def list_summary(ctx: Context) -> int:
    args, now = ctx.args, time.time()
    start: int | None
    end: int | None
    if args.from_hours is not None or args.to_hours is not None:
        if args.since is not None or args.until is not None:
            raise ConfigError("summary: give --since/--until, or the older --from-hours/--to-hours, not both")
        start, end = args.from_hours, args.to_hours  # as they always were: what is missing, the API's default
    else:
        end = 0 if args.until is None else hours_ago(args.until, now)
        start = SUMMARY_DEFAULT_HOURS if args.since is None else hours_ago(args.since, now)
        start = max(start, end + 1)  # less than an hour apart: the hour that holds them
    data: dict[str, Any] = ctx.client().list_summary(start, end)
    columns = [column for column in (data.get("list") or [{}])[0]]
    ctx.out.rows(data, columns, empty="no tasks in that range")
    return 0


def hours_ago(unix_seconds: int, now: float) -> int:
    """What list_summary takes: a time as whole hours before now (the nearest, never in the future)."""
    return max(0, round((now - unix_seconds) / 3600))
