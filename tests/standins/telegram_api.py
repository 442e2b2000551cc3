"""A stand-in Telegram Bot API, written from the public docs (https://core.telegram.org/bots/api).

It answers ``/bot<token>/<method>`` like the real server: ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}`` with the matching HTTP
status, which python-telegram-bot turns into ``RetryAfter``, ``Forbidden``, ``ChatMigrated``...

What it checks the way Telegram does: the token, ``getUpdates`` long polling (``offset`` confirms
updates, ``timeout`` bounds the wait, ``limit``, ``allowed_updates`` is remembered), HTML parse mode
(only the documented tags, balanced, known entities) and the 4096-character limit after entity
parsing. Tests drive it with :meth:`FakeTelegram.push_command` / :meth:`FakeTelegram.push_update` and
read :attr:`FakeTelegram.sent`.

Buttons and inline mode as the docs describe them: every message the bot sends is kept (text and
``reply_markup``) so that :meth:`FakeTelegram.press` can push a ``callback_query`` for one of its
buttons; ``editMessageText`` answers "message is not modified" for identical content and "message
can't be edited" for messages marked too old (:meth:`FakeTelegram.make_uneditable`);
Files as the docs describe them: ``sendPhoto`` and ``sendDocument`` take the file as a
``multipart/form-data`` upload; a photo must decode as an image (else ``IMAGE_PROCESS_FAILED``), at
most 10 MB, width + height at most 10000 and a ratio of at most 20 (``PHOTO_INVALID_DIMENSIONS``); a
document at most 50 MB; a caption at most 1024 characters after entity parsing. Accepted files are
kept in :attr:`FakeTelegram.files`.

``answerCallbackQuery`` accepts one answer per query (text up to 200 characters); inline keyboards
are checked (``callback_data`` 1-64 bytes: ``BUTTON_DATA_INVALID``); ``inline_query`` updates and
``answerInlineQuery`` (at most 50 results, unique ids) are recorded in :attr:`FakeTelegram.inline_answers`.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.standins import DEFAULT_TIMEOUT, RateWindow, StandIn, read_params

MAX_TEXT = 4096

# https://core.telegram.org/bots/api#html-style
ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# Parameters that Telegram reads as strings; every other form value the library JSON-encodes.
STRING_PARAMS = {
    "text", "parse_mode", "language_code", "url", "secret_token", "caption", "ip_address",
    "description", "short_description", "name", "business_connection_id", "message_effect_id",
}  # fmt: skip

_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)\s*/?>")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


class EntityParseError(ValueError):
    """The markup would be refused with ``Bad Request: can't parse entities: <message>``."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(markup: str) -> str:
    """Check ``markup`` as Telegram's HTML parse mode does and return the visible text.

    Raises :class:`EntityParseError` for an unsupported or unbalanced tag, a stray ``<`` or an
    unknown named entity.
    """
    visible: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(markup):
        char = markup[i]
        if char == "<":
            i = _parse_tag(markup, i, stack)
        elif char == "&":
            text, i = _parse_entity(markup, i)
            visible.append(text)
        else:
            visible.append(char)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def _byte_offset(markup: str, index: int) -> int:
    return len(markup[:index].encode("utf-8"))


def _parse_tag(markup: str, index: int, stack: list[str]) -> int:
    """Consume one tag at ``index``, updating the open-tag stack; return the index after it."""
    match = _TAG_RE.match(markup, index)
    offset = _byte_offset(markup, index)
    if match is None:
        raise EntityParseError(f"Unexpected start of a tag at byte offset {offset}")
    closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
    if name not in ALLOWED_TAGS:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
    if closing:
        if not stack or stack[-1] != name:
            expected = f'expected "</{stack[-1]}>", ' if stack else ""
            raise EntityParseError(f'Unmatched end tag at byte offset {offset}, {expected}found "</{name}>"')
        stack.pop()
    else:
        _check_attributes(name, attrs, offset)
        stack.append(name)
    return match.end()


