"""`transcoder storages list|show|add|delete|types`."""

import argparse
import os

from transcoder_client.context import Context

STORAGE_COLUMNS = ("storage_id", "type", "region", "bucket", "prefix")
ENV_STORAGE_SK = "TRANSCODER_STORAGE_SK"


def register(subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subcommands.add_parser("storages", help="list, show, add and delete output storages")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="this account's storages").set_defaults(handler=list_storages)
    actions.add_parser("types", help="the storage types (no keys needed)").set_defaults(handler=storage_types)
    for name, handler, help_text in (
        ("show", show_storage, "show one storage (its secret is never returned)"),
        ("delete", delete_storage, "delete a storage no running task writes to"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("storage_id")
        action.set_defaults(handler=handler)
    add = actions.add_parser("add", help="add an output bucket")
    add.add_argument("--type", required=True, choices=("s3", "oss", "obs"))
    add.add_argument("--region", required=True)
    add.add_argument("--bucket", required=True)
    add.add_argument("--prefix", help="key prefix of every output written there")
    add.add_argument(
        "--storage-ak",
        required=True,
        help=f"the bucket's access key (its secret from ${ENV_STORAGE_SK}); a storage is reached only with its keys",
    )
    add.add_argument("--notify", help="callback URL for tasks that write there")
    add.add_argument("--storage-endpoint", help="S3-compatible endpoint URL")
    add.set_defaults(handler=add_storage)


def list_storages(ctx: Context) -> int:
    ctx.out.rows(ctx.client().list_storages(), STORAGE_COLUMNS, empty="no storages")
    return 0


def storage_types(ctx: Context) -> int:
    data = ctx.client(needs_keys=False).list_storage_types()
    if ctx.out.format == "json":
        ctx.out.item(data)
    else:
        for name in data.get("list", []):
            ctx.out.message(str(name))
    return 0


def show_storage(ctx: Context) -> int:
    ctx.out.item(ctx.client().query_storage(ctx.args.storage_id))
    return 0


def add_storage(ctx: Context) -> int:
    args = ctx.args
    # The bucket's secret is read from the environment only: on the command line it would show in `ps`.
    storage_sk = os.environ.get(ENV_STORAGE_SK)
    if not storage_sk:
        raise SystemExit(f"transcoder storages add: --storage-ak needs the secret in ${ENV_STORAGE_SK}")
    data = ctx.client().add_storage(
        args.type,
        args.region,
        args.bucket,
        prefix=args.prefix,
        storage_ak=args.storage_ak,
        storage_sk=storage_sk,
        notify=args.notify,
        endpoint=args.storage_endpoint,
    )
    ctx.out.item(data)
    return 0


def delete_storage(ctx: Context) -> int:
    ctx.client().del_storage(ctx.args.storage_id)
    ctx.out.message(f"deleted storage {ctx.args.storage_id}")
    return 0
