"""Logging set-up: one line per event, plain or JSON, with every secret scrubbed.

``KAZKOR_LOG_FORMAT=plain`` (default) writes ``TIME LEVEL LOGGER: message``; ``json`` writes one JSON object
per line (``time``, ``level``, ``logger``, ``message``, ``exc`` when there is a traceback, plus any
``extra=`` fields). Either way a traceback stays on its event's line (newlines are written as ``\\n`` in
plain text), so ``docker logs``/journald never split one event into many.

Secrets never reach the output: :class:`SecretScrubber` replaces every configured secret (and its
URL-encoded form) and, for secrets nobody configured, anything shaped like a Telegram bot token
(``123456:AA…``, also inside ``https://api.telegram.org/bot<TOKEN>/getMe``) or a Slack token (``xoxb-…``,
``xoxp-…``, ``xapp-…``). It scrubs the message after ``%`` formatting, the exception text, the stack and
``extra`` fields, as a handler filter and once more on the formatted line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote

from bot.config import Config

MASK = "***"
# A Telegram bot token is "<bot id>:<35 characters>"; in API URLs it follows "/bot".
TELEGRAM_TOKEN_RE = re.compile(r"(bot)?\d{3,}:[A-Za-z0-9_-]{30,}")
# Slack tokens: bot (xoxb), user (xoxp), other xox? kinds (xoxa, xoxr, xoxe, ...) and app-level (xapp).
SLACK_TOKEN_RE = re.compile(r"\b(xox[a-z]|xapp)-[A-Za-z0-9-]{6,}")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class SecretScrubber(logging.Filter):
    """Replaces secrets in a record (message, args, exception, stack, extras) with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        variants: set[str] = set()
        for secret in secrets:
            if secret:
                variants.update({secret, quote(secret, safe=""), quote(secret)})
        self.secrets = sorted(variants, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = TELEGRAM_TOKEN_RE.sub(lambda m: (m.group(1) or "") + MASK, text)
        return SLACK_TOKEN_RE.sub(lambda m: f"{m.group(1)}-{MASK}", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the event
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.scrub(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None  # the traceback objects hold the raw text: keep only the scrubbed copy
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.scrub(value))
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", "\\n")


class PlainFormatter(logging.Formatter):
    """``2024-09-20T03:00:00.000+00:00 INFO bot.app: message`` on one line, traceback included."""

    def __init__(self, scrubber: SecretScrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def format(self, record: logging.LogRecord) -> str:
        parts = [f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        return self.scrubber.scrub(_one_line(" | ".join(parts)))


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, scrubber: SecretScrubber | None = None) -> None:
        super().__init__()
        self.scrubber = scrubber or SecretScrubber()

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and key not in payload:
                payload[key] = value
        return self.scrubber.scrub(json.dumps(payload, ensure_ascii=False, default=str))


def make_handler(config: Config, stream: IO[str] | None = None) -> logging.Handler:
    """The one handler: scrubbing filter plus the configured formatter, writing to ``stream`` (stderr)."""
    scrubber = SecretScrubber(config.secrets())
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(scrubber)
    handler.setFormatter(JsonFormatter(scrubber) if config.log_format == "json" else PlainFormatter(scrubber))
    return handler


def setup_logging(config: Config, stream: IO[str] | None = None) -> logging.Handler:
    """Route every log record (and uncaught exceptions) through one scrubbing handler; returns it."""
    handler = make_handler(config, stream)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level)
    logging.captureWarnings(True)
    # httpx logs every request URL (a Telegram URL carries the token; scrubbed anyway) on every poll: WARNING
    # always. httpcore and aiohttp's access log (a line per health check) stay quiet unless DEBUG.
    quiet = logging.DEBUG if config.log_level == "DEBUG" else logging.WARNING
    for name in ("httpcore", "aiohttp.access"):
        logging.getLogger(name).setLevel(quiet)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    def log_uncaught(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logging.getLogger("kazkor").critical("uncaught exception", exc_info=(exc_type, exc, tb))

    def log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread else "?"
        logging.getLogger("kazkor").critical(
            "uncaught exception in thread %s",
            name,
            exc_info=args.exc_value,  # its type and traceback go with it
        )

    sys.excepthook = log_uncaught  # an uncaught traceback would otherwise print unscrubbed
    threading.excepthook = log_thread_uncaught
    return handler
