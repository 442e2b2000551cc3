"""A stand-in Slack platform: Web API, ``response_url`` sink and Socket Mode, from the public docs.

- Web API under ``/api/<method>`` (give ``base_url`` to ``AsyncWebClient``; it keeps the trailing
  slash slack-sdk needs). Bodies may be JSON or url-encoded, the token a ``Bearer`` header or a
  ``token`` field. Errors come back as Slack sends them: HTTP 200 with ``{"ok": false, "error": ...}``,
  or HTTP 429 with ``Retry-After`` when rate limited.
- ``chat.postMessage`` enforces the Block Kit limits Slack enforces (50 blocks, 3000 characters per
  section text...) and wants the ``text`` fallback.
- File uploads the way ``files_upload_v2`` makes them: ``files.getUploadURLExternal`` (``filename``,
  ``length`` in bytes, optional ``alt_txt`` up to 1000 characters) hands out an upload URL and a file
  id; the bytes are POSTed to that URL (no token: the URL is the permission); then
  ``files.completeUploadExternal`` (``files`` as JSON ``[{"id", "title"}]``, ``channel_id``,
  ``initial_comment``, ``thread_ts``) shares them, refusing files never uploaded or of another
  length, and channels the bot may not post to. Shared files land in :attr:`FakeSlack.files`.
- ``/respond/<name>`` records what Bolt's ``respond()`` posts to a slash command's ``response_url``.
- Socket Mode: ``apps.connections.open`` (app-level ``xapp-`` token) hands out ``ws://.../socket``;
  :meth:`FakeSlack.push_slash_command` sends an envelope and the client's acks land in
  :attr:`FakeSlack.socket_acks`.

:func:`signed_slash_request` builds a slash-command POST signed the way Slack signs it, for tests of
an HTTP-mode endpoint; :func:`signed_interactive_request` an interactivity POST (``payload=<json>``,
form-encoded: ``block_actions`` from :func:`block_actions_payload`, ``view_submission`` from
:func:`view_submission_payload`) and :func:`signed_event_request` an Events API callback (JSON), both
signed the same way. Over Socket Mode the same payloads travel in ``interactive`` / ``events_api``
envelopes (:meth:`FakeSlack.push_envelope`).

Web API for interactions: ``chat.update``, ``chat.postEphemeral``, ``views.publish`` (a ``home`` view,
at most 100 blocks, kept per user in :attr:`FakeSlack.home_views`) and ``views.open`` (a ``modal``;
the ``trigger_id`` expires 3 seconds after the interaction that made it: ``expired_trigger_id``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from tests.standins import DEFAULT_TIMEOUT, RateWindow, StandIn, read_params

TEAM_ID = "T0KAZKOR"
TEAM_DOMAIN = "kazkor"
API_APP_ID = "A0KAZKOR"
DEFAULT_CHANNEL = "C0KAZKOR"
DEFAULT_USER = "U0AIGERIM"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_MESSAGE_TEXT = 40000

APP_TOKEN_METHODS = {"apps.connections.open"}


class SlackError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(
        self, error: str, *, status: int = 200, retry_after: int | None = None, **extra: Any
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.retry_after = retry_after
        self.extra = extra


@dataclass
class PostedMessage:
    """One ``chat.postMessage`` Slack accepted."""

    channel: str
    text: str | None
    blocks: list[dict] | None
    ts: str
    thread_ts: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class UploadedFile:
    """One file shared by ``files.completeUploadExternal``."""

    file_id: str
    filename: str
    title: str | None
    alt_txt: str | None
    data: bytes
    channel_id: str | None
    initial_comment: str | None
    thread_ts: str | None


@dataclass
class Response:
    """One POST to a ``response_url``."""

    name: str
    body: dict[str, Any]

    @property
    def response_type(self) -> str:
        return self.body.get("response_type", "ephemeral")

    @property
    def text(self) -> str | None:
        return self.body.get("text")

    @property
    def blocks(self) -> list[dict] | None:
        return self.body.get("blocks")


def slash_payload(
    *,
    command: str,
    text: str,
    channel_id: str = DEFAULT_CHANNEL,
    user_id: str = DEFAULT_USER,
    response_url: str,
    team_id: str = TEAM_ID,
    channel_name: str = "general",
    user_name: str = "aigerim",
) -> dict[str, str]:
    """The fields Slack sends for a slash command (form fields over HTTP, ``payload`` over Socket Mode)."""
    return {
        "token": "verification-token-unused",
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
    }


def signed_slash_request(
    signing_secret: str,
    *,
    command: str,
    text: str,
    channel_id: str = DEFAULT_CHANNEL,
    user_id: str = DEFAULT_USER,
    response_url: str,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A url-encoded slash-command body and headers with a valid ``v0`` signature.

    Pass an old ``timestamp`` to check that the receiver rejects replays (Slack allows 5 minutes).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    fields = slash_payload(
        command=command, text=text, channel_id=channel_id, user_id=user_id, response_url=response_url
    )
    body = urlencode(fields).encode()
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return body, headers


def _signed(signing_secret: str, body: bytes, content_type: str, timestamp: int | None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def signed_interactive_request(
    signing_secret: str, payload: dict[str, Any], *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """An interactivity POST as Slack sends it: ``payload=<json>``, url-encoded, signed."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, _signed(signing_secret, body, "application/x-www-form-urlencoded", timestamp)


