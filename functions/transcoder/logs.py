"""Log lines without secrets: every URL that reaches a log loses its query string, fragment and userinfo.

URLs carry bearer secrets in those parts: a storage's `notify?token=…`, presigned `X-Amz-Signature=…`,
`https://user:password@host`. Redaction is applied where lines are written, not where they are logged,
so it covers every message, `extra` field and traceback of every logger in a function's process:
- the service's Powertools logger (all `Logger()`s of a process share it, and the standard `logging`
  loggers named `transcoder.*` propagate to it) formats through RedactingFormatter;
- other libraries' records (botocore, urllib3) reach the root logger's handlers, which get RedactUrls.
"""

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

REDACTED = "REDACTED"
# A URL as it appears in text or in a JSON line: it ends at whitespace, a quote, `<`, `>` or a backslash
# (the start of a JSON escape).
_URL = re.compile(r"\b(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>[^\s\"'<>\\]+)")
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact_urls(text: str) -> str:
    """`text` with each URL's userinfo, query and fragment replaced by REDACTED."""
    return _URL.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    rest = match["rest"]
    authority_end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, tail = rest[:authority_end], rest[authority_end:]
    if "@" in authority:
        authority = f"{REDACTED}@{authority.rsplit('@', 1)[1]}"
    secret_start = min((i for i in (tail.find(c) for c in "?#") if i >= 0), default=-1)
    if secret_start >= 0:
        tail = f"{tail[:secret_start]}{tail[secret_start]}{REDACTED}"
    return f"{match['scheme']}{authority}{tail}"


def redact_value(value: Any) -> Any:
    """Strings redacted inside dicts, lists and tuples; other values as they are."""
    if isinstance(value, str):
        return redact_urls(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(item) for item in value)
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON line, with the finished line redacted: message, keys, extras and traceback alike."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_urls(super().format(record))


class RedactUrls(logging.Filter):
    """For handlers whose formatter is not ours: redacts the record before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_urls(record.getMessage()), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES:
                setattr(record, key, redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_urls(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_urls(record.stack_info)
        return True


def service_logger() -> Logger:
    """The function's Powertools logger, every line it and the root logger write redacted."""
    logger = Logger(logger_formatter=RedactingFormatter())
    handler = logger.registered_handler
    # A plain Logger() created first configured the shared logger: its lines are redacted from now on.
    if handler is not None and not isinstance(handler.formatter, RedactingFormatter):
        handler.setFormatter(RedactingFormatter())
    for root_handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RedactUrls) for existing in root_handler.filters):
            root_handler.addFilter(RedactUrls())
    return logger
