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
import re
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.clock import parse_zone
from bot.commands import Command, Context, Spec, dispatch, table
from bot.commands.controls import VIEW_NEW_MESSAGE
from bot.commands.home import home
from bot.commands.language import SETTING
from bot.commands.payload import Expired
from bot.config import Config
from bot.frontend import AuthFailed
from bot.i18n import ENGLISH, Translator, language_code, translator
from bot.platforms.admin import slack_is_admin
from bot.platforms.inbound import (
    ADMIN_COMMANDS,
    NOT_SHARED,
    SUBSCRIPTION_COMMANDS,
    Controls,
    RenderedReplies,
    canonical_name,
    expired_text,
    file_failed,
    needs_admin_check,
    parse_text,
    press_command,
    produce_file,
    with_extra,
)
from bot.platforms.senders import SlackSender, credentials_refused
from bot.platforms.slack_gate import DUPLICATE, MALFORMED, RETRY_HEADER, SlackRequestGate
from bot.render.slack import ACTION_PREFIX, render_slack, render_slack_with_controls
from bot.reply import Reply, usage

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
UMBRELLA = "kazkor"
MAX_ALT_TEXT = 1000  # files.getUploadURLExternal alt_txt, characters
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
    "who",
    "projects",
    "source",
    "help",
    *SUBSCRIPTION_COMMANDS,
    "calendar",
    "language",
    UMBRELLA,
)


SUBSCRIBE_VIEW = "kazkor_subscribe"  # callback_id of the /subscribe modal
MAX_HOME_BLOCKS = 100  # Slack: a Home or modal view holds at most 100 blocks
DEFAULT_ZONES = (
    "Asia/Almaty", "Asia/Aqtobe", "Asia/Seoul", "Asia/Tashkent", "Asia/Bishkek", "Asia/Tokyo",
    "Asia/Shanghai", "Asia/Dubai", "Europe/Moscow", "Europe/Istanbul", "Europe/Berlin", "Europe/London",
    "America/New_York", "America/Los_Angeles", "UTC",
)  # fmt: skip
_CHANNEL_REF = re.compile(r"#([CG][A-Z0-9]{6,})\b")


