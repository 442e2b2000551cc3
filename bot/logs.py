"""Logging set-up: one line per event, plain or JSON, with every configured secret scrubbed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from bot.config import Config


class SecretScrubber(logging.Filter):
    """Replaces any configured secret in a record's final message (and exception text) with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = self.scrub(record.getMessage())
        if record.exc_info:
            message += "\n" + self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = message, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def setup_logging(config: Config) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(SecretScrubber(config.secrets()))
    if config.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.log_level)
    # httpx logs every request URL, and a Telegram URL carries the bot token: keep it at WARNING.
    logging.getLogger("httpx").setLevel(logging.WARNING)
