"""Telegram front end: python-telegram-bot ``Application`` -> shared core -> HTML messages.

Long polling by default; with ``TELEGRAM_WEBHOOK_URL`` the Application runs without an Updater and
the shared aiohttp server (``bot.http``) receives the webhook: it checks the
``X-Telegram-Bot-Api-Secret-Token`` header, decodes the Update and puts it on
``application.update_queue`` (python-telegram-bot's documented custom-webhook pattern).

Lifecycle (we own the loop; never ``run_polling``): ``initialize()`` (getMe: the bot learns its
username, so ``/agreements@KazkorBot`` matches), ``start()``, ``setMyCommands``, then polling or
``setWebhook``. :meth:`TelegramFrontEnd.stop` undoes it in reverse order.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.commands import ALIASES, COMMANDS, Context
from bot.config import Config
from bot.platforms.chat_order import PerChatOrder
from bot.platforms.inbound import (
    SUBSCRIPTION_COMMANDS,
    Rendered,
    RenderedReplies,
    admin_check,
    ask_admin_check,
    needs_admin_check,
    parse_text,
    with_extra,
)
from bot.platforms.senders import telegram_retry_after
from bot.render.telegram import render_telegram
from bot.reply import Reply

log = logging.getLogger(__name__)

PLATFORM = "telegram"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Only messages are handled; a feature that needs more (e.g. my_chat_member) adds its type here.
ALLOWED_UPDATES = ["message"]
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait; stopping interrupts it at once
MAX_DESCRIPTION = 256  # setMyCommands: 1-256 characters per description
# Flood control on an answer: wait as Telegram asks, if the answer is still timely by then; at most
# this many tries and this long a wait (the chat's later commands queue behind it).
ANSWER_TRIES = 3
MAX_ANSWER_WAIT = 30.0
# Answers cite sources, not pages to preview. One immutable object, shared by every sendMessage.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def handled_commands() -> list[str]:
    """Every command name a CommandHandler answers: the core's commands, their aliases (/start...)
    and the subscription commands (answered by the core once that feature registers them)."""
    return list(dict.fromkeys([*COMMANDS, *ALIASES, *SUBSCRIPTION_COMMANDS]))


def menu_commands() -> list[BotCommand]:
    """The command menu, from the core's own list so it cannot drift."""
    return [
        BotCommand(spec.name, (spec.summary[:1].upper() + spec.summary[1:])[:MAX_DESCRIPTION] or spec.name)
        for spec in COMMANDS.values()
    ]


def webhook_path(url: str) -> str:
    """The local path for the webhook: the path of ``TELEGRAM_WEBHOOK_URL`` (so a reverse proxy can
    forward it unchanged), or ``/telegram/webhook`` when the URL has no path."""
    path = urlsplit(url).path
    return path if path and path != "/" else DEFAULT_WEBHOOK_PATH


def topic_of(message: Message) -> int | None:
    """The forum topic to answer in; None outside forum topics (a reply chain is not a topic)."""
    return message.message_thread_id if message.is_topic_message else None


def addressed_to(text: str) -> str | None:
    """``foo`` for ``/cmd@foo ...``, else None."""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if "@" not in head:
        return None
    return head.split("@", 1)[1]


