"""The `transcoder` subcommands, one module per group, each with `register(subcommands)`."""
