"""The overview a workspace's Home tab shows: which channels get reminders, the next ones, the commands.

Platform-neutral like every answer (a Reply); the Slack front end renders it into a Home view. It
reads the subscriptions and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import table
from bot.commands.context import Context
from bot.commands.due import Reminder, due
from bot.commands.format import record_item
from bot.reply import Item, Reply, ReplyBuilder
from bot.subscription import LOOKAHEAD_DAYS, leads_of, next_posting_days

NEXT_SHOWN = 10


def _subscriptions(ctx: Context, platform: str) -> list[dict[str, Any]]:
    state = ctx.state
    if state is None:
        return []
    return sorted(
        (sub for sub in state.subscriptions() if sub.get("platform") == platform),
        key=lambda sub: sub["channel"],
    )


def _when(day: Any, sub: dict[str, Any]) -> datetime:
    hour, minute = map(int, sub["time"].split(":"))
    return datetime.combine(day, time(hour, minute), ZoneInfo(sub["tz"]))


def home(platform: str, ctx: Context) -> Reply:
    """This workspace's subscriptions (channel, time, zone), its next ten reminders and the commands, in
    ``ctx``'s language (the Slack front end passes the Home user's own channel language, else the
    default)."""
    tr = ctx.tr
    _ = tr.gettext
    builder = ReplyBuilder(_("Kazkor: Kazakhstan–Korea relations, with sources"), tr=tr)
    subs = _subscriptions(ctx, platform)
    if subs:
        lines = []
        for sub in subs:
            line = _("#{channel} — every day at {time} ({zone})").format(
                channel=sub["channel"], time=sub["time"], zone=sub["tz"]
            )
            if not sub.get("active", True):
                reason = sub.get("inactive_reason") or _("no access")
                line += " — " + _("paused: {reason}").format(reason=reason)
            lines.append(Item(line))
        builder.section(_("Channels with reminders"), lines)
    else:
        builder.section(
            _("Channels with reminders"),
            [Item(_("None yet. An admin types /subscribe in a channel to start them."))],
        )
    coming: list[tuple[datetime, dict[str, Any], Reminder]] = []
    # channels mostly share their days and leads: what is due on a day is worked out once for all of them
    due_on: dict[tuple, list[Reminder]] = {}
    for sub in subs:
        if not sub.get("active", True):
            continue
        leads = leads_of(sub)
        for day in next_posting_days(sub, ctx.clock(), LOOKAHEAD_DAYS):
            if (day, leads) not in due_on:
                due_on[(day, leads)] = due(ctx.catalogue, day, leads)
            coming.extend((_when(day, sub), sub, reminder) for reminder in due_on[(day, leads)])
    coming.sort(key=lambda entry: (entry[0], entry[1]["channel"]))
    if coming:
        items = [
            record_item(
                builder,
                ctx.catalogue,
                reminder.occurrence.record,
                f"{tr.day(when.date())} {when:%H:%M} ({sub['tz']}) #{sub['channel']}: {reminder.text(tr)}",
            )
            for when, sub, reminder in coming[:NEXT_SHOWN]
        ]
        builder.section(_("Next reminders"), items)
    elif subs:
        builder.section(
            _("Next reminders"), [Item(_("Nothing due in the next {n} days.").format(n=LOOKAHEAD_DAYS))]
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
    return builder.build()
