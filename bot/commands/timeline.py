"""/timeline [YEAR] and /upcoming [DAYS]."""

from __future__ import annotations

from datetime import timedelta

from bot.commands.args import optional_int, optional_year
from bot.commands.context import Context
from bot.commands.due import occurrences_between
from bot.commands.format import record_item
from bot.reply import Item, Reply, ReplyBuilder

MAX_ITEMS = 60  # a chat message is no place for a thousand lines: narrow by year instead


def timeline(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    year = optional_year(args)
    events = catalogue.of_kind("event") if year is None else catalogue.in_year("event", year)
    if not events:
        builder = ReplyBuilder(f"No events recorded for {year}.")
        builder.section("Years with events", [Item(", ".join(map(str, catalogue.years("event"))))])
        return builder.build()
    title = "Kazakhstan–Korea timeline" + (f", {year}" if year else "")
    builder = ReplyBuilder(title)
    shown = events[: ctx.list_limit(MAX_ITEMS)]
    items = []
    for event in shown:
        # a plan the sources announce, or a date no source gives but one follows from (say which)
        mark = " (planned)" if event.announced else " (derived)" if event.derived else ""
        text = f"{event.date.human()} — {event.title}{mark}, {event.place}: {event.summary}"
        items.append(record_item(builder, catalogue, event, text))
    builder.section("Events in date order", items)
    if len(events) > len(shown):
        builder.footer = (
            f"Showing the first {len(shown)} of {len(events)}. Narrow it: /timeline {shown[-1].date.year}"
        )
    return builder.build()


def upcoming(args: tuple[str, ...], ctx: Context) -> Reply:
    days = optional_int(args, default=30, low=1, high=366, what="days")
    today = ctx.today()
    end = today + timedelta(days=days)
    limit = ctx.list_limit(MAX_ITEMS)
    found = occurrences_between(ctx.catalogue, today, end, limit=limit + 1)
    title = f"Coming up, {today.isoformat()} to {end.isoformat()} ({ctx.tz.key})"
    builder = ReplyBuilder(title)
    if not found:
        builder.section(
            "Nothing due", [Item(f"No anniversaries or events in the next {days} day{'s' * (days != 1)}.")]
        )
        builder.footer = "Look further ahead: /upcoming 366"
        return builder.build()
    items = [
        record_item(builder, ctx.catalogue, occ.record, f"{occ.when()}: {occ.describe()}")
        for occ in found[:limit]
    ]
    builder.section("Anniversaries and events", items)
    if len(found) > limit:
        builder.footer = (
            f"Showing the first {limit}; ask for fewer days to see the rest, e.g. /upcoming 7"
        )
    return builder.build()