def signed_event_request(
    signing_secret: str, event: dict[str, Any], *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """An Events API ``event_callback`` POST (JSON), signed."""
    body = json.dumps(event_callback(event)).encode()
    return body, _signed(signing_secret, body, "application/json", timestamp)


def event_callback(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "verification-token-unused",
        "team_id": TEAM_ID,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0KAZBOT", "is_bot": True}],
    }


def new_trigger_id() -> str:
    return f"{int(time.time())}.{uuid.uuid4().hex[:12]}"


def controls(blocks: list[dict] | None) -> list[tuple[str, dict, dict]]:
    """``(label, element, block)`` of every control in ``blocks``: buttons by their text, each option of
    a select by its text."""
    found = []
    for block in blocks or []:
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            if element["type"] == "button":
                found.append((element["text"]["text"], element, block))
            elif element["type"] == "static_select":
                for option in element["options"]:
                    found.append((option["text"]["text"], {**element, "selected_option": option}, block))
    return found


def block_actions_payload(
    blocks: list[dict] | None,
    label: str,
    *,
    response_url: str,
    channel_id: str = DEFAULT_CHANNEL,
    user_id: str = DEFAULT_USER,
    message_ts: str = "1700000000.000100",
    value: str | None = None,
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when a user presses ``label`` in a message showing
    ``blocks`` (a button, or an option of a select); ``value`` replaces the control's value (forged)."""
    matches = [(element, block) for text, element, block in controls(blocks) if text == label]
    if not matches:
        raise AssertionError(f"no control {label!r} in {[text for text, _, _ in controls(blocks)]}")
    element, block = matches[0]
    action: dict[str, Any] = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": block.get("block_id", "b"),
        "action_ts": f"{time.time():.6f}",
    }
    if element["type"] == "button":
        action["text"] = element["text"]
        action["value"] = element.get("value") if value is None else value
    else:
        option = dict(element["selected_option"])
        if value is not None:
            option["value"] = value
        action["selected_option"] = option
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": "aigerim", "name": "aigerim", "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": new_trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "channel": {"id": channel_id, "name": "general"},
        "message": {"type": "message", "ts": message_ts, "text": "", "blocks": blocks or []},
        "response_url": response_url,
        "actions": [action],
    }


