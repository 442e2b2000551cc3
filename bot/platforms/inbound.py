"""What the Slack and Telegram front ends share on the way in: text -> Command (with the platform's
``extra``) -> the shared core -> Reply. The adapters only translate events and send the rendered parts.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from bot.commands import ALIASES, Command, Context, dispatch, parse
from bot.commands.parse import ParseError
from bot.reply import Reply, usage

log = logging.getLogger(__name__)

# Commands that change what a channel receives: the adapter checks whether the asker may do that.
ADMIN_COMMANDS = frozenset({"subscribe", "unsubscribe"})
# Commands the subscription feature adds to bot.commands.COMMANDS (registered by its own module).
SUBSCRIPTION_COMMANDS = ("subscribe", "unsubscribe", "subscriptions")
PARSE_EXAMPLE = "/agreements 2024"


def parse_text(text: str, *, platform: str, channel: str, user: str) -> Command | Reply:
    """The Command for ``text``, or a usage Reply when it cannot be parsed (e.g. far too long)."""
    try:
        return parse(text, platform=platform, channel=channel, user=user)
    except ParseError as exc:
        return usage(str(exc), PARSE_EXAMPLE)


def canonical_name(command: Command) -> str:
    return ALIASES.get(command.name, command.name)


def needs_admin_check(command: Command) -> bool:
    return canonical_name(command) in ADMIN_COMMANDS


def with_extra(command: Command, **extra: Any) -> Command:
    return dataclasses.replace(command, extra={**command.extra, **extra})


def answer(command: Command, ctx: Context) -> Reply:
    """The shared core. Commands are in-memory and fast, so this runs on the event loop directly."""
    return dispatch(command, ctx)


def admin_check(name: str) -> Callable[..., Any] | None:
    """``bot.platforms.admin.<name>`` (``telegram_is_admin`` / ``slack_is_admin``), imported lazily;
    None while that module does not exist yet (the adapters then fall back to a safe default)."""
    try:
        module = importlib.import_module("bot.platforms.admin")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.platforms.admin":
            raise
        return None
    return getattr(module, name, None)


async def ask_admin_check(check: Callable[..., Any], **arguments: Any) -> bool:
    """Call an admin check by keyword, passing only the parameters it declares (so a check that does
    not need, say, ``chat_type`` keeps working); any other missing parameter is a programming error."""
    parameters = inspect.signature(check).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        arguments = {name: value for name, value in arguments.items() if name in parameters}
    return bool(await check(**arguments))
