"""What a subcommand's handler gets: its arguments, the printer, and a client built from the settings."""

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from transcoder_client import config, local
from transcoder_client.client import Client
from transcoder_client.errors import ConfigError
from transcoder_client.output import Printer


@dataclass
class Context:
    """What a subcommand's handler gets: its arguments, the printer, and the client on demand."""

    args: argparse.Namespace
    out: Printer

    def uses_local_mode(self) -> bool:
        return bool(self.args.local or self.args.state_file)

    def local_state_file(self) -> Path:
        return local.state_file(self.args.state_file)

    def settings(self) -> config.Settings:
        # --local stands for the flags of the running local mode; explicit flags still win.
        state = local.read_state(self.local_state_file()) if self.uses_local_mode() else {}
        settings = config.resolve(
            endpoint=self.args.endpoint or state.get("api_url"),
            access_key_id=self.args.access_key_id or state.get("access_key_id"),
            secret_access_key=self.args.secret_access_key or state.get("secret_access_key"),
            profile=self.args.profile,
        )
        for warning in settings.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        return settings

    def client(self, *, needs_keys: bool = True) -> Client:
        settings = self.settings()
        if not settings.endpoint:
            raise ConfigError(
                f"no endpoint: give --endpoint, set ${config.ENV_ENDPOINT} or add it to profile [{settings.profile}]"
            )
        if needs_keys and not (settings.access_key_id and settings.secret_access_key):
            raise ConfigError(
                f"no access key: set ${config.ENV_ACCESS_KEY_ID} and ${config.ENV_SECRET_ACCESS_KEY} "
                f"or add them to profile [{settings.profile}] of {config.default_config_path(os.environ)}"
            )
        return Client(settings.endpoint, settings.access_key_id, settings.secret_access_key, timeout=self.args.timeout)