def slash_commands(commands: Mapping[str, Spec]) -> list[str]:
    """The manifest's commands plus any other in the table (harmless if not in the manifest)."""
    return list(dict.fromkeys([*SLASH_COMMANDS, *commands]))


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

    async def handle(self, client, req) -> None:
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
    """The Slack :class:`~bot.frontend.FrontEnd`: HTTP mode (a route on the one server) or Socket Mode."""

    platform = PLATFORM

    def __init__(self, config: Config, ctx: Context) -> None:
        self.config = config
        self.ctx = ctx
        self.app = build_bolt_app(config)
        self.gate = SlackRequestGate(config.slack_signing_secret or "")  # HTTP mode: before Bolt
        self.socket_mode = bool(config.slack_app_token)
        self.socket_handler: AsyncSocketModeHandler | None = None
        if self.socket_mode:
            self.socket_handler = SocketModeHandler(self.app, config.slack_app_token)
        self._session: aiohttp.ClientSession | None = None  # for response_url posts (see _responder)
        # Controls are signed with a key derived from the bot token: every replica makes and accepts the same.
        self.controls = Controls(config.slack_bot_token or "")
        self.replies = RenderedReplies(PLATFORM, self._render)
        self._register_commands()
        self._register_interactions()

    def _render(self, reply: Reply) -> list[dict]:
        return render_slack_with_controls(reply, self.controls.encode)

    def _register_commands(self) -> None:
        front = self

        # A plain function (not a bound method): Bolt passes arguments by the parameter names.
        async def slash_command(ack, command, respond, client, context) -> None:
            await front.handle(command, ack, respond, client, context.get(ACK_SENT))

        for name in slash_commands(table(self.ctx)):
            self.app.command(f"/{name}")(slash_command)

    def _register_interactions(self) -> None:
        front = self

        async def pressed(ack, body, action, respond, client) -> None:
            await ack()  # at once: Slack's 3 s; the answer follows through response_url
            await front.on_press(body, action, respond, client)

        async def home_opened(event, client) -> None:
            await front.publish_home(event, client)

        async def subscribe_submitted(ack, body, view, client) -> None:
            await front.on_subscribe_submitted(ack, body, view, client)

        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(pressed)
        self.app.event("app_home_opened")(home_opened)
        self.app.view(SUBSCRIBE_VIEW)(subscribe_submitted)

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        try:
            auth = await self.app.client.auth_test()  # fail fast on a bad token, and say who we are
        except Exception as exc:
            if credentials_refused(exc):
                raise AuthFailed(f"Slack refused the bot's token ({type(exc).__name__})") from exc
            raise
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

    def sender(self) -> SlackSender:
        return SlackSender(self.app.client)

    async def health(self) -> bool:
        await self.app.client.auth_test()
        if self.socket_handler is not None:
            return bool(await self.socket_handler.client.is_connected())
        return True

    def routes(self, web_app: web.Application) -> None:
        """Route setup for ``bot.http`` (HTTP mode only)."""
        if not self.socket_mode:
            web_app.router.add_post(EVENTS_PATH, self.handle_http)

    async def handle_http(self, request: web.Request) -> web.Response:
        verdict = self.gate.check(request.headers, await request.read())
        if verdict == MALFORMED:
            log.warning("Slack: a request with a malformed signature or timestamp header refused (401)")
            return web.Response(status=401, text="invalid request")
        if verdict == DUPLICATE:
            retry = request.headers.get(RETRY_HEADER)
            log.warning(
                "Slack: a request already handled came again (%s); acknowledged, not handled twice",
                f"Slack's retry {retry[:8]}" if retry else "a replay",
            )
            return web.Response(status=200)
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
            parsed = parse_text(
                text,
                platform=PLATFORM,
                channel=channel,
                user=user,
                ctx=self.ctx,
                chat_type=chat_type_of(channel),
            )
            if isinstance(parsed, Reply):
                rendered = self.replies.render(parsed)
            elif canonical_name(parsed) in ACK_FIRST_COMMANDS:
                await ack()
                extra: dict[str, Any] = {"chat_type": chat_type_of(channel), "thread": None}
                if needs_admin_check(parsed):
                    extra["is_admin"] = await self._is_admin(client, user)
                if (
                    canonical_name(parsed) == "subscribe"
                    and not parsed.args
                    and extra.get("is_admin")
                    and command.get("trigger_id")
                ):
                    await self.open_subscribe_modal(client, command["trigger_id"], channel, user)
                    self.replies.report(parsed, started)
                    return
                rendered = await self.replies.answer_async(with_extra(parsed, **extra), self.ctx)
                await self._respond_parts(command, respond, rendered, rendered.parts)
                await self._upload_files(command, respond, client, rendered)
                self.replies.report(parsed, started)
                return
            else:
                parsed = with_extra(parsed, chat_type=chat_type_of(channel), thread=None)
                rendered = await self.replies.answer_async(parsed, self.ctx)
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
        if rest or rendered.attachments:
            if ack_sent is not None:
                try:
                    await asyncio.wait_for(ack_sent.wait(), ACK_WAIT)
                except TimeoutError:
                    log.warning("Slack: no ack sent within %.0f s; sending the rest anyway", ACK_WAIT)
            if rest:
                await self._respond_parts(command, respond, rendered, rest)
            await self._upload_files(command, respond, client, rendered)

    async def _upload_files(self, command: dict[str, Any], respond, client: AsyncWebClient, rendered) -> None:
        """Share each attached file in the command's channel (``files_upload_v2``: getUploadURLExternal,
        the upload, completeUploadExternal), with its caption as the comment and, for a picture, its alt
        text. If Slack refuses (the bot is not in the channel, no ``files:write``), say so to the asker."""
        for attachment in rendered.attachments:
            data = await produce_file(attachment)
            if data is None:
                await respond(text=file_failed(attachment), response_type="ephemeral")
                continue
            try:
                await client.files_upload_v2(
                    channel=command.get("channel_id"),
                    file=data,
                    filename=attachment.filename,
                    title=attachment.filename,
                    initial_comment=attachment.caption or None,
                    alt_txt=(attachment.alt[:MAX_ALT_TEXT] or None) if attachment.is_image else None,
                )
            except SlackApiError as exc:
                error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
                log.warning("Slack: could not share %s (%s)", attachment.filename, error or exc)
                said = translator(attachment.lang).gettext(NOT_SHARED)
                await respond(
                    text=said.format(filename=attachment.filename, error=error or "error"),
                    response_type="ephemeral",
                )

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
        return await slack_is_admin(client, user_id, self.config.admins)

    # --- buttons ---------------------------------------------------------------------------------

    async def on_press(self, body: dict[str, Any], action: dict[str, Any], respond, client) -> None:
        """A control under one of our messages (already acked): the answer replaces the message, a
        refusal or an expired control goes to the presser alone, and the message stays as it was."""
        started = time.perf_counter()
        value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        user = (body.get("user") or {}).get("id", "")
        send = self._responder(body.get("response_url"), respond)
        try:
            press = self.controls.decode(value)
        except Expired as exc:
            log.info("Slack: a control press refused (%s)", exc)
            alert = expired_text(
                self.ctx, platform=PLATFORM, channel=channel, user=user, chat_type=chat_type_of(channel)
            )
            await send(text=alert, response_type="ephemeral", replace_original=False)
            self.replies.report(None, started)
            return
        extra: dict[str, Any] = {"chat_type": chat_type_of(channel), "thread": None}
        if press.command in ADMIN_COMMANDS:
            extra["is_admin"] = await self._is_admin(client, user)
        command = press_command(press, platform=PLATFORM, channel=channel, user=user, **extra)
        rendered = await self.replies.answer_async(command, self.ctx, press.page, press.view)
        parts = list(rendered.parts)
        if not rendered.public:
            for message in parts:
                await send(**message, response_type="ephemeral", replace_original=False)
        elif press.view == VIEW_NEW_MESSAGE or press.command in ADMIN_COMMANDS:
            for message in parts:
                await send(**message, response_type="in_channel", replace_original=False)
        else:
            first, *rest = parts
            await send(**first, replace_original=True)
            for message in rest:
                await send(**message, response_type="in_channel", replace_original=False)
        if rendered.attachments:  # e.g. the "Chart" control under /trade

            async def tell(**message: Any) -> Any:
                return await send(**message, replace_original=False)

            await self._upload_files({"channel_id": channel}, tell, client, rendered)
        self.replies.report(command, started)

    # --- App Home --------------------------------------------------------------------------------

    async def publish_home(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        """The Home tab: this workspace's subscriptions, the next ten reminders, the commands."""
        if event.get("tab", "home") != "home":
            return
        user = event.get("user", "")
        started = time.perf_counter()
        # home() reads every subscription of the workspace from the state database: off the loop
        # the Home tab belongs to a user: it speaks the language set in their DM with the bot (the
        # event's channel) when they chose one, else the default
        dm = event.get("channel") or ""
        lang = language_code(self.ctx.channel_setting(PLATFORM, dm, SETTING)) if dm else None
        ctx = self.ctx.speaking(lang or self.ctx.tr.lang)
        view = home_view(await asyncio.to_thread(home, PLATFORM, ctx))
        await client.views_publish(user_id=user, view=view)
        if self.replies.observe is not None:
            self.replies.observe(PLATFORM, "other", time.perf_counter() - started)

    # --- the /subscribe modal --------------------------------------------------------------------

    async def open_subscribe_modal(
        self, client: AsyncWebClient, trigger_id: str, channel: str, user: str
    ) -> None:
        """A modal with a time picker and a zone select (default: the user's own zone from users.info)."""
        zone = self.ctx.tz.key
        try:
            info = await client.users_info(user=user)
            zone = parse_zone(str((info.get("user") or {}).get("tz") or "")) or zone
        except Exception as exc:  # noqa: BLE001 - the modal still opens, with the bot's own zone
            log.warning("Slack: could not read the zone of %s: %s", user, type(exc).__name__)
        lang = language_code(self.ctx.channel_setting(PLATFORM, channel, SETTING)) or self.ctx.tr.lang
        await client.views_open(trigger_id=trigger_id, view=subscribe_modal(channel, zone, translator(lang)))

    async def on_subscribe_submitted(self, ack, body: dict[str, Any], view: dict[str, Any], client) -> None:
        """Save what the modal chose exactly as ``/subscribe HH:MM Area/City`` would (same checks)."""
        values = view.get("state", {}).get("values", {})
        when = (values.get("time", {}).get("time") or {}).get("selected_time") or ""
        zone = ((values.get("zone", {}).get("zone") or {}).get("selected_option") or {}).get("value") or ""
        channel = view.get("private_metadata", "")
        user = (body.get("user") or {}).get("id", "")
        started = time.perf_counter()
        admin = await self._is_admin(client, user)
        command = Command(
            "subscribe",
            tuple(word for word in (when, zone) if word),
            PLATFORM,
            channel,
            user,
            {"chat_type": chat_type_of(channel), "thread": None, "is_admin": admin},
        )
        reply = await asyncio.to_thread(dispatch, command, self.ctx)  # it writes the state database
        if not reply.public:  # a refusal or a bad choice: shown in the modal, which stays open
            await ack(response_action="errors", errors={"time": reply.title[:150]})
            return
        await ack()
        for message in render_slack(reply):
            try:
                await client.chat_postMessage(channel=channel, text=message["text"], blocks=message["blocks"])
            except Exception as exc:  # noqa: BLE001 - saved already; the bot may not be in the channel
                log.warning("Slack: subscription saved, confirmation not posted: %s", type(exc).__name__)
                break
        self.replies.report(command, started)


def home_view(reply: Reply) -> dict[str, Any]:
    """A ``home`` view: the reply's blocks (at most 100), channel ids shown as channel links."""
    blocks = [block for message in render_slack(reply) for block in message["blocks"]][:MAX_HOME_BLOCKS]
    return {"type": "home", "blocks": _link_channels(blocks)}


def _link_channels(value: Any) -> Any:
    """``#C0123ABC`` in mrkdwn text becomes ``<#C0123ABC>``, which Slack shows as the channel's name."""
    if isinstance(value, list):
        return [_link_channels(v) for v in value]
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn":
            return {**value, "text": _CHANNEL_REF.sub(r"<#\1>", value["text"])}
        return {key: _link_channels(v) for key, v in value.items()}
    return value


def subscribe_modal(channel: str, zone: str, tr: Translator = ENGLISH) -> dict[str, Any]:
    """The /subscribe modal for ``channel``, in the channel's language: a time (default 09:00) and a
    zone (default ``zone``)."""
    _ = tr.gettext
    zones = list(dict.fromkeys([zone, *DEFAULT_ZONES]))[:100]
    options = [{"text": {"type": "plain_text", "text": name}, "value": name} for name in zones]
    return {
        "type": "modal",
        "callback_id": SUBSCRIBE_VIEW,
        "private_metadata": channel,
        "title": {"type": "plain_text", "text": _("Daily reminders")},
        "submit": {"type": "plain_text", "text": _("Subscribe")},
        "close": {"type": "plain_text", "text": _("Cancel")},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _("Kazakhstan–Korea anniversaries and events, posted daily in {channel}.").format(
                        channel=f"<#{channel}>"
                    ),
                },
            },
            {
                "type": "input",
                "block_id": "time",
                "label": {"type": "plain_text", "text": _("Time")},
                "element": {"type": "timepicker", "action_id": "time", "initial_time": "09:00"},
            },
            {
                "type": "input",
                "block_id": "zone",
                "label": {"type": "plain_text", "text": _("Time zone")},
                "element": {
                    "type": "static_select",
                    "action_id": "zone",
                    "options": options,
                    "initial_option": options[0],
                },
            },
        ],
    }
