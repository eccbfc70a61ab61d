"""How ffmpeg and ffprobe read an input over the network: bounded waits, reconnects, verified TLS.

Reading a presigned URL lets ffprobe fetch only the headers it needs and lets ffmpeg encode while
the input is still arriving, instead of copying the whole input to /tmp first.
"""

import os

# A stalled connection must fail the step, not hang it until Lambda's timeout.
_READ_WRITE_TIMEOUT_MICROSECONDS = 30_000_000
_NETWORK_SCHEMES = ("http://", "https://")


def ca_bundle() -> str:
    """Certificate authorities for TLS: $CA_BUNDLE, else the bundle botocore ships (also in Lambda's runtime)."""
    configured = os.environ.get("CA_BUNDLE")
    if configured:
        return configured
    from botocore.httpsession import DEFAULT_CA_BUNDLE

    return str(DEFAULT_CA_BUNDLE)


def reader_options(source: str) -> list[str]:
    """Input options to place before `-i source` (none for a local file)."""
    if not source.startswith(_NETWORK_SCHEMES):
        return []
    options = ["-rw_timeout", str(_READ_WRITE_TIMEOUT_MICROSECONDS)]
    # Reconnect when a transfer breaks off; a refused connection or certificate fails at once.
    options += ["-reconnect", "1", "-reconnect_delay_max", "10"]
    if source.startswith("https://"):
        # ffmpeg does not verify peers unless told to.
        options += ["-tls_verify", "1", "-ca_file", ca_bundle()]
    return options


def redact(text: str, source: str) -> str:
    """Tool output names its input; a presigned URL carries a signature, so it never reaches users or logs."""
    return text.replace(source, "input") if source else text
