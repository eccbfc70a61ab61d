"""`transcoder keys create|disable|enable|list|account`: the operator's access-key command (api.md, ext).

It works on the deployment's key table directly, with the operator's own AWS credentials (or against
local mode's emulator with `transcoder keys --local ...`), never through the API: the API cannot mint keys.
It needs the service's own modules and boto3, as in a checkout of the project: the project registers it as a
`transcoder.commands` entry point, and the `transcoder` command of the client distribution adds it when present.
"""

import argparse
import os
import sys
from typing import Any

from transcoder_client import local
from transcoder_client.context import Context
from transcoder_client.output import iso_time

DEFAULT_STACK = "Transcoder"  # infra.names.STACK_NAME; the client package does not import the CDK app


def register(subcommands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = subcommands.add_parser("keys", help="create, disable, enable and list API access keys (operators)")
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"the deployed stack (default {DEFAULT_STACK})")
    actions = parser.add_subparsers(dest="keys_action", required=True)
    create = actions.add_parser("create", help="a new key for an account; its secret is shown once")
    create.add_argument("--account", required=True, help="the account the key's requests act for")
    create.add_argument("--description", default="", help="a note for operators (who holds the key)")
    create.add_argument("--max-cost", type=float, help="also set the account's default max_cost (USD)")
    for name, help_text in (("disable", "refuse the key's requests from now on"), ("enable", "accept them again")):
        actions.add_parser(name, help=help_text).add_argument("access_key_id")
    account = actions.add_parser("account", help="show or set an account's default max_cost (USD) of its tasks")
    account.add_argument("account")
    cap = account.add_mutually_exclusive_group()
    cap.add_argument("--max-cost", type=float, help="tasks that give no max_cost are capped at this")
    cap.add_argument("--no-max-cost", action="store_true", help="remove the account's default cap")
    listing = actions.add_parser("list", help="every key (never secrets)")
    listing.add_argument("--account", help="only this account's keys")
    parser.set_defaults(handler=run)


def run(ctx: Context) -> int:
    args = ctx.args
    _use_deployment(ctx)
    from transcoder.auth import accounts, keys  # after _use_deployment: pynamodb reads the table name at import

    try:
        if args.keys_action == "account":
            _account(accounts, args)
        elif args.keys_action == "create":
            if args.max_cost is not None:
                accounts.set_max_cost(args.account, args.max_cost)  # refused before a key is made
            new = keys.create(args.account, description=args.description)
            print(f"access key id:     {new.access_key.access_key_id}")
            print(f"secret access key: {new.secret_access_key}")
            print(f"account:           {new.access_key.account_id}")
            print("Store the secret now: it is kept encrypted and cannot be shown again.", file=sys.stderr)
        elif args.keys_action in ("disable", "enable"):
            status = keys.DISABLED if args.keys_action == "disable" else keys.ENABLED
            changed = keys.set_status(args.access_key_id, status)
            print(f"{changed.access_key_id} ({changed.account_id}) is {changed.status}")
        else:
            _print_keys(keys.list_all(args.account))
    except (keys.UnknownKey, keys.KeyExists, ValueError) as exc:
        print(f"transcoder keys: {exc}", file=sys.stderr)
        return 1
    return 0


def _account(accounts: Any, args: Any) -> None:
    if args.max_cost is not None or args.no_max_cost:
        accounts.set_max_cost(args.account, None if args.no_max_cost else args.max_cost)
    cap = accounts.default_max_cost(args.account)
    print(f"account {args.account}: default max_cost {f'${cap:g}' if cap else 'none'}")


def _print_keys(found: list[Any]) -> None:
    print(f"{'ACCESS KEY ID':<18}{'ACCOUNT':<22}{'STATUS':<10}{'CREATED':<27}DESCRIPTION")
    for key in found:
        created = iso_time(key.create_time)
        print(f"{key.access_key_id:<18}{key.account_id:<22}{key.status:<10}{created:<27}{key.description}")


def _use_deployment(ctx: Context) -> None:
    """Point the key store at the stack's key table and KMS key, or at local mode's."""
    if ctx.uses_local_mode():
        state = local.read_state(ctx.local_state_file())
        os.environ["AWS_ENDPOINT_URL"] = state["aws_endpoint_url"]
        # The emulator accepts any credentials; these name nothing real.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ[name] = "local"
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        table, kms_key = state["keys_table"], state["keys_kms_key_id"]
    else:
        table, kms_key = _stack_outputs(ctx.args.stack)
    os.environ["KEYS_TABLE"] = table
    os.environ["KEYS_KMS_KEY_ID"] = kms_key


def _stack_outputs(stack: str) -> tuple[str, str]:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except (BotoCoreError, ClientError) as exc:
        raise SystemExit(f"transcoder keys: cannot read stack {stack!r}: {exc}") from exc
    outputs = {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}
    try:
        return outputs["AccessKeysTableName"], outputs["AccessKeyEncryptionKeyArn"]
    except KeyError as exc:
        raise SystemExit(f"transcoder keys: stack {stack!r} has no output {exc}: deploy this version first") from exc
