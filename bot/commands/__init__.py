"""The shared command core: ``Command`` in, ``Reply`` out. Knows no platform.

Every adapter (console, Slack, Telegram, scheduled posts) calls :func:`handle_text` or :func:`dispatch`,
so the same question gets the same answer everywhere.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping

from bot.commands.agreements import agreements
from bot.commands.args import UsageError
from bot.commands.context import Context, Handler, Spec
from bot.commands.format import latest_source_date
from bot.commands.language import SUMMARY as LANGUAGE_SUMMARY
from bot.commands.language import language, localized
from bot.commands.lookup import search, source
from bot.commands.parse import PARSE_EXAMPLE, Command, ParseError, parse
from bot.commands.projects import projects
from bot.commands.subscriptions import subscribe, subscriptions, unsubscribe
from bot.commands.timeline import timeline, upcoming
from bot.commands.trade import trade
from bot.commands.who import who
from bot.i18n import N_
from bot.reply import Item, Reply, ReplyBuilder, usage

log = logging.getLogger(__name__)


def _args_only(fn: Callable[[tuple[str, ...], Context], Reply]) -> Handler:
    return lambda command, ctx: fn(command.args, ctx)


def _help(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    builder = ReplyBuilder(
        _("Kazkor answers questions on Kazakhstan–Korea relations, with sources."), tr=ctx.tr
    )
    builder.section(
        _("Commands"),
        [
            Item(
                _("/{name} — {summary} e.g. {example}").format(
                    name=spec.name, summary=_(spec.summary), example=spec.example
                )
            )
            for spec in table(ctx).values()
        ],
    )
    builder.footer = _(
        "In Slack, every command also works as /kazkor <command>, e.g. /kazkor agreements 2024."
    )
    builder.dated(latest_source_date(ctx.catalogue))  # a reader in 2026 sees how old the facts are
    return builder.build()


# The core's command table, in the order /help lists them. A new core command is one entry here;
# a feature above the core (bot.feeds) has its own table, joined to this one in bot.bootstrap.context.
# Summaries are English, marked with N_() and translated where shown (/help, Telegram menus).
COMMANDS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec(
            "trade",
            _args_only(trade),
            N_("trade and investment figures with their years and sources."),
            "/trade",
        ),
        Spec(
            "agreements",
            _args_only(agreements),
            N_("agreements and memoranda signed in a year."),
            "/agreements 2024",
        ),
        Spec(
            "timeline",
            _args_only(timeline),
            N_("key events in date order, optionally one year."),
            "/timeline 2024",
        ),
        Spec(
            "upcoming",
            _args_only(upcoming),
            N_("anniversaries and events in the next DAYS (default 30)."),
            "/upcoming 60",
        ),
        Spec(
            "search",
            _args_only(search),
            N_("anything the sources name: people, firms, numbers."),
            "/search BAKAD",
        ),
        Spec(
            "who",
            _args_only(who),
            N_("a person or organisation, and every record naming them."),
            "/who Arystanov",
        ),
        Spec(
            "projects",
            _args_only(projects),
            N_("joint projects: partners, value and status."),
            "/projects energy",
        ),
        Spec(
            "source",
            _args_only(source),
            N_("the sentence behind a record, or what a source backs."),
            "/source evt-2024-10-06-referendum",
        ),
        Spec("help", _help, N_("this list."), "/help"),
        Spec(
            "subscribe",
            subscribe,
            N_("daily reminders here at HH:MM in a time zone (admins)."),
            "/subscribe 09:00 Asia/Almaty",
        ),
        Spec("unsubscribe", unsubscribe, N_("stop this channel's reminders (admins)."), "/unsubscribe"),
        Spec(
            "subscriptions",
            subscriptions,
            N_("what this channel gets, when, and what is next."),
            "/subscriptions",
        ),
        Spec("language", language, LANGUAGE_SUMMARY, "/language ru"),
    )
}


def table(ctx: Context) -> Mapping[str, Spec]:
    """The commands answered in ``ctx``: its own table, or the core's."""
    return ctx.commands if ctx.commands is not None else COMMANDS


ALIASES = {
    "start": "help",
    "commands": "help",
    "agreement": "agreements",
    "events": "timeline",
    "project": "projects",
    "whois": "who",
}


def dispatch(command: Command, ctx: Context) -> Reply:
    """Run one command in its channel's language. Bad arguments give a usage reply; an unexpected
    failure is logged, not shown."""
    ctx = localized(command, ctx)
    reply = _run(command, ctx)
    # A reply that chose its own language (the /language confirmation) keeps it.
    return reply if reply.lang else dataclasses.replace(reply, lang=ctx.tr.lang)


def _run(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    name = ALIASES.get(command.name, command.name)
    spec = table(ctx).get(name)
    if spec is None:
        shown = command.name[:40]
        return usage(
            _("Unknown command /{name}. See /help for the list.").format(name=shown), "/help", ctx.tr
        )
    try:
        return spec.handler(command, ctx)
    except UsageError as exc:
        return usage(
            _("{problem} Usage: /{name} — {summary}").format(
                problem=exc, name=spec.name, summary=_(spec.summary)
            ),
            spec.example,
            ctx.tr,
        )
    except Exception as exc:
        if type(exc).__module__.startswith("sqlalchemy"):  # the state database: disk full, server down
            log.error("command /%s: the state database failed: %s: %s", spec.name, type(exc).__name__, exc)
            return Reply(
                title=_("Not saved: {problem}").format(  # both messages exist in every language
                    problem=_(
                        "Sorry, /{name} failed on our side. It has been logged; please try again later."
                    ).format(name=spec.name)
                ),
                kind="error",
            )
        log.exception("command /%s failed", spec.name)
        return Reply(
            title=_("Sorry, /{name} failed on our side. It has been logged; please try again later.").format(
                name=spec.name
            ),
            kind="error",
        )


def _where(where: dict[str, str]) -> tuple[str, str, str]:
    """(platform, channel, user) as :func:`parse` defaults them."""
    return (where.get("platform", "console"), where.get("channel", "console"), where.get("user", "console"))


def handle_text(text: str, ctx: Context, *, lang: str | None = None, **where: str) -> Reply:
    """Parse and dispatch a line of user text (``where``: platform, channel, user; ``lang``: answer in
    this language whatever the channel's setting, as ``kazkor console --lang`` does)."""
    try:
        command = parse(text, **where)
    except ParseError as exc:
        # the hint shows the typed command's own example, in the language its answer would have had
        spec = table(ctx).get(ALIASES.get(exc.name, exc.name))
        tr = ctx.speaking(lang).tr if lang else localized(Command(exc.name, (), *_where(where)), ctx).tr
        return usage(exc.message(tr), spec.example if spec else PARSE_EXAMPLE, tr)
    if lang:
        command = dataclasses.replace(command, extra={**command.extra, "lang": lang})
    return dispatch(command, ctx)


__all__ = [
    "ALIASES",
    "COMMANDS",
    "Command",
    "Context",
    "Handler",
    "Spec",
    "dispatch",
    "handle_text",
    "parse",
    "table",
]
