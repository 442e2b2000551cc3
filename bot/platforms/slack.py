"""Slack front end: slack-bolt ``AsyncApp`` -> shared core -> Block Kit via ``respond()``.

HTTP mode (default): Slack POSTs slash commands to ``/slack/events`` on the shared aiohttp server
(``bot.http``); Bolt verifies the signature (forged or older than 5 minutes: 401). Socket Mode (with
``SLACK_APP_TOKEN``): ``AsyncSocketModeHandler.connect_async()``, no inbound port needed.

Answers go in the ack itself, Slack's documented "immediate response" to a slash command: the
HTTP 200 body (in Socket Mode the envelope's response payload) carries the first rendered message,
``in_channel`` for answers and ``ephemeral`` (only the asker sees it) for usage hints and errors.
Commands are in-memory and fast (well under a millisecond, less when the rendered answer is cached,
see :class:`bot.platforms.inbound.RenderedReplies`), so this keeps far inside Slack's 3 s deadline. A
long answer's further messages follow through the command's ``response_url`` (``respond()``), in
order, once the ack has gone out. Commands that call Slack before they can answer (/subscribe and
/unsubscribe ask ``users.info`` whether the asker is an admin; /subscriptions reads the state store)
are acked at once with an empty body and answered through ``response_url``, whatever those calls take.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.commands import COMMANDS, Command, Context
from bot.config import Config
from bot.platforms.inbound import (
    ADMIN_COMMANDS,
    SUBSCRIPTION_COMMANDS,
    RenderedReplies,
    admin_check,
    ask_admin_check,
    canonical_name,
    needs_admin_check,
    parse_text,
    with_extra,
)
from bot.render.slack import render_slack
from bot.reply import Reply, usage

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
UMBRELLA = "kazkor"
RESPOND_TIMEOUT = 10  # seconds for one response_url post
ACK_WAIT = 3.0  # at most this long for the ack to go out before a long answer's next parts follow
# Bolt request-context key: an asyncio.Event set once the ack (HTTP response / Socket Mode
# envelope response) has been written, so response_url parts cannot overtake the first part.
ACK_SENT = "kazkor_ack_sent"
# Answered only after an empty ack: they call Slack (users.info) or read the state store first.
ACK_FIRST_COMMANDS = frozenset({*ADMIN_COMMANDS, *SUBSCRIPTION_COMMANDS, "calendar"})
# The slash commands of deploy/slack-manifest.yml (keep the two in step).
SLASH_COMMANDS = (
    "trade",
    "agreements",
    "timeline",
    "upcoming",
    "search",
    "source",
    "help",
    *SUBSCRIPTION_COMMANDS,
    "calendar",
    UMBRELLA,
)


def slash_commands() -> list[str]:
    """The manifest's commands plus anything the core registered since (harmless if not in the manifest)."""
    return list(dict.fromkeys([*SLASH_COMMANDS, *COMMANDS]))


def slack_unescape(text: str) -> str:
    """Slack sends ``&``, ``<`` and ``>`` in command text as ``&amp;``, ``&lt;`` and ``&gt;``; the core
    wants what the user typed (the renderer escapes again on the way out)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def chat_type_of(channel_id: str) -> str:
    """Slack channel ids: ``D...`` direct message, ``G...`` private channel or group DM, ``C...`` channel."""
    return {"D": "im", "G": "private_channel"}.get(channel_id[:1], "channel")


class _DropTokenUnusedWarning(logging.Filter):
    """AsyncApp falls back to the SLACK_BOT_TOKEN environment variable when no ``token=`` is given and
    then warns that it is unused because ``client=`` was given: true, and expected here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_bolt_app(config: Config) -> AsyncApp:
    # client= only (its base_url is SLACK_API_URL); signing_secret="" rather than None so Bolt does not
    # read the environment itself. Socket Mode requests are not signed and Bolt skips the check for them.
    client = AsyncWebClient(token=config.slack_bot_token, base_url=config.slack_api_url)
    bolt_logger = logging.getLogger("slack_bolt.AsyncApp")
    quiet = _DropTokenUnusedWarning()
    bolt_logger.addFilter(quiet)
    try:
        # Bolt names its loggers after the app and copies the root logger's level onto them: "kazkor"
        # would reset the level of every "kazkor.*" logger, so the app gets a name of its own.
        return AsyncApp(
            client=client, signing_secret=config.slack_signing_secret or "", name="kazkor-slack-app"
        )
    finally:
        bolt_logger.removeFilter(quiet)


class SocketModeHandler(AsyncSocketModeHandler):
    """Bolt's handler (``handle`` is its own three lines), plus the :data:`ACK_SENT` event in the
    request context, set once the envelope's response has been sent."""

    async def handle(self, client, req) -> None:  # type: ignore[override]
        start = time.time()
        sent = asyncio.Event()
        request = AsyncBoltRequest(
            mode="socket_mode", body=req.payload, headers=build_headers(req), context={ACK_SENT: sent}
        )
        try:
            await send_async_response(client, req, await self.app.async_dispatch(request), start)
        finally:
            sent.set()


