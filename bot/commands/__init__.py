"""The shared command core: ``Command`` in, ``Reply`` out. Knows no platform.

Every adapter (console, Slack, Telegram, scheduled posts) calls :func:`handle_text` or :func:`dispatch`,
so the same question gets the same answer everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.agreements import agreements
from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.lookup import search, source
from bot.commands.parse import Command, ParseError, parse
from bot.commands.timeline import timeline, upcoming
from bot.commands.trade import trade
from bot.reply import Item, Reply, ReplyBuilder, usage
from facts.store import StateBusy

log = logging.getLogger(__name__)

Handler = Callable[[Command, Context], Reply]


@dataclass(frozen=True)
class Spec:
    name: str
    handler: Handler
    summary: str
    example: str


def _args_only(fn: Callable[[tuple[str, ...], Context], Reply]) -> Handler:
    return lambda command, ctx: fn(command.args, ctx)


COMMANDS: dict[str, Spec] = {}


def register(spec: Spec) -> None:
    COMMANDS[spec.name] = spec


def _help(command: Command, ctx: Context) -> Reply:
    builder = ReplyBuilder("Kazkor answers questions on Kazakhstan–Korea relations, with sources.")
    builder.section(
        "Commands",
        [Item(f"/{spec.name} — {spec.summary} e.g. {spec.example}") for spec in COMMANDS.values()],
    )
    builder.footer = "In Slack, every command also works as /kazkor <command>, e.g. /kazkor agreements 2024."
    return builder.build()


for _spec in (
    Spec("trade", _args_only(trade), "trade and investment figures with their years and sources.", "/trade"),
    Spec(
        "agreements", _args_only(agreements), "agreements and memoranda signed in a year.", "/agreements 2024"
    ),
    Spec(
        "timeline", _args_only(timeline), "key events in date order, optionally one year.", "/timeline 2024"
    ),
    Spec(
        "upcoming",
        _args_only(upcoming),
        "anniversaries and events in the next DAYS (default 30).",
        "/upcoming 60",
    ),
    Spec("search", _args_only(search), "figures, agreements and events matching words.", "/search lithium"),
    Spec(
        "source",
        _args_only(source),
        "the sentence and source behind a record.",
        "/source evt-2024-10-06-referendum",
    ),
    Spec("help", _help, "this list.", "/help"),
):
    register(_spec)

# Modules that register their own commands (they import ``register`` and ``Spec`` from here).
from bot.commands import subscriptions as _subscriptions  # noqa: E402, F401

ALIASES = {"start": "help", "commands": "help", "agreement": "agreements", "events": "timeline"}


def dispatch(command: Command, ctx: Context) -> Reply:
    """Run one command. Bad arguments give a usage reply; an unexpected failure is logged, not shown."""
    name = ALIASES.get(command.name, command.name)
    spec = COMMANDS.get(name)
    if spec is None:
        shown = command.name[:40]
        return usage(f"Unknown command /{shown}. See /help for the list.", "/help")
    try:
        return spec.handler(command, ctx)
    except UsageError as exc:
        return usage(f"{exc} Usage: /{spec.name} — {spec.summary}", spec.example)
    except StateBusy as exc:  # e.g. /subscribe in `kazkor console` while `kazkor run` is up
        return Reply(title=f"Not saved: {exc}", kind="error")
    except Exception:
        log.exception("command /%s failed", spec.name)
        return Reply(
            title=f"Sorry, /{spec.name} failed on our side. It has been logged; please try again later.",
            kind="error",
        )


def handle_text(text: str, ctx: Context, **where: str) -> Reply:
    """Parse and dispatch a line of user text (``where``: platform, channel, user)."""
    try:
        command = parse(text, **where)
    except ParseError as exc:
        return usage(str(exc), "/agreements 2024")
    return dispatch(command, ctx)


__all__ = ["COMMANDS", "Command", "Context", "Spec", "dispatch", "handle_text", "parse", "register"]