def _check_attributes(name: str, attrs: str, offset: int) -> None:
    if name == "a" and "href" not in attrs:
        raise EntityParseError(f"Can't find href in a tag at byte offset {offset}")
    if name == "span" and "tg-spoiler" not in attrs:
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')


def _parse_entity(markup: str, index: int) -> tuple[str, int]:
    """Decode an entity at ``index``; a bare ``&`` that starts no entity is kept as text."""
    match = _ENTITY_RE.match(markup, index)
    if match is None:
        return "&", index + 1
    body = match.group(1)
    if body.startswith("#x"):
        return chr(int(body[2:], 16)), match.end()
    if body.startswith("#"):
        return chr(int(body[1:])), match.end()
    if body not in NAMED_ENTITIES:
        offset = _byte_offset(markup, index)
        raise EntityParseError(f'Unsupported HTML entity "&{body};" at byte offset {offset}')
    return NAMED_ENTITIES[body], match.end()


class ApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, ...}``."""

    def __init__(self, status: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class SentMessage:
    """One ``sendMessage`` call that Telegram accepted."""

    chat_id: int | str
    text: str
    parse_mode: str | None
    message_thread_id: int | None
    reply_parameters: dict | None
    message_id: int
    visible_text: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class SentFile:
    """One ``sendPhoto`` or ``sendDocument`` call that Telegram accepted."""

    method: str  # "sendPhoto" or "sendDocument"
    chat_id: int | str
    filename: str | None
    content_type: str | None
    data: bytes
    caption: str | None
    message_id: int
    params: dict[str, Any] = field(default_factory=dict)


MAX_CAPTION = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024


async def _read_uploads(request: web.Request) -> dict[str, web.FileField]:
    """The files of a multipart body (``read_params`` keeps its text fields)."""
    if not request.content_type.startswith("multipart/"):
        return {}
    form = await request.post()  # aiohttp keeps the parsed body: this is the same read
    return {key: value for key, value in form.items() if isinstance(value, web.FileField)}


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Undo the library's encoding: non-string values arrive JSON-encoded in form bodies."""
    params = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in STRING_PARAMS:
            try:
                value = json.loads(value)
            except ValueError:
                pass
        params[key] = value
    return params


def _chat_type_for(chat_id: int | str) -> str:
    if isinstance(chat_id, int) and chat_id > 0:
        return "private"
    if isinstance(chat_id, str):
        return "channel"
    return "supergroup" if str(chat_id).startswith("-100") else "group"


