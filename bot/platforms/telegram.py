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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.commands import ALIASES, Context, Spec, table
from bot.commands.controls import VIEW_NEW_MESSAGE
from bot.commands.inline import inline_offers
from bot.commands.payload import Expired
from bot.config import Config
from bot.frontend import AuthFailed
from bot.i18n import LANGUAGES, Translator, language_code, translator
from bot.platforms.admin import telegram_is_admin
from bot.platforms.chat_order import PerChatOrder
from bot.platforms.inbound import (
    ADMIN_COMMANDS,
    SUBSCRIPTION_COMMANDS,
    Controls,
    Rendered,
    RenderedReplies,
    expired_text,
    file_failed,
    needs_admin_check,
    parse_text,
    press_command,
    produce_file,
    with_extra,
)
from bot.platforms.senders import TelegramSender, credentials_refused, telegram_parts, telegram_retry_after
from bot.render.telegram import render_telegram, visible_text
from bot.reply import Attachment, Reply

log = logging.getLogger(__name__)

PLATFORM = "telegram"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The update types handled; a feature that needs more (e.g. my_chat_member) adds its type here.
ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait; stopping interrupts it at once
MAX_DESCRIPTION = 256  # setMyCommands: 1-256 characters per description
MAX_ALERT = 200  # answerCallbackQuery: 0-200 characters of text
INLINE_CACHE_SECONDS = 300  # Telegram may reuse an inline answer this long (the facts change rarely)
# Flood control on an answer: wait as Telegram asks, if the answer is still timely by then; at most
# this many tries and this long a wait (the chat's later commands queue behind it).
ANSWER_TRIES = 3
MAX_ANSWER_WAIT = 30.0
MAX_CAPTION = 1024  # sendPhoto / sendDocument caption, characters
# Answers cite sources, not pages to preview. One immutable object, shared by every sendMessage.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def handled_commands(commands: Mapping[str, Spec]) -> list[str]:
    """Every command name a CommandHandler answers: the table's commands, their aliases (/start...)
    and the subscription commands."""
    return list(dict.fromkeys([*commands, *ALIASES, *SUBSCRIPTION_COMMANDS]))


def menu_commands(
    commands: Mapping[str, Spec], tr: Translator | None = None, *, admin: bool = True
) -> list[BotCommand]:
    """The command menu in one language, from the command table so it cannot drift; ``admin=False``
    leaves out the commands only admins may use (what group members who are not admins see)."""
    tr = tr or translator("en")
    menu = []
    for spec in commands.values():
        if not admin and spec.name in ADMIN_COMMANDS:
            continue
        summary = tr.gettext(spec.summary)
        menu.append(BotCommand(spec.name, (summary[:1].upper() + summary[1:])[:MAX_DESCRIPTION] or spec.name))
    return menu


