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
from bot.reply import Item, Reply, ReplyBuilder
from bot.subscription import (
    DEFAULT_LEADS,
    DEFAULT_TIME,
    describe_leads,
    leads_of,
    looks_like_time,
    next_posting_days,
    parse_time,
)

log = logging.getLogger(__name__)

REFUSAL = "Only channel admins can change this channel's reminders."
LOOKAHEAD_DAYS = 90  # how far /subscriptions looks for the next reminders
SHOWN_NEXT = 5
# The console has no channel to post to: its subscription is a preview of what a channel would get.
CONSOLE_NOTE = (
    "The console is a preview: nothing is posted here. Subscribe a Slack or Telegram channel to get the "
    "posts, or run `kazkor reminders --date YYYY-MM-DD --days 30` to see what would be posted."
)


def _footer(command: Command, text: str) -> str:
    return f"{text} {CONSOLE_NOTE}" if command.platform == "console" else text


def is_admin(command: Command) -> bool:
    if command.platform == "console":
        return True
    return command.extra.get("is_admin") is True


def _refusal() -> Reply:
    builder = ReplyBuilder(REFUSAL, kind="usage")
    builder.section("Try", [Item("/subscriptions — see what this channel gets")])
    return builder.build()


def _no_state() -> Reply:
    return Reply(title="Reminders need the state file (KAZKOR_DB); this session has none.", kind="error")


def parse_subscribe_args(args: tuple[str, ...], default_zone: str) -> tuple[str, str]:
    """``(time "HH:MM", zone name)`` from up to two words in any order; UsageError names the bad word."""
    if len(args) > 2:
        raise UsageError(f"Too many words: {' '.join(args)!r}. Give a time and a time zone, or nothing.")
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
            raise UsageError(f"{word!r} given twice: one time and one time zone at most.")
        if looks_like_time(word[:40]):
            raise UsageError(f"{word[:40]!r} is not a time: use 24-hour HH:MM, e.g. 09:00 or 18:30.")
        raise UsageError(
            f"{word[:40]!r} is not a time zone I know: use an IANA name such as Asia/Almaty or Asia/Seoul."
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
            text = f"{human_date(day)} {sub['time']} — {reminder.text()}"
            items.append(record_item(builder, ctx.catalogue, reminder.occurrence.record, text))
            if len(items) >= SHOWN_NEXT:
                return items
    return items


def _add_next(builder: ReplyBuilder, ctx: Context, sub: dict[str, Any]) -> None:
    items = _next_items(builder, ctx, sub)
    if items:
        builder.section("Next reminders", items)
    else:
        builder.section("Next reminders", [Item(f"Nothing due in the next {LOOKAHEAD_DAYS} days.")])


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
        return _refusal()
    when, zone = parse_subscribe_args(command.args, ctx.tz.key)
    state = ctx.state
    if state is None:
        return _no_state()
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
    builder = ReplyBuilder(title.format(time=when, zone=zone, leads=leads))
    _add_next(builder, ctx, sub)
    builder.footer = _footer(
        command, "Change the time with /subscribe HH:MM Area/City; stop with /unsubscribe."
    )
    return builder.build()


def unsubscribe(command: Command, ctx: Context) -> Reply:
    if not is_admin(command):
        return _refusal()
    if command.args:
        raise UsageError(f"/unsubscribe takes no words (got {' '.join(command.args)[:40]!r}).")
    state = ctx.state
    if state is None:
        return _no_state()
    if not state.remove_subscription(command.platform, command.channel):
        return Reply(title="This channel has no reminders to stop. See /subscriptions.", kind="usage")
    _notify(ctx, command)
    return Reply(title="This channel will no longer get reminders. Start again with /subscribe.")


def subscriptions(command: Command, ctx: Context) -> Reply:
    if command.args:
        raise UsageError(f"/subscriptions takes no words (got {' '.join(command.args)[:40]!r}).")
    state = ctx.state
    if state is None:
        return _no_state()
    sub = state.subscription(command.platform, command.channel)
    if sub is None:
        builder = ReplyBuilder("This channel gets no reminders.")
        builder.section(
            "Start them",
            [Item(f"An admin can type /subscribe {DEFAULT_TIME} {ctx.tz.key} (time and zone are optional).")],
        )
        _add_language(builder, ctx)
        return builder.build()
    leads = describe_leads(leads_of(sub), ctx.tr)
    if sub.get("active", True):
        builder = ReplyBuilder(
            ctx.tr.gettext("This channel gets reminders every day at {time} ({zone}): {leads}.").format(
                time=sub["time"], zone=sub["tz"], leads=leads
            )
        )
        _add_next(builder, ctx, sub)
    else:
        reason = sub.get("inactive_reason") or "the bot could not post here"
        builder = ReplyBuilder(f"Reminders for this channel are paused: {reason}.")
        builder.section("Resume", [Item("Fix access for the bot, then an admin types /subscribe again.")])
    _add_language(builder, ctx)
    builder.footer = _footer(command, "Admins: /subscribe HH:MM Area/City to change, /unsubscribe to stop.")
    return builder.build()