class TelegramFrontEnd:
    def __init__(self, config: Config, ctx: Context) -> None:
        self.config = config
        self.ctx = ctx
        self.webhook_url = config.telegram_webhook_url
        self.webhook_secret = config.telegram_webhook_secret
        builder = (
            ApplicationBuilder()
            .token(config.telegram_token or "")
            .base_url(config.telegram_api_url)
            # Stopping cancels the long poll in flight; the library then calls getUpdates once more to
            # confirm the offset. With the default pool of one connection that call can wait for the
            # cancelled one and fail (PoolTimeout): a second connection keeps stopping quick and clean.
            .get_updates_connection_pool_size(2)
            # No JobQueue: it would start a second APScheduler; reminders have their own (one scheduler).
            .job_queue(None)
            # Chats answered side by side, each chat's commands in order (see bot.platforms.chat_order).
            .concurrent_updates(PerChatOrder())
        )
        if self.webhook_url:
            builder = builder.updater(None)  # updates arrive through our web server
        self.application: Application = builder.build()
        only_new_messages = filters.UpdateType.MESSAGE  # an edited command is not answered twice
        self.application.add_handler(CommandHandler(handled_commands(), self.on_command, only_new_messages))
        self.application.add_handler(MessageHandler(filters.COMMAND & only_new_messages, self.on_unknown))
        self.application.add_error_handler(self.on_error)
        self._started: list[str] = []
        self.replies = RenderedReplies(PLATFORM, render_telegram)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        self._started.append("initialized")
        await app.start()
        self._started.append("started")
        log.info("Telegram: signed in as @%s", app.bot.username)
        await app.bot.set_my_commands(menu_commands())
        if self.webhook_url is None:
            assert app.updater is not None
            await app.updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
            self._started.append("polling")
            log.info("Telegram: long polling")

    async def set_webhook(self) -> None:
        """Point Telegram at our webhook; called once the web server listens."""
        assert self.webhook_url is not None
        await self.application.bot.set_webhook(
            url=self.webhook_url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES
        )
        log.info("Telegram: webhook set (%s)", webhook_path(self.webhook_url))

    async def stop(self) -> None:
        """Undo :meth:`start` in reverse order (also after a partial start)."""
        app = self.application
        if "polling" in self._started and app.updater is not None:
            await app.updater.stop()
        if "started" in self._started:
            await app.stop()
        if "initialized" in self._started:
            await app.shutdown()
        self._started.clear()

    # --- webhook ---------------------------------------------------------------------------------

    def add_routes(self, web_app: web.Application) -> None:
        """Route setup for ``bot.http``: the webhook endpoint (webhook mode only)."""
        if self.webhook_url:
            web_app.router.add_post(webhook_path(self.webhook_url), self.handle_webhook)

    async def handle_webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not self.webhook_secret or not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            log.warning("Telegram webhook: request without the right secret token refused")
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.application.bot)
        except Exception:  # a malformed body: tell the sender, keep serving
            log.warning("Telegram webhook: an update could not be decoded", exc_info=True)
            return web.Response(status=400, text="bad update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    # --- handlers --------------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None:
            return
        await self._answer(message, context)

    async def on_unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command no handler knows: hint at /help in private chats, and in groups only when the
        command is addressed to this bot (``/foo@ThisBot``), so other bots' commands are left alone."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        target = addressed_to(message.text)
        if target is None and message.chat.type != ChatType.PRIVATE:
            return
        if target is not None and target.lower() != (context.bot.username or "").lower():
            return
        await self._answer(message, context)

    async def _answer(self, message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
        started = time.perf_counter()
        chat = message.chat
        user = message.from_user
        thread = topic_of(message)
        parsed = parse_text(
            message.text or "", platform=PLATFORM, channel=str(chat.id), user=str(user.id) if user else ""
        )
        if isinstance(parsed, Reply):
            rendered = self.replies.render(parsed)
        else:
            extra: dict[str, Any] = {"chat_type": chat.type, "thread": thread}
            if needs_admin_check(parsed):
                extra["is_admin"] = await self._is_admin(
                    context, chat.id, chat.type, user.id if user else None
                )
            rendered = self.replies.answer(with_extra(parsed, **extra), self.ctx)
        await self._send(context, message, rendered, thread)
        self.replies.report(parsed, started)

    async def _is_admin(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, chat_type: str, user_id: int | None
    ) -> bool:
        check = admin_check("telegram_is_admin")
        if check is None:  # the admin module is not there yet: only a private chat is one's own
            return chat_type == ChatType.PRIVATE
        return await ask_admin_check(
            check,
            bot=context.bot,
            chat_id=chat_id,
            chat_type=chat_type,
            user_id=user_id,
            admins=self.config.admins,
        )

    async def _send(
        self, context: ContextTypes.DEFAULT_TYPE, message: Message, rendered: Rendered, thread: int | None
    ) -> None:
        """Every part in order. Answers go to the chat; a usage hint or error in a group quotes the
        asker's message (Telegram has no messages visible to one member only)."""
        quote = None
        chat_id = message.chat.id
        if not rendered.public and message.chat.type != ChatType.PRIVATE:
            quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        for part in rendered.parts:
            for attempt in range(1, ANSWER_TRIES + 1):
                try:
                    await context.bot.send_message(
                        chat_id=chat_id,
                        text=part,
                        parse_mode=ParseMode.HTML,
                        message_thread_id=thread,
                        link_preview_options=NO_PREVIEW,
                        reply_parameters=quote,
                    )
                    break
                except RetryAfter as exc:
                    wait = telegram_retry_after(exc)
                    if attempt == ANSWER_TRIES or wait > MAX_ANSWER_WAIT:
                        raise  # on_error logs it; the answer is dropped rather than sent stale
                    log.info("Telegram: flood control in chat %s, answering in %.0f s", chat_id, wait)
                    await asyncio.sleep(wait)
            quote = None  # quote once, on the first part

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("Telegram: could not answer an update: %s: %s", type(error).__name__, error)
        else:
            log.error("Telegram: handler failed", exc_info=error)
