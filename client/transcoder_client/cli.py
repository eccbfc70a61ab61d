"""`transcoder`: the command-line client of the transcoding API.

Subcommands live in modules of transcoder_client.commands, each with `register(subcommands)`; a new one
is a module added to COMMAND_MODULES. Other installed distributions add theirs as `transcoder.commands`
entry points (the service's checkout adds the operator's `keys`): the client never imports the service.
"""

import argparse
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from transcoder_client import __version__, config, local
from transcoder_client.commands import storages, tasks, templates, uploads
from transcoder_client.context import Context
from transcoder_client.errors import ClientError, ConfigError, TaskFailed
from transcoder_client.output import FORMATS, Printer

COMMAND_MODULES: tuple[ModuleType, ...] = (tasks, uploads, templates, storages)
PLUGIN_GROUP = "transcoder.commands"

EXIT_OK = 0
EXIT_ERROR = 1
"""An API error, no answer, a failed download."""
EXIT_USAGE = 2
"""Bad arguments or configuration (argparse uses 2 as well)."""
EXIT_TASK_FAILED = 3
"""The task ended `fail` or `cancelled`."""
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
"""The reader of stdout went away (`transcoder list | head`): what a shell reports for a command killed by SIGPIPE."""


def command_modules() -> list[ModuleType]:
    """The client's own commands, then those other installed distributions register as entry points."""
    found = list(COMMAND_MODULES)
    for entry in sorted(entry_points(group=PLUGIN_GROUP), key=lambda entry: entry.name):
        try:
            found.append(entry.load())
        except ImportError as error:  # a broken plugin costs its own command, not the whole CLI
            print(f"warning: command {entry.name!r} ({entry.value}) is unavailable: {error}", file=sys.stderr)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcoder",
        description="Client of the transcoding API: tasks, templates and storages, signed with your access key.",
        epilog=(
            f"Settings come from flags, else ${config.ENV_ENDPOINT}, ${config.ENV_ACCESS_KEY_ID}, "
            f"${config.ENV_SECRET_ACCESS_KEY}, else the profile's table in ~/.config/transcoder/config.toml "
            f"(${config.ENV_CONFIG} overrides the path). Exit codes: 0 ok, 1 error, 2 usage, 3 task fail/cancelled."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, defaults=True)
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
        module.register(subcommands)
    for subparser in _subparsers(parser):
        _add_global_options(subparser, defaults=False)
    return parser


_GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (
        ("--local",),
        {
            "action": "store_true",
            "default": False,
            "help": "use the running local mode (`make local`): its API and key, from its state file",
        },
    ),
    (
        ("--state-file",),
        {
            "metavar": "PATH",
            "help": f"local mode's state file (implies --local; default ${local.ENV_STATE_FILE} or {local.STATE_FILE})",
        },
    ),
    (("--endpoint",), {"help": "API base URL, e.g. http://127.0.0.1:8080 or the stack's ApiUrl"}),
    (("--profile",), {"help": f"config file profile (default ${config.ENV_PROFILE} or 'default')"}),
    (("--access-key-id",), {"help": f"access key id (default ${config.ENV_ACCESS_KEY_ID})"}),
    (
        ("--secret-access-key",),
        {"help": f"secret key; prefer ${config.ENV_SECRET_ACCESS_KEY} or the config file (a flag shows in `ps`)"},
    ),
    (
        ("--output", "-o"),
        {"dest": "output_format", "choices": FORMATS, "default": "table", "help": "table (default) or json"},
    ),
    (("--timeout",), {"type": float, "default": 30.0, "help": "seconds per HTTP request (default 30)"}),
)


def _add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after its name (`transcoder keys --local list`).

    Only the top-level parser sets defaults: a subcommand's parser sets an option only when it is given
    there, so that it cannot reset what was given before the subcommand's name. A subcommand's own option
    of the same name wins there (the global one is still accepted before the subcommand's name).
    """
    group = parser if defaults else parser.add_argument_group("global options")
    for flags, settings in _GLOBAL_OPTIONS:
        free = [flag for flag in flags if flag not in parser._option_string_actions]
        if not free:
            continue
        group.add_argument(*free, **{**settings, "default": settings.get("default") if defaults else argparse.SUPPRESS})


def _subparsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every subcommand's parser, nested ones too (`keys list`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield subparser
                yield from _subparsers(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, where a closed pipe can still be handled, not at the interpreter's exit
        return code
    except BrokenPipeError:
        # Nothing more can reach the reader; point stdout at /dev/null so that the interpreter's final flush
        # does not fail again and print "Exception ignored ... BrokenPipeError" (Python's signal docs).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    context = Context(args=args, out=Printer(args.output_format))
    try:
        code: int = args.handler(context)
        return code
    except TaskFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_TASK_FAILED
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        raise
    except (ClientError, TimeoutError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
