"""Outbound posting for scheduled reminders: Telegram and Slack :class:`~bot.frontend.Sender`\\ s.

Each sender renders a Reply for its platform, posts the parts in order, paces itself under the
platform's documented limits and turns the library's errors into the platform-neutral faults of
``bot.frontend``, so the delivery code (ledger, retries, deactivation) is written once.

Rate limits, with ``aiolimiter`` (already installed as python-telegram-bot's ``rate-limiter`` extra):

* Telegram: about 30 messages per second overall. Paced evenly at ``per_second`` (default 29.5/s, a little
  under the limit) with a bucket of capacity 1, so there is never a burst that a sliding one-second
  window would count as 31.
* Slack: about one message per second per channel (``chat.postMessage``). One small limiter per
  channel; different channels go in parallel.

A 429 that still happens comes back as :class:`RetryLater` and the delivery code waits as told.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Config
from bot.frontend import (
    AuthFailed,
    ChannelGone,
    ChannelMoved,
    DeliveryFault,
    OutcomeUnknown,
    RetryLater,
    Sender,
    Target,
    Transient,
)
from bot.platforms.inbound import Controls
from bot.render.slack import render_slack_with_controls
from bot.render.telegram import keyboard_rows, render_telegram
from bot.reply import Reply

log = logging.getLogger(__name__)

TELEGRAM_PER_SECOND = 29.5
SLACK_SECONDS_PER_MESSAGE = 1.1  # per channel: "about 1 per second", with a margin for network jitter

# Telegram descriptions that mean the bot can no longer post to that chat at all.
_TELEGRAM_GONE = (
    "chat not found",
    "bot was kicked",
    "bot was blocked",
    "user is deactivated",
    "have no rights to send",
    "not enough rights to send",
    "group chat was deactivated",
)
SLACK_GONE = {"channel_not_found", "not_in_channel", "is_archived", "account_inactive", "channel_is_archived"}
SLACK_AUTH = {
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "token_expired",
    "account_inactive_token",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "team_access_not_granted",
}
SLACK_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def telegram_retry_after(exc: Any) -> float:
    """Seconds a ``telegram.error.RetryAfter`` asks to wait (an int now, a timedelta in later PTB)."""
    with warnings.catch_warnings():  # PTB 22 warns that retry_after will become a timedelta
        warnings.simplefilter("ignore")
        return _seconds(exc.retry_after)


def _telegram_fault(exc: Exception) -> DeliveryFault:
    """A python-telegram-bot exception as a delivery fault. Specific classes first: BadRequest and
    TimedOut subclass NetworkError."""
    from telegram.error import (
        BadRequest,
        ChatMigrated,
        Conflict,
        Forbidden,
        InvalidToken,
        NetworkError,
        RetryAfter,
        TelegramError,
        TimedOut,
    )

    if isinstance(exc, RetryAfter):
        return RetryLater(telegram_retry_after(exc))
    if isinstance(exc, ChatMigrated):
        return ChannelMoved(str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return ChannelGone(f"telegram: {exc.message}")
    if isinstance(exc, InvalidToken):
        return AuthFailed(f"telegram: token refused ({exc.message})")
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if any(phrase in text for phrase in _TELEGRAM_GONE):
            return ChannelGone(f"telegram: {exc.message}")
        return DeliveryFault(f"telegram: {exc.message}")
    if isinstance(exc, TimedOut) and not _before_sending(exc):
        return OutcomeUnknown(f"telegram: {exc.message} (the request was sent; no answer came)")
    if isinstance(exc, TimedOut | NetworkError):
        return Transient(f"telegram: {exc.message}")
    if isinstance(exc, Conflict | TelegramError):
        return DeliveryFault(f"telegram: {exc}")
    return Transient(f"telegram: {type(exc).__name__}: {exc}")


def _before_sending(exc: Exception) -> bool:
    """True when a timeout happened before the request left (connecting, or waiting for a pooled
    connection): then retrying cannot double a post."""
    import httpx

    cause = exc.__cause__
    return isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ConnectError) or (
        "pool timeout" in str(exc).lower()
    )


def credentials_refused(exc: Exception) -> bool:
    """True when a platform refused the bot's token (a revoked or mistyped one): retrying cannot help."""
    return isinstance(_telegram_fault(exc), AuthFailed) or isinstance(_slack_fault(exc), AuthFailed)


