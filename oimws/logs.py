"""Structured logging: one JSON object per line (or a human format on a terminal).

Every line written while a request is handled carries that request's ``operationID`` and
``userID``: the dispatcher and the admin API open a ``request_scope`` and the context variables
travel into the tasks started inside it. Tokens and the signing secret never reach the output:
a filter on the handler scrubs anything shaped like a JWT and every registered secret, whoever
logged it (picows at debug level logs raw upgrade requests, which carry ``token=``).
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import orjson

operation_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("operationID", default="")
user_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("userID", default="")

ScopeTokens = tuple[contextvars.Token[str], contextvars.Token[str]]

# header.payload.signature, each base64url; a JWT header always starts with '{"' = eyJ
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
REDACTED_TOKEN = "[token]"
REDACTED_SECRET = "[secret]"
# Shorter secrets are not searched for: replacing every "s" of a log line helps nobody (the
# startup warning covers weak secrets).
MIN_REDACTED_SECRET = 6

# The attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def open_scope(operation_id: str, user_id: str) -> ScopeTokens:
    """Tag the log lines of what runs from here on (and of tasks started here)."""
    return operation_id_var.set(operation_id), user_id_var.set(user_id)


def close_scope(tokens: ScopeTokens) -> None:
    operation_id_var.reset(tokens[0])
    user_id_var.reset(tokens[1])


@contextmanager
def request_scope(operation_id: str, user_id: str) -> Iterator[None]:
    tokens = open_scope(operation_id, user_id)
    try:
        yield
    finally:
        close_scope(tokens)


class Redactor(logging.Filter):
    """Adds the request context to each record and scrubs tokens and secrets from it."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= MIN_REDACTED_SECRET)

    def scrub(self, text: str) -> str:
        if "eyJ" in text:
            text = _JWT.sub(REDACTED_TOKEN, text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED_SECRET)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.operationID = getattr(record, "operationID", "") or operation_id_var.get()
        record.userID = getattr(record, "userID", "") or user_id_var.get()
        # Render once, scrub, and keep the result: formatters then use it as it is.
        message = self.scrub(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        record.exc_info = None
        return True


def _utc_iso(created: float) -> str:
    moment = datetime.datetime.fromtimestamp(created, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLineFormatter(logging.Formatter):
    """``{"time", "level", "logger", "msg", "operationID"?, "userID"?, ...extra, "exc"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and value not in ("", None):
                line[key] = value
        if record.exc_text:
            line["exc"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


class HumanFormatter(logging.Formatter):
    """``time LEVEL logger [operationID userID]: message``, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        operation_id = getattr(record, "operationID", "")
        user_id = getattr(record, "userID", "")
        record.context = f" [{operation_id} {user_id}]" if operation_id or user_id else ""
        return super().format(record)


def configure(level: str, log_format: str = "auto", secrets: tuple[str, ...] = (),
              stream: TextIO | None = None) -> None:
    """Install the one handler of the process (replacing any earlier one)."""
    stream = stream or sys.stderr
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redactor(secrets))
    handler.setFormatter(JsonLineFormatter() if log_format == "json" else HumanFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # picows logs every accepted and closed socket at INFO: a flood at 100k connections.
    # Its lines are kept when debugging.
    if root.level > logging.DEBUG:
        logging.getLogger("picows").setLevel(logging.WARNING)