class SlackFrontEnd:
    def __init__(self, config: Config, ctx: Context) -> None:
        self.config = config
        self.ctx = ctx
        self.app = build_bolt_app(config)
        self.socket_mode = bool(config.slack_app_token)
        self.socket_handler: AsyncSocketModeHandler | None = None
        if self.socket_mode:
            self.socket_handler = SocketModeHandler(self.app, config.slack_app_token)
        self._session: aiohttp.ClientSession | None = None  # for response_url posts (see _responder)
        self.replies = RenderedReplies(PLATFORM, render_slack)
        self._register_commands()

    def _register_commands(self) -> None:
        front = self

        # A plain function (not a bound method): Bolt passes arguments by the parameter names.
        async def slash_command(ack, command, respond, client, context) -> None:
            await front.handle(command, ack, respond, client, context.get(ACK_SENT))

        for name in slash_commands():
            self.app.command(f"/{name}")(slash_command)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        auth = await self.app.client.auth_test()  # fail fast on a bad token, and say who we are
        log.info("Slack: signed in as %s in %s", auth.get("user"), auth.get("team"))
        if self.socket_handler is not None:
            await self.socket_handler.connect_async()
            log.info("Slack: Socket Mode connected")
        else:
            log.info("Slack: HTTP mode, slash commands at POST %s", EVENTS_PATH)

    async def stop(self) -> None:
        if self.socket_handler is not None:
            await self.socket_handler.close_async()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- HTTP mode -------------------------------------------------------------------------------

    def add_routes(self, web_app: web.Application) -> None:
        """Route setup for ``bot.http`` (HTTP mode only)."""
        if not self.socket_mode:
            web_app.router.add_post(EVENTS_PATH, self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        sent = asyncio.Event()
        bolt_request = await to_bolt_request(request)
        bolt_request.context[ACK_SENT] = sent
        try:
            response = await to_aiohttp_response(await self.app.async_dispatch(bolt_request))
            # Written here rather than after returning, so ACK_SENT means "the ack is on the wire".
            await response.prepare(request)
            await response.write_eof()
            return response
        finally:
            sent.set()

    # --- commands --------------------------------------------------------------------------------

    async def handle(
        self, command: dict[str, Any], ack, respond, client: AsyncWebClient, ack_sent: asyncio.Event | None
    ) -> None:
        """Answer one slash command: the first message in the ack, any further ones through its
        ``response_url``; or, for :data:`ACK_FIRST_COMMANDS`, an empty ack first and every message after."""
        started = time.perf_counter()
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        text = f"{command.get('command', '')} {slack_unescape(command.get('text', ''))}".strip()
        parsed: Command | Reply = usage("Empty command.", "/help")
        try:
            parsed = parse_text(text, platform=PLATFORM, channel=channel, user=user)
            if isinstance(parsed, Reply):
                rendered = self.replies.render(parsed)
            elif canonical_name(parsed) in ACK_FIRST_COMMANDS:
                await ack()
                extra: dict[str, Any] = {"chat_type": chat_type_of(channel), "thread": None}
                if needs_admin_check(parsed):
                    extra["is_admin"] = await self._is_admin(client, user)
                rendered = self.replies.answer(with_extra(parsed, **extra), self.ctx)
                await self._respond_parts(command, respond, rendered, rendered.parts)
                self.replies.report(parsed, started)
                return
            else:
                parsed = with_extra(parsed, chat_type=chat_type_of(channel), thread=None)
                rendered = self.replies.answer(parsed, self.ctx)
        except Exception:
            await ack()  # an empty ack rather than Slack's "didn't respond" error; the failure is logged
            raise
        first, *rest = rendered.parts
        await ack(
            text=first["text"],
            blocks=first["blocks"],
            response_type="in_channel" if rendered.public else "ephemeral",
        )
        self.replies.report(parsed, started)
        if rest:
            if ack_sent is not None:
                try:
                    await asyncio.wait_for(ack_sent.wait(), ACK_WAIT)
                except TimeoutError:
                    log.warning("Slack: no ack sent within %.0f s; sending the rest anyway", ACK_WAIT)
            await self._respond_parts(command, respond, rendered, rest)

    async def _respond_parts(self, command: dict[str, Any], respond, rendered, parts) -> None:
        """Post ``parts`` to the command's ``response_url``, in order; stop at the first refusal."""
        response_type = "in_channel" if rendered.public else "ephemeral"
        send = self._responder(command.get("response_url"), respond)
        for message in parts:
            result = await send(text=message["text"], blocks=message["blocks"], response_type=response_type)
            if result.status_code != 200:
                log.warning("Slack: response_url refused a reply part (HTTP %s)", result.status_code)
                return

    def _responder(self, response_url: str | None, respond):
        """Bolt's ``respond`` posts each message with a new HTTP session (a new connection every time);
        ours keeps one session, so answers reuse open connections to Slack. Same request, same body."""
        if self._session is None or not response_url:
            return respond
        return AsyncWebhookClient(response_url, timeout=RESPOND_TIMEOUT, session=self._session).send

    async def _is_admin(self, client: AsyncWebClient, user_id: str) -> bool:
        check = admin_check("slack_is_admin")
        if check is None or not user_id:  # no admin module yet: nobody may (un)subscribe a channel
            return False
        return await ask_admin_check(check, client=client, user_id=user_id, admins=self.config.admins)
