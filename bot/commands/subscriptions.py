"""/subscribe [HH:MM] [Area/City], /unsubscribe and /subscriptions: a channel's scheduled reminders.

Only channel admins may change a channel's reminders. The adapters decide who is an admin (with
``bot.platforms.admin``) and pass ``Command.extra["is_admin"]``; the console user is always an admin.
Subscriptions live in the state file and survive restarts; after a change the context's
``on_subscriptions_changed`` hook (if any) tells the scheduler to rebuild its jobs.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from bot.clock import parse_zone
from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.due import due
from bot.commands.format import human_date, record_item
from bot.commands.parse import Command
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from bot.subscription import (
    DEFAULT_LEADS,
    DEFAULT_TIME,
    LOOKAHEAD_DAYS,
    describe_leads,
    leads_of,
    looks_like_time,
    next_posting_days,
    parse_time,
)

log = logging.getLogger(__name__)

REFUSAL = N_("Only channel admins can change this channel's reminders.")
SHOWN_NEXT = 5
# The console has no channel to post to: its subscription is a preview of what a channel would get.
CONSOLE_NOTE = N_(
    "The console is a preview: nothing is posted here. Subscribe a Slack or Telegram channel to get the "
    "posts, or run `kazkor reminders --date YYYY-MM-DD --days 30` to see what would be posted."
)


def _footer(command: Command, text: str, tr: Translator = ENGLISH) -> str:
    return f"{text} {tr.gettext(CONSOLE_NOTE)}" if command.platform == "console" else text


def is_admin(command: Command) -> bool:
    if command.platform == "console":
        return True
    return command.extra.get("is_admin") is True


def _refusal(tr: Translator = ENGLISH) -> Reply:
    _ = tr.gettext
    builder = ReplyBuilder(_(REFUSAL), kind="usage", tr=tr)
    builder.section(_("Try"), [Item(_("/subscriptions — see what this channel gets"))])
    return builder.build()


def _no_state(tr: Translator = ENGLISH) -> Reply:
    return Reply(
        title=tr.gettext("Reminders need the state file (KAZKOR_DB); this session has none."), kind="error"
    )


def parse_subscribe_args(
    args: tuple[str, ...], default_zone: str, tr: Translator = ENGLISH
) -> tuple[str, str]:
    """``(time "HH:MM", zone name)`` from up to two words in any order; UsageError names the bad word."""
    _ = tr.gettext
    if len(args) > 2:
        raise UsageError(
            _("Too many words: {words!r}. Give a time and a time zone, or nothing.").format(
                words=" ".join(args)
            )
        )
    when: str | None = None
    zone: str | None = None
    for word in args:
        parsed_time = parse_time(word)
        if parsed_time is not None and when is None:
            when = parsed_time
            continue
        parsed_zone = parse_zone(word) if parsed_time is None else None
        if parsed_zone is not None and zone is None:
            zone = parsed_zone
            continue
        if parsed_time is not None or parsed_zone is not None:
            raise UsageError(_("{word!r} given twice: one time and one time zone at most.").format(word=word))
        if looks_like_time(word[:40]):
            raise UsageError(
                _("{word!r} is not a time: use 24-hour HH:MM, e.g. 09:00 or 18:30.").format(word=word[:40])
            )
        raise UsageError(
            _(
                "{word!r} is not a time zone I know: use an IANA name such as Asia/Almaty or Asia/Seoul."
            ).format(word=word[:40])
        )
    return when or DEFAULT_TIME, zone or default_zone


def _notify(ctx: Context, command: Command) -> None:
    hook = ctx.on_subscriptions_changed
    if hook is None:
        return
    try:
        hook((command.platform, command.channel))
    except Exception:  # the change is saved; the scheduler also rebuilds on its next start
        log.exception("the subscriptions-changed hook failed")


def _next_items(builder: ReplyBuilder, ctx: Context, sub: dict[str, Any]) -> list[Item]:
    items = []
    for day in next_posting_days(sub, ctx.clock(), LOOKAHEAD_DAYS):
        for reminder in due(ctx.catalogue, day, leads_of(sub)):
            text = f"{human_date(day, ctx.tr)} {sub['time']} — {reminder.text(ctx.tr)}"
            items.append(record_item(builder, ctx.catalogue, reminder.occurrence.record, text))
            if len(items) >= SHOWN_NEXT:
                return items
    return items


def _add_next(builder: ReplyBuilder, ctx: Context, sub: dict[str, Any]) -> None:
    _ = ctx.tr.gettext
    items = _next_items(builder, ctx, sub)
    if items:
        builder.section(_("Next reminders"), items)
    else:
        nothing = _("Nothing due in the next {n} days.").format(n=LOOKAHEAD_DAYS)
        builder.section(_("Next reminders"), [Item(nothing)])


def _add_language(builder: ReplyBuilder, ctx: Context) -> None:
    """The channel's language (answers and reminders alike) and how to change it."""
    _ = ctx.tr.gettext
    builder.section(
        _("Language"),
        [
            Item(
                _("{language}: answers and reminders. Change it with /language en|ru|ko|kk.").format(
                    language=ctx.tr.native_name
                )
            )
        ],
    )


