"""/timeline [YEAR] and /upcoming [DAYS]: one event or anniversary per line, its date first."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.commands.args import UsageError, optional_year
from bot.commands.context import Context
from bot.commands.due import Occurrence, event_title, occurrences_between, year_only_between
from bot.commands.format import FULL_SENTENCE, dated_line, human_date, latest_source_date, record_item
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Event
from facts.store import Catalogue

MAX_ITEMS = 60  # a chat message is no place for a thousand lines: narrow by year instead
DEFAULT_DAYS, MAX_DAYS = 30, 366


_DERIVED_WHY = re.compile(r"\((derived: [^)]*)\)")


def event_lines(event: Event, catalogue: Catalogue, today: date) -> list[str]:
    """``12 Jun 2024 — Yoon's state visit …``, then shorter wordings for a line short of room.

    A plan says so, as of its source, and once its date has passed that the sources do not say whether
    it happened; a date no source gives but one follows from says "derived" and, where room allows, why
    (the summary's "(derived: 1992 + 30; …)")."""
    title = event_title(event)
    if event.announced:
        dates = [catalogue.sources[s].published for s in event.sources]
        known = [d for d in dates if d is not None]
        as_of = f" as of {human_date(max(known))}" if known else ""
        outcome = "; outcome not reported" if event.date.last_day() < today else ""
        marks = [f" (planned{as_of}{outcome})", f" (planned{as_of})"]
    elif getattr(event, "derived", None):
        why = _DERIVED_WHY.search(event.summary)
        marks = [f" ({why.group(1)})", f" ({why.group(1).split(';')[0]})"] if why else []
        marks.append(" (derived)")
    else:
        marks = [""]
    return [dated_line(event.date, title + mark) for mark in marks]


def occurrence_lines(occ: Occurrence, catalogue: Catalogue, today: date) -> list[str]:
    """The line for an occurrence, then a shorter wording (no origin date) for when it does not fit."""
    if isinstance(occ.record, Event):
        return event_lines(occ.record, catalogue, today)
    return [dated_line(occ.when(), occ.describe()), dated_line(occ.when(), occ.describe(origin=False))]


def timeline(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    year = optional_year(args)
    events = catalogue.of_kind("event") if year is None else catalogue.in_year("event", year)
    if not events:
        builder = ReplyBuilder(f"No events recorded for {year}.")
        builder.section("Years with events", [Item(", ".join(map(str, catalogue.years("event"))))])
        builder.dated(latest_source_date(catalogue))
        return builder.build()
    title = "Kazakhstan–Korea timeline" + (f", {year}" if year else "")
    builder = ReplyBuilder(title)
    shown = events[: ctx.list_limit(MAX_ITEMS)]
    today = ctx.today()
    items = [record_item(builder, catalogue, e, *event_lines(e, catalogue, today)) for e in shown]
    builder.section("Events in date order", items)
    builder.footer = FULL_SENTENCE
    if len(events) > len(shown):
        builder.footer = (
            f"Showing the first {len(shown)} of {len(events)}. Narrow it: /timeline {shown[-1].date.year}. "
            + FULL_SENTENCE
        )
    return builder.build()


def window_days(args: tuple[str, ...]) -> tuple[int, bool]:
    """The number of days asked for, and whether it was cut to :data:`MAX_DAYS` (``/upcoming 400``
    answers for 366 days and says so rather than refusing)."""
    if not args:
        return DEFAULT_DAYS, False
    if len(args) > 1:
        raise UsageError(f"Too many words: {' '.join(args)[:60]!r}. Give one number of days or nothing.")
    text = args[0]
    if not text.isdecimal() or int(text) < 1:
        raise UsageError(f"{text[:40]!r} is not a number of days from 1 to {MAX_DAYS}.")
    days = int(text)
    return min(days, MAX_DAYS), days > MAX_DAYS


def upcoming(args: tuple[str, ...], ctx: Context) -> Reply:
    days, capped = window_days(args)
    catalogue = ctx.catalogue
    today = ctx.today()
    end = today + timedelta(days=days)
    limit = ctx.list_limit(MAX_ITEMS)
    found = occurrences_between(catalogue, today, end, limit=limit + 1)
    year_only = year_only_between(catalogue, today, end)
    title = f"Coming up, {human_date(today)} to {human_date(end)} ({ctx.tz.key})"
    if capped:
        title += f": the longest window, {MAX_DAYS} days"
    builder = ReplyBuilder(title)
    hints = []
    if capped:
        hints.append(f"/upcoming looks at most {MAX_DAYS} days ahead; asked for {args[0][:12]}.")
    if not found and not year_only:
        plural = "s" * (days != 1)
        builder.section("Nothing due", [Item(f"No anniversaries or events in the next {days} day{plural}.")])
        # the first one after the window, so "nothing" is not the whole answer
        after = occurrences_between(
            catalogue, end + timedelta(days=1), end + timedelta(days=MAX_DAYS), limit=1
        )
        if after:
            occ = after[0]
            builder.section(
                "Next after that",
                [record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today))],
            )
        else:
            builder.dated(latest_source_date(catalogue))
        builder.footer = " ".join(hints + [f"Look further ahead: /upcoming {MAX_DAYS}."])
        return builder.build()
    if found:
        items = [
            record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today))
            for occ in found[:limit]
        ]
        builder.section("Anniversaries and events", items)
    if year_only:
        items = [
            record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today))
            for occ in year_only
        ]
        builder.section(
            "Known only to the year",
            items,
            "The sources give the year, not the day: listed for windows covering most of that year.",
        )
    if len(found) > limit:
        hints.append(f"Showing the first {limit}; ask for fewer days to see the rest, e.g. /upcoming 7.")
    builder.footer = " ".join(hints + [FULL_SENTENCE])
    return builder.build()
