"""Secrets never reach the log output: not in messages, arguments, exceptions, extras, nor in JSON."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import textwrap
import threading

import pytest

from bot.config import Config
from bot.logs import SecretScrubber, setup_logging

TG_TOKEN = "7012345678:AAH3kZ-secretPart_abcdefghijklmnopqrs"
SLACK_BOT = "xoxb-1111-2222-SeCrEtBoTtOkEn"
SLACK_APP = "xapp-1-A0KAZ-3333-SeCrEtApPtOkEn"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"
WEBHOOK_SECRET = "hook_Secret-value_42"
CONFIGURED = (TG_TOKEN, SLACK_BOT, SLACK_APP, SIGNING, WEBHOOK_SECRET)

# Shaped like real tokens but not configured: caught by pattern.
OTHER_TG = "5550001112:BBFxyzUNCONFIGUREDtokenPart_0123456789"
OTHER_SLACK = (
    "xoxb-9999-8888-UnconfiguredBot",
    "xoxp-9999-8888-UnconfiguredUser",
    "xapp-1-A09-77-Unconfigured",
)


def _config(fmt: str = "plain", level: str = "DEBUG") -> Config:
    return Config.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_WEBHOOK_URL": "https://kazkor.example/telegram",
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SLACK_BOT_TOKEN": SLACK_BOT,
            "SLACK_SIGNING_SECRET": SIGNING,
            "SLACK_APP_TOKEN": SLACK_APP,
            "KAZKOR_LOG_FORMAT": fmt,
            "KAZKOR_LOG_LEVEL": level,
        }
    )


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook, threading.excepthook
    yield
    root.handlers[:], level, sys.excepthook, threading.excepthook = saved
    root.setLevel(level)


def _emit_everything(log: logging.Logger) -> None:
    url = f"https://api.telegram.org/bot{TG_TOKEN}/getMe"
    log.info("starting with token %s and %s", TG_TOKEN, SLACK_BOT)
    log.warning("signing secret is %(secret)s", {"secret": SIGNING})
    log.info("webhook secret " + WEBHOOK_SECRET + " and app token " + SLACK_APP)
    log.error("request failed: %s", url)
    log.info("url-encoded: https://api.telegram.org/bot%s/getMe", TG_TOKEN.replace(":", "%3A"))
    log.info(
        "not configured: %s %s", f"https://api.telegram.org/bot{OTHER_TG}/sendMessage", " ".join(OTHER_SLACK)
    )
    log.info("structured", extra={"token": TG_TOKEN, "url": url})
    try:
        raise ConnectionError(f"Cannot connect to host: {url} (auth {SLACK_BOT})")
    except ConnectionError:
        log.exception("Telegram poll failed")
    try:
        try:
            raise ValueError(f"inner {SIGNING}")
        except ValueError as inner:
            raise RuntimeError(f"outer with {OTHER_TG}") from inner
    except RuntimeError:
        log.error("chained", exc_info=True)
    log.info("stack for %s", SLACK_APP, stack_info=True)


def _assert_clean(output: str) -> None:
    for secret in (*CONFIGURED, OTHER_TG, *OTHER_SLACK, TG_TOKEN.replace(":", "%3A")):
        assert secret not in output, f"{secret!r} leaked into the log output"
    # The tail of every token is gone too (not just the exact string).
    for fragment in ("secretPart", "SeCrEt", "Unconfigured", "UNCONFIGURED", "hook_Secret"):
        assert fragment not in output


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_no_secret_reaches_the_output(fmt, restore_logging):
    stream = io.StringIO()
    setup_logging(_config(fmt), stream=stream)
    _emit_everything(logging.getLogger("kazkor.test"))
    output = stream.getvalue()
    _assert_clean(output)
    lines = output.splitlines()
    assert len(lines) == 10, "one line per event, tracebacks included"
    assert "***" in output
    assert "Telegram poll failed" in output and "ConnectionError" in output
    assert "https://api.telegram.org/bot***/getMe" in output  # the URL stays readable
    if fmt == "json":
        events = [json.loads(line) for line in lines]
        assert {e["level"] for e in events} >= {"INFO", "WARNING", "ERROR"}
        failed = next(e for e in events if e["message"] == "Telegram poll failed")
        assert "Traceback" in failed["exc"] and "ConnectionError" in failed["exc"]
        structured = next(e for e in events if e["message"] == "structured")
        assert structured["token"] == "***" and structured["url"].endswith("/bot***/getMe")
    else:
        assert all(line[:4].isdigit() for line in lines), "every line starts with its timestamp"
        assert " INFO kazkor.test: starting with token *** and ***" in lines[0]


def test_other_handlers_get_the_scrubbed_record(restore_logging):
    """The filter rewrites the record itself, so a handler added later cannot see the raw secret."""
    setup_logging(_config("plain"), stream=io.StringIO())
    captured: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(record)

    logging.getLogger().addHandler(Keep())
    try:
        raise OSError(f"boom {TG_TOKEN}")
    except OSError:
        logging.getLogger("x").exception("with %s", SLACK_BOT)
    record = captured[0]
    assert record.getMessage() == "with ***"
    assert record.exc_info is None and TG_TOKEN not in (record.exc_text or "")


def test_scrubber_alone():
    scrubber = SecretScrubber(["s3cr3t-value"])
    assert scrubber.scrub("a s3cr3t-value b") == "a *** b"
    assert scrubber.scrub(f"GET https://api.telegram.org/bot{OTHER_TG}/getUpdates") == (
        "GET https://api.telegram.org/bot***/getUpdates"
    )
    assert scrubber.scrub("Authorization: Bearer xoxb-123-456-abcdef") == "Authorization: Bearer xoxb-***"
    # Ordinary text is left alone.
    assert scrubber.scrub("trade reached 6.0 billion at 12:30 on 2024-09-20") == (
        "trade reached 6.0 billion at 12:30 on 2024-09-20"
    )


def test_uncaught_exception_goes_through_the_scrubber():
    """`kazkor run` dying with a token in its exception prints a scrubbed line, not a raw traceback."""
    code = textwrap.dedent(
        f"""
        from bot.config import Config
        from bot.logs import setup_logging
        setup_logging(Config.from_env({{"TELEGRAM_BOT_TOKEN": {TG_TOKEN!r}, "KAZKOR_LOG_FORMAT": "json"}}))
        raise RuntimeError("GET https://api.telegram.org/bot{TG_TOKEN}/getMe failed")
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert TG_TOKEN not in result.stderr and TG_TOKEN not in result.stdout
    event = json.loads(result.stderr.strip().splitlines()[-1])
    assert event["level"] == "CRITICAL" and "bot***/getMe" in event["exc"]