def subscribe(command: Command, ctx: Context) -> Reply:
    if not is_admin(command):
        return _refusal(ctx.tr)
    when, zone = parse_subscribe_args(command.args, ctx.tz.key, ctx.tr)
    state = ctx.state
    if state is None:
        return _no_state(ctx.tr)
    existing = state.subscription(command.platform, command.channel)
    thread = command.extra.get("thread")
    sub: dict[str, Any] = {
        "platform": command.platform,
        "channel": command.channel,
        "thread": str(thread) if thread not in (None, "") else None,
        "time": when,
        "tz": zone,
        "leads": list(existing["leads"]) if existing and existing.get("leads") else list(DEFAULT_LEADS),
        "active": True,
        "created_by": existing["created_by"] if existing else command.user,
        "created_at": existing["created_at"] if existing else ctx.clock().astimezone(UTC).isoformat(),
    }
    if existing:
        sub["updated_by"] = command.user
        sub["updated_at"] = ctx.clock().astimezone(UTC).isoformat()
    state.save_subscription(sub)
    _notify(ctx, command)
    _ = ctx.tr.gettext
    leads = describe_leads(leads_of(sub), ctx.tr)
    if existing:
        title = _("This channel now gets reminders at {time} ({zone}): {leads}.")
    else:
        title = _("This channel will get reminders at {time} ({zone}): {leads}.")
    builder = ReplyBuilder(title.format(time=when, zone=zone, leads=leads), tr=ctx.tr)
    _add_next(builder, ctx, sub)
    builder.footer = _footer(
        command, _("Change the time with /subscribe HH:MM Area/City; stop with /unsubscribe."), ctx.tr
    )
    return builder.build()


def unsubscribe(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    if not is_admin(command):
        return _refusal(ctx.tr)
    if command.args:
        raise UsageError(
            _("/unsubscribe takes no words (got {words!r}).").format(words=" ".join(command.args)[:40])
        )
    state = ctx.state
    if state is None:
        return _no_state(ctx.tr)
    if not state.remove_subscription(command.platform, command.channel):
        return Reply(title=_("This channel has no reminders to stop. See /subscriptions."), kind="usage")
    _notify(ctx, command)
    return Reply(title=_("This channel will no longer get reminders. Start again with /subscribe."))


def subscriptions(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    if command.args:
        raise UsageError(
            _("/subscriptions takes no words (got {words!r}).").format(words=" ".join(command.args)[:40])
        )
    state = ctx.state
    if state is None:
        return _no_state(ctx.tr)
    sub = state.subscription(command.platform, command.channel)
    if sub is None:
        builder = ReplyBuilder(_("This channel gets no reminders."), tr=ctx.tr)
        start = _("An admin can type /subscribe {time} {zone} (time and zone are optional).")
        builder.section(_("Start them"), [Item(start.format(time=DEFAULT_TIME, zone=ctx.tz.key))])
        _add_language(builder, ctx)
        return builder.build()
    leads = describe_leads(leads_of(sub), ctx.tr)
    if sub.get("active", True):
        builder = ReplyBuilder(
            ctx.tr.gettext("This channel gets reminders every day at {time} ({zone}): {leads}.").format(
                time=sub["time"], zone=sub["tz"], leads=leads
            ),
            tr=ctx.tr,
        )
        _add_next(builder, ctx, sub)
    else:
        reason = sub.get("inactive_reason") or _("the bot could not post here")
        builder = ReplyBuilder(
            _("Reminders for this channel are paused: {reason}.").format(reason=reason), tr=ctx.tr
        )
        builder.section(
            _("Resume"), [Item(_("Fix access for the bot, then an admin types /subscribe again."))]
        )
    _add_language(builder, ctx)
    builder.footer = _footer(
        command, _("Admins: /subscribe HH:MM Area/City to change, /unsubscribe to stop."), ctx.tr
    )
    return builder.build()