class FakeTelegram(StandIn):
    """The Bot API for one bot token. ``base_url`` goes to ``ApplicationBuilder().base_url(...)``."""

    def __init__(
        self,
        token: str = "123456:TEST-kazkor-token",
        *,
        username: str = "KazkorBot",
        bot_id: int = 123456,
        rate_limit_per_chat_per_s: float | None = None,
        rate_limit_global_per_s: float | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.sent: list[SentMessage] = []
        self.files: list[SentFile] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[str, list[dict]] = {}
        self.member_status: dict[tuple[str, str], str] = {}
        self.webhook_url = ""
        self.allowed_updates: list[str] | None = None
        self._updates: list[dict] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._chat_types: dict[str, str] = {}
        self._waiters: list[asyncio.Future] = []
        self._closing = False
        self._per_chat = RateWindow(rate_limit_per_chat_per_s)
        self._global = RateWindow(rate_limit_global_per_s)
        # (chat id as str, message id) -> what the chat shows: {"text", "visible", "reply_markup"}
        self.messages: dict[tuple[str, int], dict[str, Any]] = {}
        self.edits: list[dict[str, Any]] = []  # accepted editMessageText calls
        self.callback_answers: dict[str, dict[str, Any]] = {}  # query id -> answerCallbackQuery params
        self.inline_answers: dict[str, dict[str, Any]] = {}  # inline query id -> answerInlineQuery params
        self._uneditable: set[tuple[str, int]] = set()
        self._next_query_id = 1

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot``: the library appends ``<token>/<method>``."""
        return f"{self.root_url}/bot"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{bot_token}/{method}", self._handle)
        return app

    async def before_stop(self) -> None:
        self._closing = True
        self._wake_pollers()

    # --- test helpers ----------------------------------------------------------------------------

    def push_update(self, update: dict) -> int:
        """Queue an update (``update_id`` is assigned when missing); safe from any thread."""
        update = dict(update)
        update.setdefault("update_id", self._next_update_id)
        self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
        message = update.get("message") or update.get("edited_message")
        if message:
            self._chat_types[str(message["chat"]["id"])] = message["chat"]["type"]
        self._updates.append(update)
        self.call_in_loop(self._wake_pollers)
        return update["update_id"]

    def push_command(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "private",
        user_id: int = 1001,
        thread_id: int | None = None,
        is_topic: bool = False,
        first_name: str = "Aigerim",
        language_code: str | None = None,
    ) -> int:
        """Queue a message whose text starts with a command, with its ``bot_command`` entity.
        ``language_code``: the sender's Telegram language (IETF tag), sent only when given."""
        command = text.split(maxsplit=1)[0] if text.strip() else text
        message = self.make_message(
            chat_id, text, chat_type=chat_type, user_id=user_id, first_name=first_name
        )
        if language_code is not None:
            message["from"]["language_code"] = language_code
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        if is_topic:
            message["is_topic_message"] = True
            message["chat"]["is_forum"] = True
        return self.push_update({"message": message})

    def make_message(
        self, chat_id: int, text: str, *, chat_type: str, user_id: int, first_name: str = "Aigerim"
    ) -> dict:
        """A Message object as the Bot API sends it inside an update."""
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = f"Chat {chat_id}"
        message_id = self._next_message_id
        self._next_message_id += 1
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": text,
        }

    def buttons(self, message: SentMessage) -> list[tuple[str, str]]:
        """``(label, callback_data)`` of every button under ``message`` as the chat shows it now."""
        shown = self.messages[(str(message.chat_id), message.message_id)]
        rows = (shown.get("reply_markup") or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def press(
        self,
        message: SentMessage,
        label: str | None = None,
        *,
        data: str | None = None,
        user_id: int = 1001,
        first_name: str = "Aigerim",
        inaccessible: bool = False,
        language_code: str | None = None,
    ) -> str:
        """Push the ``callback_query`` Telegram sends when a user presses the button ``label`` under
        ``message`` (or sends ``data`` as if it were one: a forged press); returns the query id.
        ``inaccessible``: the message is too old for the bot to see, and Telegram sends only its chat,
        id and ``date`` 0 (an InaccessibleMessage). ``language_code``: the presser's Telegram language."""
        if data is None:
            matches = [d for text, d in self.buttons(message) if text == label]
            if not matches:
                raise AssertionError(
                    f"no button {label!r} under message {message.message_id}: {self.buttons(message)}"
                )
            data = matches[0]
        key = (str(message.chat_id), message.message_id)
        chat_type = self._chat_types.get(key[0]) or _chat_type_for(message.chat_id)
        shown = self.messages.get(key, {"visible": message.visible_text})
        msg = self._sent_message_object(
            message.chat_id, shown["visible"], message.message_id, message.message_thread_id
        )
        msg["chat"]["type"] = chat_type
        if shown.get("reply_markup"):
            msg["reply_markup"] = shown["reply_markup"]
        if inaccessible:
            msg = {"chat": msg["chat"], "message_id": message.message_id, "date": 0}
        sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code is not None:
            sender["language_code"] = language_code
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": sender,
                    "message": msg,
                    "chat_instance": f"ci{message.chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

    def push_inline_query(self, query: str, *, user_id: int = 1001, offset: str = "") -> str:
        """Push the ``inline_query`` Telegram sends while a user types ``@bot query``; returns its id."""
        query_id = f"iq{self._next_query_id}"
        self._next_query_id += 1
        self.push_update(
            {
                "inline_query": {
                    "id": query_id,
                    "from": {"id": user_id, "is_bot": False, "first_name": "Aigerim"},
                    "query": query,
                    "offset": offset,
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    def make_uneditable(self, message: SentMessage) -> None:
        """Make ``message`` too old to edit (Telegram refuses edits of some old messages)."""
        self._uneditable.add((str(message.chat_id), message.message_id))

    def shown(self, message: SentMessage) -> str:
        """The visible text ``message`` has now (after any edits)."""
        return self.messages[(str(message.chat_id), message.message_id)]["visible"]

    async def wait_for_callback_answer(
        self, query_id: str, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        await self.wait_until(
            lambda: query_id in self.callback_answers, timeout, f"an answer to query {query_id}"
        )
        return self.callback_answers[query_id]

    async def wait_for_inline_answer(self, query_id: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        await self.wait_until(
            lambda: query_id in self.inline_answers, timeout, f"an answer to inline query {query_id}"
        )
        return self.inline_answers[query_id]

    async def wait_for_edits(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
        await self.wait_until(lambda: len(self.edits) >= n, timeout, f"{n} edits (got {len(self.edits)})")
        return list(self.edits)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What ``getChatMember`` answers for this user in this chat (default "member").

        Statuses: "creator", "administrator", "member", "restricted", "left", "kicked".
        """
        self.member_status[(str(chat_id), str(user_id))] = status

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        parameters: dict | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (for ``chat_id`` only, if given) with an error."""
        self._faults.add(
            method, chat_id, count, status=status, description=description, parameters=parameters
        )

    async def wait_for_sent(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[SentMessage]:
        """Wait until at least ``n`` messages were sent; TimeoutError after ``timeout`` seconds."""
        await self.wait_until(
            lambda: len(self.sent) >= n, timeout, f"{n} sent messages (got {len(self.sent)})"
        )
        return list(self.sent)

    def wait_for_sent_sync(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[SentMessage]:
        """:meth:`wait_for_sent` for sync tests (with :meth:`run_in_thread`)."""
        self.wait_until_sync(
            lambda: len(self.sent) >= n, timeout, f"{n} sent messages (got {len(self.sent)})"
        )
        return list(self.sent)

    # --- HTTP plumbing ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        bot_token, method = request.match_info["bot_token"], request.match_info["method"]
        if not bot_token.startswith("bot"):
            return _error_response(ApiError(404, "Not Found"))
        if bot_token[3:] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        params = _decode_params(await read_params(request))
        params.update(await _read_uploads(request))
        self.calls[method] += 1
        self.requests.append((method, params))
        await self.apply_delay(method, params.get("chat_id"))
        try:
            self._check_fault(method, params)
            self._check_rate(method, params)
            handler = self._methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            return _error_response(exc)
        return web.json_response({"ok": True, "result": result})

    def _check_fault(self, method: str, params: dict) -> None:
        fault = self.take_fault(method, params.get("chat_id"))
        if fault is not None:
            raise ApiError(fault.details["status"], fault.details["description"], fault.details["parameters"])

    def _check_rate(self, method: str, params: dict) -> None:
        if method == "getUpdates":
            return
        limited = self._global.exceeded("all")
        if "chat_id" in params and self._per_chat.exceeded(str(params["chat_id"])):
            limited = True
        if limited:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})

    def _methods(self) -> dict:
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchatmember": self._get_chat_member,
            "editmessagetext": self._edit_message_text,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._no_op,
            "logout": self._no_op,
        }

    # --- methods ---------------------------------------------------------------------------------

    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Kazkor",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_me(self, params: dict) -> dict:
        return self.bot_user()

    async def _no_op(self, params: dict) -> bool:
        return True

    async def _get_updates(self, params: dict) -> list[dict]:
        """Long polling: confirm updates below ``offset``, then wait up to ``timeout`` for new ones."""
        if self.webhook_url:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook first"
            )
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"] or None
        self._confirm(int(params.get("offset") or 0))
        limit = max(1, min(100, int(params.get("limit") or 100)))
        deadline = time.monotonic() + max(0.0, float(params.get("timeout") or 0))
        while not self._deliverable() and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
        return self._deliverable()[:limit]

    def _confirm(self, offset: int) -> None:
        """Drop confirmed updates (id < offset); a negative offset keeps only the last ``-offset``."""
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable(self) -> list[dict]:
        """Pending updates of an allowed type; updates of other types are dropped, as Telegram does."""
        if self.allowed_updates is not None:
            allowed = set(self.allowed_updates)
            self._updates = [u for u in self._updates if _update_type(u) in allowed]
        return list(self._updates)

    def _wake_pollers(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _send_message(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        text = params.get("text")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        visible = self._checked_text(text, params.get("parse_mode"), "message is too long")
        markup = _checked_markup(params.get("reply_markup"))
        message_id = self._next_message_id
        self._next_message_id += 1
        self.messages[(str(chat_id), message_id)] = {"text": text, "visible": visible, "reply_markup": markup}
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                text=text,
                parse_mode=params.get("parse_mode"),
                message_thread_id=params.get("message_thread_id"),
                reply_parameters=params.get("reply_parameters"),
                message_id=message_id,
                visible_text=visible,
                params=params,
            )
        )
        return self._sent_message_object(chat_id, visible, message_id, params.get("message_thread_id"))

    async def _send_photo(self, params: dict) -> dict:
        upload = self._upload(params, "photo", MAX_PHOTO_BYTES)
        data = upload.file.read()
        from PIL import Image, UnidentifiedImageError

        try:
            width, height = Image.open(io.BytesIO(data)).size
        except (UnidentifiedImageError, OSError):
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        message = self._file_message("sendPhoto", params, upload, data)
        message["photo"] = [
            {"file_id": f"photo-{message['message_id']}", "file_unique_id": f"p{message['message_id']}",
             "width": width, "height": height, "file_size": len(data)}
        ]  # fmt: skip
        return message

    async def _send_document(self, params: dict) -> dict:
        upload = self._upload(params, "document", MAX_DOCUMENT_BYTES)
        data = upload.file.read()
        message = self._file_message("sendDocument", params, upload, data)
        message["document"] = {
            "file_id": f"doc-{message['message_id']}",
            "file_unique_id": f"d{message['message_id']}",
            "file_name": upload.filename,
            "mime_type": upload.content_type,
            "file_size": len(data),
        }
        return message

    def _upload(self, params: dict, field_name: str, limit: int) -> web.FileField:
        if params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        upload = params.get(field_name)
        if not isinstance(upload, web.FileField):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        size = upload.file.seek(0, io.SEEK_END)
        upload.file.seek(0)
        if size > limit:
            raise ApiError(413, "Request Entity Too Large")
        return upload

    def _file_message(self, method: str, params: dict, upload: web.FileField, data: bytes) -> dict:
        caption = params.get("caption")
        visible = None
        if caption is not None:
            visible = self._visible_text(caption, params.get("parse_mode"))
            if utf16_len(visible) > MAX_CAPTION:
                raise ApiError(400, "Bad Request: message caption is too long")
        message_id = self._next_message_id
        self._next_message_id += 1
        chat_id = params["chat_id"]
        self.files.append(
            SentFile(method, chat_id, upload.filename, upload.content_type, data, caption, message_id, params)
        )
        message = self._sent_message_object(chat_id, "", message_id, params.get("message_thread_id"))
        del message["text"]
        if visible:
            message["caption"] = visible
        return message

    async def wait_for_files(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[SentFile]:
        await self.wait_until(lambda: len(self.files) >= n, timeout, f"{n} files (got {len(self.files)})")
        return list(self.files)

    def _checked_text(self, text: Any, parse_mode: str | None, too_long: str) -> str:
        """The visible text of a message body, refused as Telegram refuses it (empty, too long)."""
        if not isinstance(text, str):
            raise ApiError(400, "Bad Request: message text is empty")
        visible = self._visible_text(text, parse_mode)
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, f"Bad Request: {too_long}")
        return visible

    @staticmethod
    def _visible_text(text: str, parse_mode: str | None) -> str:
        if parse_mode is None:
            return text
        if parse_mode.upper() != "HTML":
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} in this stand-in")
        try:
            return parse_html(text)
        except EntityParseError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None

    def _sent_message_object(self, chat_id: Any, visible: str, message_id: int, thread_id: Any) -> dict:
        chat_type = self._chat_types.get(str(chat_id)) or _chat_type_for(chat_id)
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = f"Chat {chat_id}"
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user(),
            "text": visible,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
        return message

    async def _edit_message_text(self, params: dict) -> dict | bool:
        chat_id, message_id, text = params.get("chat_id"), params.get("message_id"), params.get("text")
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")  # the stand-in keeps no inline messages
        key = (str(chat_id), int(message_id or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        if key in self._uneditable:
            raise ApiError(400, "Bad Request: message can't be edited")
        visible = self._checked_text(text, params.get("parse_mode"), "MESSAGE_TOO_LONG")
        markup = _checked_markup(params.get("reply_markup"))
        old = self.messages[key]
        if old["text"] == text and old.get("reply_markup") == markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        self.messages[key] = {"text": text, "visible": visible, "reply_markup": markup}
        self.edits.append(params)
        result = self._sent_message_object(chat_id, visible, key[1], None)
        result["edit_date"] = int(time.time())
        if markup:
            result["reply_markup"] = markup
        return result

    async def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id or query_id in self.callback_answers or not query_id.isdecimal():
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        if len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def _answer_inline_query(self, params: dict) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        if not query_id or query_id in self.inline_answers:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [r.get("id") for r in results]
        if len(set(ids)) != len(ids) or any(not i or len(str(i).encode()) > 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            content = result.get("input_message_content") or {}
            if result.get("type") != "article" or not result.get("title") or "message_text" not in content:
                raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            visible = self._visible_text(content["message_text"], content.get("parse_mode"))
            if not visible.strip() or utf16_len(visible) > MAX_TEXT:
                raise ApiError(400, "Bad Request: MESSAGE_EMPTY")
        self.inline_answers[query_id] = params
        return True

    @staticmethod
    def _commands_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def menu(self, language_code: str = "") -> list[dict]:
        """The command list set for the default scope and ``language_code`` ("" = every language)."""
        return self.commands.get(self._commands_key({"language_code": language_code}), [])

    async def _set_my_commands(self, params: dict) -> bool:
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):  # a two-letter ISO 639-1 code or empty
            raise ApiError(400, "Bad Request: invalid language code specified")
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands must be a list")
        for command in commands:
            name = command.get("command", "")
            if (
                not re.fullmatch(r"[a-z0-9_]{1,32}", name)
                or not 1 <= len(command.get("description", "")) <= 256
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict) -> list[dict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_chat_member(self, params: dict) -> dict:
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        status = self.member_status.get((str(chat_id), str(user_id)), "member")
        user = {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return chat_member_object(status, user)

    async def _delete_webhook(self, params: dict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: dict) -> bool:
        self.webhook_url = params.get("url") or ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }


def _checked_markup(markup: Any) -> dict | None:
    """An inline keyboard as Telegram checks it: 1-64 bytes of ``callback_data``, a non-empty label."""
    if not markup:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not button.get("text"):
                raise ApiError(400, "Bad Request: BUTTON_TEXT_EMPTY")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _update_type(update: dict) -> str:
    return next((key for key in update if key != "update_id"), "")


# Fields the docs mark as required for these ChatMember kinds (python-telegram-bot checks them too).
ADMIN_RIGHTS = (
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members can_promote_members "
    "can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories"
).split()
RESTRICTED_RIGHTS = (
    "can_change_info can_invite_users can_pin_messages can_send_polls can_send_other_messages "
    "can_add_web_page_previews can_manage_topics can_send_audios can_send_documents can_send_photos "
    "can_send_videos can_send_video_notes can_send_voice_notes can_edit_tag can_react_to_messages"
).split()


def chat_member_object(status: str, user: dict) -> dict:
    """A ChatMember with the fields the docs mark as required for that status."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(dict.fromkeys(ADMIN_RIGHTS, True), can_be_edited=False, is_anonymous=False)
    elif status == "restricted":
        member.update(
            dict.fromkeys(RESTRICTED_RIGHTS, False), is_member=True, can_send_messages=True, until_date=0
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status)