def telegram_parts(reply: Reply, controls: Controls) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """HTML messages, with the inline keyboard of the reply's controls under the last one."""
    texts = render_telegram(reply)
    rows = keyboard_rows(reply, controls.encode)
    markup = None
    if rows:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
        )
    return [(text, markup if i == len(texts) - 1 else None) for i, text in enumerate(texts)]


class TelegramSender:
    """Posts to Telegram chats through a python-telegram-bot ``Bot`` (or ``ExtBot``)."""

    platform = "telegram"

    def __init__(self, bot: Any, *, per_second: float = TELEGRAM_PER_SECOND) -> None:
        self.bot = bot
        self._limiter = AsyncLimiter(1, 1.0 / per_second)
        # reminder posts carry controls ("Source", "Pause reminders"), signed as the front end signs them
        self.controls = Controls(getattr(bot, "token", "") or "")

    async def pace(self, target: Target) -> None:
        """Wait for a sending slot (see :func:`bot.reminders.delivery`: the pending mark is written after
        this wait, right before the post, so it never covers time spent queueing)."""
        await self._limiter.acquire()

    async def send(self, target: Target, reply: Reply, *, paced: bool = False) -> None:
        """Post every part in order; ``paced``: the caller already took the first part's slot."""
        from telegram.error import TelegramError

        chat_id: int | str = int(target.channel) if target.channel.lstrip("-").isdecimal() else target.channel
        thread = int(target.thread) if target.thread and target.thread.isdecimal() else None
        for index, (text, markup) in enumerate(telegram_parts(reply, self.controls)):
            if index or not paced:
                await self._limiter.acquire()
            try:
                await self.bot.send_message(
                    chat_id, text, parse_mode="HTML", message_thread_id=thread, reply_markup=markup
                )
            except TelegramError as exc:
                raise _telegram_fault(exc) from exc
            except TimeoutError as exc:
                raise OutcomeUnknown(f"telegram: timed out after sending ({exc})") from exc
            except OSError as exc:
                raise Transient(f"telegram: {type(exc).__name__}: {exc}") from exc


def _slack_fault(exc: Exception) -> DeliveryFault:
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        response = exc.response
        status = getattr(response, "status_code", 200) or 200
        data = getattr(response, "data", None)
        error = data.get("error", "") if isinstance(data, dict) else ""
        if status == 429 or error == "ratelimited":
            headers = getattr(response, "headers", None) or {}
            retry = headers.get("Retry-After") or headers.get("retry-after") or 1
            try:
                return RetryLater(float(retry[0] if isinstance(retry, list) else retry))
            except ValueError:
                return RetryLater(1.0)
        if error in SLACK_GONE:
            return ChannelGone(f"slack: {error}")
        if error in SLACK_AUTH:
            return AuthFailed(f"slack: {error}")
        if status >= 500 or error in SLACK_TRANSIENT:
            return Transient(f"slack: HTTP {status} {error}".rstrip())
        return DeliveryFault(f"slack: {error or f'HTTP {status}'}")
    return Transient(f"slack: {type(exc).__name__}: {exc}")