def menu_scopes(
    commands: Mapping[str, Spec], default: Translator
) -> list[tuple[Any, str | None, list[BotCommand]]]:
    """Command menus per scope and language: everything in private chats (one's own chat) and for group
    admins; group members see the menu without the admin commands. The default scope is the full menu
    (Telegram falls back to it where no narrower scope applies). In each scope one menu per language
    (``language_code``: users whose Telegram is in it see it) and the default language's for the rest."""
    scopes = [
        (None, True),
        (BotCommandScopeAllPrivateChats(), True),
        (BotCommandScopeAllGroupChats(), False),
        (BotCommandScopeAllChatAdministrators(), True),
    ]
    menus: list[tuple[Any, str | None, list[BotCommand]]] = []
    for scope, admin in scopes:
        menus.append((scope, None, menu_commands(commands, default, admin=admin)))
        menus.extend(
            (scope, lang, menu_commands(commands, translator(lang), admin=admin)) for lang in LANGUAGES
        )
    return menus


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
    """The Telegram :class:`~bot.frontend.FrontEnd`: long polling, or a webhook route on the one server."""

    platform = PLATFORM

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
        handled = handled_commands(table(ctx))
        self.application.add_handler(CommandHandler(handled, self.on_command, only_new_messages))
        self.application.add_handler(MessageHandler(filters.COMMAND & only_new_messages, self.on_unknown))
        self.application.add_handler(CallbackQueryHandler(self.on_press))
        self.application.add_handler(InlineQueryHandler(self.on_inline_query))
        self.application.add_error_handler(self.on_error)
        self._started: list[str] = []
        # Buttons are signed with a key derived from the bot token: every replica makes and accepts the same.
        self.controls = Controls(config.telegram_token or "")
        self.replies = RenderedReplies(PLATFORM, self._render)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except Exception as exc:
            if credentials_refused(exc):
                raise AuthFailed(f"Telegram refused the bot's token ({type(exc).__name__})") from exc
            raise

    async def _start(self) -> None:
        app = self.application
        await app.initialize()
        self._started.append("initialized")
        await app.start()
        self._started.append("started")
        log.info("Telegram: signed in as @%s", app.bot.username)
        for scope, code, commands in menu_scopes(table(self.ctx), self.ctx.tr):
            await app.bot.set_my_commands(commands, scope=scope, language_code=code)
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

    def sender(self) -> TelegramSender:
        return TelegramSender(self.application.bot)

    async def health(self) -> bool:
        await self.application.bot.get_me()
        return True

    def routes(self, web_app: web.Application) -> None:
        """Route setup for ``bot.http``: the webhook endpoint (webhook mode only)."""
        if self.webhook_url:
            web_app.router.add_post(webhook_path(self.webhook_url), self.handle_webhook)

    async def handle_webhook(self, request: web.Request) -> web.Response:
        # aiohttp decodes header bytes that are not UTF-8 to lone surrogates, which .encode() refuses:
        # "surrogateescape" gives the bytes back, so any header compares (and fails) quietly.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not self.webhook_secret or not hmac.compare_digest(given, self.webhook_secret.encode()):
            log.warning("Telegram webhook: request without the right secret token refused (403)")
            return web.Response(status=403, text="forbidden")
        body = await request.read()  # over the size limit: aiohttp answers 413 itself
        try:
            update = Update.de_json(json.loads(body), self.application.bot)
        except Exception as exc:  # a malformed body: tell the sender, keep serving
            log.warning(
                "Telegram webhook: an update could not be decoded (400): %s: %.200s", type(exc).__name__, exc
            )
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
            message.text or "",
            platform=PLATFORM,
            channel=str(chat.id),
            user=str(user.id) if user else "",
            ctx=self.ctx,  # a hint in the language the command would have been answered in
            chat_type=chat.type,
            user_language=user.language_code if user else None,
        )
        if isinstance(parsed, Reply):
            rendered = self.replies.render(parsed)
        else:
            extra: dict[str, Any] = {
                "chat_type": chat.type,
                "thread": thread,
                # answers a private chat without a /language setting in the user's own language
                "user_language": user.language_code if user else None,
            }
            if needs_admin_check(parsed):
                extra["is_admin"] = await self._is_admin(
                    context, chat.id, chat.type, user.id if user else None
                )
            rendered = await self.replies.answer_async(with_extra(parsed, **extra), self.ctx)
        await self._send(context, message, rendered, thread)
        self.replies.report(parsed, started)

    def _render(self, reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
        return telegram_parts(reply, self.controls)

    # --- inline mode -----------------------------------------------------------------------------

    async def on_inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``@bot words`` in any chat: up to ten sourced facts, each sending its claim, the cited
        sentence and the source; an empty query offers the headline facts."""
        query = update.inline_query
        if query is None:
            return
        started = time.perf_counter()
        # inline mode has no channel: the asker's own Telegram language when it is one of the four
        lang = language_code(query.from_user.language_code if query.from_user else None) or self.ctx.tr.lang
        results = [
            InlineQueryResultArticle(
                id=offer.id,
                title=offer.title,
                description=offer.description,
                input_message_content=InputTextMessageContent(
                    render_telegram(offer.message)[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                ),
            )
            for offer in inline_offers(query.query, self.ctx.speaking(lang))
        ]
        # results differ by the asker's language: Telegram must not share its cache between users
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)
        if self.replies.observe is not None:
            self.replies.observe(PLATFORM, "search", time.perf_counter() - started)

    # --- buttons ---------------------------------------------------------------------------------

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button under one of our messages: answer the query at once (else the button spins), then
        show the answer in place (``editMessageText``), or privately when it is a refusal."""
        query = update.callback_query
        if query is None:
            return
        started = time.perf_counter()
        answered = False
        try:
            try:
                press = self.controls.decode(query.data or "")
            except Expired as exc:
                log.info("Telegram: a button press refused (%s)", exc)
                await query.answer(self._expired(query), show_alert=True)
                answered = True
                self.replies.report(None, started)
                return
            message = query.message
            if message is None:  # a button on an inline-mode message: we put none there
                await query.answer(self._expired(query), show_alert=True)
                answered = True
                return
            chat = message.chat
            user = query.from_user
            # python-telegram-bot parses a callback's message as Message even when Telegram sends an
            # inaccessible one (date 0: deleted or too old for the bot to see); is_accessible tells them apart
            thread = topic_of(message) if isinstance(message, Message) and message.is_accessible else None
            # the answer's language is chosen as for a typed command (a private chat: the user's own)
            extra: dict[str, Any] = {
                "chat_type": chat.type,
                "thread": thread,
                "user_language": user.language_code,
            }
            if press.command in ADMIN_COMMANDS:
                extra["is_admin"] = await self._is_admin(context, chat.id, chat.type, user.id)
            command = press_command(
                press, platform=PLATFORM, channel=str(chat.id), user=str(user.id), **extra
            )
            rendered = await self.replies.answer_async(command, self.ctx, press.page, press.view)
            if not rendered.public:
                # a refusal or a hint: only the presser sees it, and the message stays as it was
                await query.answer(_alert_text(rendered), show_alert=True)
                answered = True
                self.replies.report(command, started)
                return
            await query.answer()
            answered = True
            if press.view == VIEW_NEW_MESSAGE or press.command in ADMIN_COMMANDS:
                await self._post(context, chat.id, thread, rendered.parts)
            else:
                await self._edit(context, query, message, thread, rendered)
            for attachment in rendered.attachments:  # e.g. the "Chart" control under /trade
                await self._send_file(context, chat.id, attachment, thread)
            self.replies.report(command, started)
        finally:
            if not answered:  # whatever failed, the button must not keep spinning
                try:
                    await query.answer()
                except TelegramError:
                    log.debug("Telegram: could not answer a callback query", exc_info=True)

    def _expired(self, query: CallbackQuery) -> str:
        """The expired-button alert in the language the presser is answered in where they pressed."""
        chat = query.message.chat if query.message is not None else None
        user = query.from_user
        return expired_text(
            self.ctx,
            platform=PLATFORM,
            channel=str(chat.id) if chat else "",
            user=str(user.id),
            chat_type=chat.type if chat else "private",  # no chat: an inline message, the user's own
            user_language=user.language_code,
        )

    async def _edit(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        query: CallbackQuery,
        message: MaybeInaccessibleMessage,
        thread: int | None,
        rendered: Rendered,
    ) -> None:
        """Replace the pressed message with the first part (and the keyboard); any further parts
        follow as new messages. A message that can no longer be edited gets a new message instead."""
        (text, _), *rest = rendered.parts
        markup = rendered.parts[-1][1]
        if not isinstance(message, Message) or not message.is_accessible:  # deleted or too old to see
            await self._post(context, message.chat.id, None, rendered.parts)
            return
        try:
            await query.edit_message_text(
                text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, reply_markup=markup
            )
        except BadRequest as exc:
            reason = exc.message.lower()
            if "message is not modified" in reason:
                pass  # pressed twice, or the same year again: the message already shows it
            elif "can't be edited" in reason or "not found" in reason:
                await self._post(context, message.chat.id, thread, rendered.parts)
                return
            else:
                raise
        if rest:
            await self._post(context, message.chat.id, thread, [(t, None) for t, _ in rest])

    async def _post(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        thread: int | None,
        parts: Any,
    ) -> None:
        for text, markup in parts:
            await self._send_part(context, chat_id, text, markup, thread, None)

    async def _is_admin(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, chat_type: str, user_id: int | None
    ) -> bool:
        return await telegram_is_admin(context.bot, chat_id, chat_type, user_id, self.config.admins)

    async def _send(
        self, context: ContextTypes.DEFAULT_TYPE, message: Message, rendered: Rendered, thread: int | None
    ) -> None:
        """Every part in order. Answers go to the chat; a usage hint or error in a group quotes the
        asker's message (Telegram has no messages visible to one member only)."""
        quote = None
        chat_id = message.chat.id
        if not rendered.public and message.chat.type != ChatType.PRIVATE:
            quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        for text, markup in rendered.parts:
            await self._send_part(context, chat_id, text, markup, thread, quote)
            quote = None  # quote once, on the first part
        for attachment in rendered.attachments:
            await self._send_file(context, chat_id, attachment, thread)

    async def _send_file(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, attachment: Attachment, thread: int | None
    ) -> None:
        """A chart as a photo with its caption (``sendPhoto``), anything else as a document
        (``sendDocument``); captions are plain text, so nothing needs escaping."""
        data = await produce_file(attachment)
        if data is None:
            await self._send_part(context, chat_id, file_failed(attachment), None, thread, None)
            return
        caption = attachment.caption[:MAX_CAPTION] or None
        name = attachment.filename

        def post() -> Awaitable[Message]:
            if attachment.is_image:
                return context.bot.send_photo(
                    chat_id, photo=data, filename=name, caption=caption, message_thread_id=thread
                )
            return context.bot.send_document(
                chat_id, document=data, filename=name, caption=caption, message_thread_id=thread
            )

        await self._flood_controlled(chat_id, post)

    async def _send_part(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        thread: int | None,
        quote: ReplyParameters | None,
    ) -> None:
        """One message, waiting out flood control while the answer is still timely."""
        await self._flood_controlled(
            chat_id,
            lambda: context.bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
                link_preview_options=NO_PREVIEW,
                reply_parameters=quote,
                reply_markup=markup,
            ),
        )

    async def _flood_controlled(self, chat_id: int, send: Callable[[], Awaitable[Any]]) -> None:
        """Make one call, waiting out flood control while the answer is still timely."""
        for attempt in range(1, ANSWER_TRIES + 1):
            try:
                await send()
                return
            except RetryAfter as exc:
                wait = telegram_retry_after(exc)
                if attempt == ANSWER_TRIES or wait > MAX_ANSWER_WAIT:
                    raise  # on_error logs it; the answer is dropped rather than sent stale
                log.info("Telegram: flood control in chat %s, answering in %.0f s", chat_id, wait)
                await asyncio.sleep(wait)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if isinstance(error, TelegramError):
            log.warning("Telegram: could not answer an update: %s: %s", type(error).__name__, error)
        else:
            log.error("Telegram: handler failed", exc_info=error)


def _alert_text(rendered: Rendered) -> str:
    """A private answer as a callback alert: visible text only, within Telegram's 200 characters."""
    text, _ = rendered.parts[0]
    plain = visible_text(text).split("\n", 1)[0]
    return plain if len(plain) <= MAX_ALERT else plain[: MAX_ALERT - 1] + "…"