def view_submission_payload(
    view: dict[str, Any], values: dict[str, Any], *, user_id: str = DEFAULT_USER
) -> dict:
    """The ``view_submission`` payload for a modal that was opened with ``view``, filled in with
    ``values`` (``{block_id: {action_id: value object}}``)."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": "aigerim", "name": "aigerim", "team_id": TEAM_ID},
        "api_app_id": API_APP_ID,
        "token": "verification-token-unused",
        "trigger_id": new_trigger_id(),
        "view": {
            **view,
            "id": "V0KAZKOR",
            "team_id": TEAM_ID,
            "app_id": API_APP_ID,
            "state": {"values": values},
            "hash": "1700000000.abc",
        },
        "response_urls": [],
    }


def _decode_blocks(value: Any) -> Any:
    """Blocks arrive as a list in JSON bodies and as a JSON string in url-encoded ones."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError("invalid_blocks_format") from None
    return value


def block_errors(blocks: Any) -> list[str]:
    """Slack's Block Kit checks for the block types our bot sends; one message per violation."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        errors.extend(_one_block_errors(block, f"/blocks/{index}"))
    return errors


def _text_errors(
    obj: Any, pointer: str, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")
) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
        return [f"must be a text object of type {'/'.join(kinds)} [json-pointer:{pointer}]"]
    if not obj["text"]:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    if len(obj["text"]) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]"]
    return []


def _one_block_errors(block: Any, pointer: str) -> list[str]:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "section":
        errors = _text_errors(block["text"], f"{pointer}/text", MAX_SECTION_TEXT) if "text" in block else []
        fields = block.get("fields", [])
        if len(fields) > MAX_SECTION_FIELDS:
            errors.append(f"no more than {MAX_SECTION_FIELDS} items allowed [json-pointer:{pointer}/fields]")
        for i, item in enumerate(fields):
            errors.extend(_text_errors(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT))
        if "text" not in block and not fields:
            errors.append(f"must provide text or fields [json-pointer:{pointer}]")
        return errors
    if kind == "header":
        return _text_errors(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, ("plain_text",))
    if kind == "context":
        elements = block.get("elements") or []
        errors = (
            []
            if 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS
            else [f"must have 1 to {MAX_CONTEXT_ELEMENTS} items [json-pointer:{pointer}/elements]"]
        )
        for i, element in enumerate(elements):
            errors.extend(_text_errors(element, f"{pointer}/elements/{i}", MAX_CONTEXT_TEXT))
        return errors
    if kind == "divider":
        return []
    if kind == "actions":
        return _actions_errors(block, pointer)
    if kind == "input":
        errors = _text_errors(block.get("label"), f"{pointer}/label", 2000, ("plain_text",))
        element = block.get("element") or {}
        if element.get("type") == "timepicker":
            initial = element.get("initial_time")
            if initial is not None and not (len(initial) == 5 and initial[2] == ":"):
                errors.append(f"must be HH:mm [json-pointer:{pointer}/element/initial_time]")
        elif element.get("type") == "static_select":
            errors.extend(
                _actions_errors(
                    {
                        "elements": [
                            {
                                **element,
                                "placeholder": element.get("placeholder")
                                or {"type": "plain_text", "text": "x"},
                            }
                        ]
                    },
                    pointer,
                )
            )
            initial = element.get("initial_option")
            if initial is not None and initial not in element.get("options", []):
                errors.append(f"initial_option must be one of the options [json-pointer:{pointer}/element]")
        else:
            errors.append(
                f"unsupported input element {element.get('type')!r} [json-pointer:{pointer}/element]"
            )
        return errors
    return [f"unsupported block type {kind!r} in this stand-in [json-pointer:{pointer}]"]


MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_OPTIONS = 100
MAX_OPTION_VALUE = 150
MAX_ACTION_ID = 255


def _actions_errors(block: dict, pointer: str) -> list[str]:
    """An ``actions`` block: 1-25 interactive elements (buttons, static selects) with unique action ids."""
    elements = block.get("elements") or []
    errors = []
    if not 1 <= len(elements) <= MAX_ACTION_ELEMENTS:
        errors.append(f"must have 1 to {MAX_ACTION_ELEMENTS} items [json-pointer:{pointer}/elements]")
    ids = [e.get("action_id") for e in elements if isinstance(e, dict)]
    if len(set(ids)) != len(ids):
        errors.append(f"action_id values must be unique [json-pointer:{pointer}/elements]")
    for i, element in enumerate(elements):
        where = f"{pointer}/elements/{i}"
        if len(str(element.get("action_id", ""))) > MAX_ACTION_ID:
            errors.append(
                f"must be less than {MAX_ACTION_ID + 1} characters [json-pointer:{where}/action_id]"
            )
        kind = element.get("type")
        if kind == "button":
            errors.extend(
                _text_errors(element.get("text"), f"{where}/text", MAX_BUTTON_TEXT, ("plain_text",))
            )
            if len(str(element.get("value", ""))) > MAX_BUTTON_VALUE:
                errors.append(
                    f"must be less than {MAX_BUTTON_VALUE + 1} characters [json-pointer:{where}/value]"
                )
        elif kind == "static_select":
            errors.extend(
                _text_errors(element.get("placeholder"), f"{where}/placeholder", 150, ("plain_text",))
            )
            options = element.get("options") or []
            if not 1 <= len(options) <= MAX_OPTIONS:
                errors.append(f"must have 1 to {MAX_OPTIONS} items [json-pointer:{where}/options]")
            for j, option in enumerate(options):
                errors.extend(
                    _text_errors(option.get("text"), f"{where}/options/{j}/text", 75, ("plain_text",))
                )
                if not 1 <= len(str(option.get("value", ""))) <= MAX_OPTION_VALUE:
                    errors.append(
                        f"must be 1 to {MAX_OPTION_VALUE} characters [json-pointer:{where}/options/{j}/value]"
                    )
        else:
            errors.append(f"unsupported element type {kind!r} in this stand-in [json-pointer:{where}]")
    return errors


class FakeSlack(StandIn):
    """One workspace with one app. ``base_url`` goes to ``AsyncWebClient(base_url=...)``."""

    def __init__(
        self,
        bot_token: str = "xoxb-kazkor-test",
        app_token: str = "xapp-1-kazkor-test",
        *,
        bot_user_id: str = "U0KAZBOT",
        bot_id: str = "B0KAZBOT",
        rate_limit_per_channel_per_s: float | None = None,
        require_text: bool = True,
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.app_token = app_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.require_text = require_text
        self.posted: list[PostedMessage] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.responses: list[Response] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.files: list[UploadedFile] = []
        self._uploads: dict[str, dict[str, Any]] = {}  # file id -> what getUploadURLExternal was told
        self._sockets: list[web.WebSocketResponse] = []
        self._per_channel = RateWindow(rate_limit_per_channel_per_s)
        self._ts_counter = 0
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> the Home view views.publish set
        self.opened_views: list[dict[str, Any]] = []  # modals views.open showed
        self.updates: list[dict[str, Any]] = []  # accepted chat.update calls
        self.ephemeral: list[dict[str, Any]] = []  # accepted chat.postEphemeral calls

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``, with the trailing slash slack-sdk needs."""
        return f"{self.root_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.root_url}/respond/{name}"

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/respond/{name}", self._handle_response)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        return app

    async def before_stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    # --- test helpers ----------------------------------------------------------------------------

    def set_user(
        self, user_id: str, *, is_admin: bool = False, is_owner: bool = False, name: str | None = None
    ) -> None:
        """What ``users.info`` answers for ``user_id`` (unknown users are plain members)."""
        self.users[user_id] = {"is_admin": is_admin, "is_owner": is_owner, "name": name or user_id.lower()}

    def set_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_member: bool = True,
        is_archived: bool = False,
        is_private: bool = False,
    ) -> None:
        """A channel's state; ``chat.postMessage`` answers ``not_in_channel`` / ``is_archived`` from it."""
        self.channels[channel_id] = {
            "name": name or channel_id.lower(),
            "is_member": is_member,
            "is_archived": is_archived,
            "is_private": is_private,
        }

    def fail_next(
        self,
        method: str,
        error: str = "internal_error",
        *,
        status: int = 200,
        retry_after: int | None = None,
        count: int = 1,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (for ``channel`` only, if given) with ``error``.

        ``method`` may also be ``"response_url"`` to fail posts to the response sink.
        """
        self._faults.add(method, channel, count, error=error, status=status, retry_after=retry_after)

    async def push_slash_command(
        self,
        command: str,
        text: str,
        *,
        channel_id: str = DEFAULT_CHANNEL,
        user_id: str = DEFAULT_USER,
        response_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> str:
        """Send a ``slash_commands`` envelope to the connected Socket Mode clients; returns its id."""
        if response_url is None:
            response_url = self.response_url(f"cmd{len(self.socket_acks) + 1}")
        payload = slash_payload(
            command=command, text=text, channel_id=channel_id, user_id=user_id, response_url=response_url
        )
        return await self.push_envelope(
            "slash_commands", payload, accepts_response_payload=True, timeout=timeout
        )

    async def push_envelope(
        self, kind: str, payload: dict, *, accepts_response_payload: bool, timeout: float = DEFAULT_TIMEOUT
    ) -> str:
        """Send any Socket Mode envelope, waiting (bounded) for a client to be connected."""
        await self.wait_for_socket(timeout)
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": payload,
        }
        for socket in list(self._sockets):
            await socket.send_str(json.dumps(envelope))
        return envelope_id

    async def wait_for_socket(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        await self.wait_until(lambda: bool(self._sockets), timeout, "a Socket Mode connection")

    async def wait_for_acks(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[dict[str, Any]]:
        await self.wait_until(lambda: len(self.socket_acks) >= n, timeout, f"{n} Socket Mode acks")
        return list(self.socket_acks)

    async def wait_for_posted(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[PostedMessage]:
        await self.wait_until(lambda: len(self.posted) >= n, timeout, f"{n} posted messages")
        return list(self.posted)

    async def wait_for_responses(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[Response]:
        await self.wait_until(lambda: len(self.responses) >= n, timeout, f"{n} response_url posts")
        return list(self.responses)

    def wait_for_posted_sync(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[PostedMessage]:
        self.wait_until_sync(lambda: len(self.posted) >= n, timeout, f"{n} posted messages")
        return list(self.posted)

    def wait_for_responses_sync(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[Response]:
        self.wait_until_sync(lambda: len(self.responses) >= n, timeout, f"{n} response_url posts")
        return list(self.responses)

    # --- Web API ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await read_params(request)
        token = _bearer(request) or params.pop("token", None)
        self.calls[method] += 1
        self.requests.append((method, params))
        await self.apply_delay(method, params.get("channel"))
        try:
            self._check_token(method, token)
            self._check_fault(method, params.get("channel"))
            handler = self._methods().get(method)
            if handler is None:
                raise SlackError("unknown_method")
            result = await handler(params)
        except SlackError as exc:
            return _error_response(exc)
        return web.json_response({"ok": True, **result})

    def _check_token(self, method: str, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        expected, other = (
            (self.app_token, self.bot_token)
            if method in APP_TOKEN_METHODS
            else (self.bot_token, self.app_token)
        )
        if token == other:
            raise SlackError("not_allowed_token_type")
        if token != expected:
            raise SlackError("invalid_auth")

    def _check_fault(self, method: str, channel: Any) -> None:
        fault = self.take_fault(method, channel)
        if fault is not None:
            details = fault.details
            raise SlackError(details["error"], status=details["status"], retry_after=details["retry_after"])

    def _methods(self) -> dict:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "apps.connections.open": self._connections_open,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    def _checked_view(self, view: Any, kind: str) -> dict[str, Any]:
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                raise SlackError("invalid_arguments") from None
        if not isinstance(view, dict) or view.get("type") != kind:
            raise SlackError("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > 100:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["no more than 100 items allowed"]}
            )
        errors = [e for i, b in enumerate(blocks) for e in _one_block_errors(b, f"/view/blocks/{i}")]
        if kind == "modal":
            errors += _text_errors(view.get("title"), "/view/title", 24, ("plain_text",))
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        return view

    async def _views_publish(self, params: dict) -> dict:
        user_id = params.get("user_id")
        if not user_id:
            raise SlackError("invalid_arguments")
        view = self._checked_view(params.get("view"), "home")
        self.home_views[user_id] = view
        return {"view": {**view, "id": "VHOME"}}

    async def _views_open(self, params: dict) -> dict:
        trigger = str(params.get("trigger_id") or "")
        issued = trigger.split(".", 1)[0]
        if not issued.isdecimal():
            raise SlackError("invalid_trigger_id")
        if time.time() - int(issued) > 3 + 1:  # 3 s, plus the second the id's timestamp was cut to
            raise SlackError("expired_trigger_id")
        view = self._checked_view(params.get("view"), "modal")
        self.opened_views.append(view)
        return {"view": {**view, "id": f"V{len(self.opened_views)}"}}

    async def _chat_update(self, params: dict) -> dict:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel or not ts:
            raise SlackError("message_not_found")
        blocks = _decode_blocks(params.get("blocks"))
        if blocks is not None and block_errors(blocks):
            raise SlackError("invalid_blocks", errors=block_errors(blocks))
        self.updates.append(params)
        return {"channel": channel, "ts": ts, "text": params.get("text") or ""}

    async def _post_ephemeral(self, params: dict) -> dict:
        if not params.get("channel") or not params.get("user"):
            raise SlackError("channel_not_found")
        self.ephemeral.append(params)
        self._ts_counter += 1
        return {"message_ts": f"{int(time.time())}.{self._ts_counter:06d}"}

    async def _auth_test(self, params: dict) -> dict:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Kazkor",
            "user": "kazkor",
            "team_id": TEAM_ID,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    async def _post_message(self, params: dict) -> dict:
        channel = params.get("channel")
        self._check_channel_for_posting(channel)
        text, blocks = params.get("text"), _decode_blocks(params.get("blocks"))
        if self.require_text and not text:
            raise SlackError("no_text")
        if text and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        if blocks is not None:
            errors = block_errors(blocks)
            if errors:
                raise SlackError("invalid_blocks", errors=errors)
        self._ts_counter += 1
        ts = f"{int(time.time())}.{self._ts_counter:06d}"
        self.posted.append(PostedMessage(channel, text, blocks, ts, params.get("thread_ts"), params))
        message = {
            "type": "message",
            "text": text or "",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": ts,
        }
        if blocks is not None:
            message["blocks"] = blocks
        return {"channel": channel, "ts": ts, "message": message}

    def _check_channel_for_posting(self, channel: Any) -> None:
        if not channel:
            raise SlackError("channel_not_found")
        state = self.channels.get(channel)
        if state is not None and state["is_archived"]:
            raise SlackError("is_archived")
        if state is not None and not state["is_member"]:
            raise SlackError("not_in_channel")
        if self._per_channel.exceeded(channel):
            raise SlackError("ratelimited", status=429, retry_after=1)

    async def _users_info(self, params: dict) -> dict:
        user_id = params.get("user")
        if not user_id:
            raise SlackError("user_not_found")
        state = self.users.get(user_id, {"is_admin": False, "is_owner": False, "name": user_id.lower()})
        return {
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": state["name"],
                "real_name": state["name"].title(),
                "is_admin": state["is_admin"],
                "is_owner": state["is_owner"],
                "is_primary_owner": False,
                "is_bot": False,
                "deleted": False,
                "tz": "Asia/Almaty",
            }
        }

    async def _conversations_info(self, params: dict) -> dict:
        channel_id = params.get("channel")
        if not channel_id:
            raise SlackError("channel_not_found")
        state = self.channels.get(channel_id) or {
            "name": channel_id.lower(),
            "is_member": True,
            "is_archived": False,
            "is_private": False,
        }
        return {"channel": {"id": channel_id, "is_channel": True, "is_im": False, **state}}

    async def _get_upload_url(self, params: dict) -> dict:
        filename, length = params.get("filename"), str(params.get("length") or "")
        if not filename:
            raise SlackError("invalid_arguments")
        if not length.isdecimal() or int(length) < 1:
            raise SlackError("invalid_arguments")
        alt_txt = params.get("alt_txt")
        if alt_txt is not None and len(alt_txt) > 1000:
            raise SlackError("invalid_arguments")
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self._uploads[file_id] = {
            "filename": filename,
            "length": int(length),
            "alt_txt": alt_txt,
            "data": None,
        }
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        pending = self._uploads.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="not found")
        data = await request.read()
        if request.content_type.startswith("multipart/"):  # the form a browser would send
            form = await request.post()
            field = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            data = field.file.read() if field is not None else b""
        pending["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    async def _complete_upload(self, params: dict) -> dict:
        try:
            files = json.loads(params.get("files") or "")
        except ValueError:
            raise SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = params.get("channel_id")
        if channel:
            self._check_channel_for_posting(channel)
        shared = []
        for item in files:
            pending = self._uploads.get(item.get("id", "")) if isinstance(item, dict) else None
            if pending is None or pending["data"] is None:
                raise SlackError("file_not_found")
            if len(pending["data"]) != pending["length"]:
                raise SlackError("file_upload_size_mismatch")
            shared.append((item["id"], item.get("title"), pending))
        result = []
        for file_id, title, pending in shared:
            del self._uploads[file_id]
            self.files.append(
                UploadedFile(
                    file_id,
                    pending["filename"],
                    title,
                    pending["alt_txt"],
                    pending["data"],
                    channel,
                    params.get("initial_comment"),
                    params.get("thread_ts"),
                )
            )
            result.append({"id": file_id, "name": pending["filename"], "title": title or pending["filename"]})
        return {"files": result}

    async def wait_for_files(self, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[UploadedFile]:
        await self.wait_until(lambda: len(self.files) >= n, timeout, f"{n} files (got {len(self.files)})")
        return list(self.files)

    async def _connections_open(self, params: dict) -> dict:
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket={uuid.uuid4()}"}

    # --- response_url sink -----------------------------------------------------------------------

    async def _handle_response(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.calls["response_url"] += 1
        fault = self.take_fault("response_url", name)
        if fault is not None:
            return web.Response(status=fault.details["status"] or 500, text=fault.details["error"])
        if request.content_type == "application/json":
            body = await request.json()
        else:
            form = await request.post()
            body = json.loads(form.get("payload", "{}"))
        self.responses.append(Response(name, body))
        return web.Response(text="ok")

    # --- Socket Mode -----------------------------------------------------------------------------

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "standin", "build_number": 1, "approximate_connection_time": 3600},
                    "connection_info": {"app_id": API_APP_ID},
                }
            )
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._record_ack(message.data)
        finally:
            self._sockets.remove(socket)
        return socket

    def _record_ack(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        if isinstance(ack, dict) and "envelope_id" in ack:
            self.socket_acks.append(ack)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def _error_response(error: SlackError) -> web.Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return web.json_response(
        {"ok": False, "error": error.error, **error.extra}, status=error.status, headers=headers
    )