class SlackSender:
    """Posts to Slack channels through slack-sdk's ``AsyncWebClient``."""

    platform = "slack"

    def __init__(self, client: Any, *, seconds_per_message: float = SLACK_SECONDS_PER_MESSAGE) -> None:
        self.client = client
        # reminder posts carry controls, signed as the front end signs them (key from the bot token)
        self.controls = Controls(getattr(client, "token", "") or "")
        self._period = seconds_per_message
        self._limiters: dict[str, AsyncLimiter] = {}

    def _limiter(self, channel: str) -> AsyncLimiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = self._limiters[channel] = AsyncLimiter(1, self._period)
        return limiter

    async def pace(self, target: Target) -> None:
        """Wait for this channel's next sending slot (see :meth:`TelegramSender.pace`)."""
        await self._limiter(target.channel).acquire()

    async def send(self, target: Target, reply: Reply, *, paced: bool = False) -> None:
        """Post every part in order; ``paced``: the caller already took the first part's slot."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        limiter = self._limiter(target.channel)
        for index, message in enumerate(render_slack_with_controls(reply, self.controls.encode)):
            if index or not paced:
                await limiter.acquire()
            kwargs: dict[str, Any] = {
                "channel": target.channel,
                "text": message["text"],
                "blocks": message["blocks"],
            }
            if target.thread:
                kwargs["thread_ts"] = target.thread
            try:
                await self.client.chat_postMessage(**kwargs)
            except SlackApiError as exc:
                raise _slack_fault(exc) from exc
            except TimeoutError as exc:  # aiohttp's total/read timeout: the request had left
                raise OutcomeUnknown(f"slack: timed out waiting for chat.postMessage ({exc})") from exc
            except (SlackClientError, OSError) as exc:
                raise Transient(f"slack: {type(exc).__name__}: {exc}") from exc
            except Exception as exc:  # aiohttp.ClientError and friends: the connection failed
                if type(exc).__module__.startswith("aiohttp"):
                    raise Transient(f"slack: {type(exc).__name__}: {exc}") from exc
                raise


# -- building senders from the configuration -------------------------------------------------------


@asynccontextmanager
async def open_senders(
    config: Config,
    *,
    telegram_per_second: float = TELEGRAM_PER_SECOND,
    slack_seconds_per_message: float = SLACK_SECONDS_PER_MESSAGE,
) -> AsyncIterator[dict[str, Sender]]:
    """Senders for every platform with credentials in ``config``, closed on exit.

    A platform whose token is refused at start still gets a sender: its sends raise AuthFailed, which
    the delivery code reports without stopping the other platform.
    """
    senders: dict[str, Sender] = {}
    closers: list[Any] = []
    try:
        if config.telegram_token:
            bot, close = await _telegram_bot(config)
            closers.append(close)
            senders["telegram"] = TelegramSender(bot, per_second=telegram_per_second)
        if config.slack_bot_token:
            client, close = _slack_client(config)
            closers.append(close)
            senders["slack"] = SlackSender(client, seconds_per_message=slack_seconds_per_message)
        yield senders
    finally:
        for close in reversed(closers):
            try:
                await close()
            except Exception:  # closing must not hide the real outcome
                log.debug("closing a platform client failed", exc_info=True)


async def _telegram_bot(config: Config) -> tuple[Any, Any]:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    # Bot() alone gets a pool of one connection: concurrent sends would queue and time out.
    request = HTTPXRequest(connection_pool_size=64, pool_timeout=10.0, read_timeout=20.0)
    updates_request = HTTPXRequest(connection_pool_size=1)
    bot = Bot(
        config.telegram_token or "",
        base_url=config.telegram_api_url,
        request=request,
        get_updates_request=updates_request,
    )

    async def close() -> None:
        await request.shutdown()
        await updates_request.shutdown()

    await request.initialize()
    await updates_request.initialize()
    return bot, close


def _no_timeout_retry_class() -> type:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler

    class NoTimeoutRetry(AsyncConnectionErrorRetryHandler):
        """slack-sdk's connection-error retry, except after a timeout: aiohttp's ServerTimeoutError is a
        ServerConnectionError, so the stock handler resends a chat.postMessage whose request had left
        (and was often delivered). The delivery code reports such a post instead (OutcomeUnknown)."""

        async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
            if isinstance(error, TimeoutError):
                return False
            parent = super()._can_retry_async
            return await parent(state=state, request=request, response=response, error=error)

    return NoTimeoutRetry


def _NoTimeoutRetry() -> Any:  # noqa: N802 - reads as the class it builds
    return _no_timeout_retry_class()()


def _slack_client(config: Config) -> tuple[Any, Any]:
    import aiohttp
    from slack_sdk.web.async_client import AsyncWebClient

    # One shared session: without it slack-sdk opens a new connection pool for every call.
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    client = AsyncWebClient(
        token=config.slack_bot_token,
        base_url=config.slack_api_url,
        session=session,
        retry_handlers=[_NoTimeoutRetry()],
    )

    async def close() -> None:
        await session.close()

    return client, close
