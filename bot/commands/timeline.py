"""/timeline [YEAR] and /upcoming [DAYS]: one event or anniversary per line, its date first."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.commands.args import UsageError, optional_year
from bot.commands.context import Context
from bot.commands.due import Occurrence, event_title, occurrences_between, year_only_between
from bot.commands.format import FULL_SENTENCE, dated_line, human_date, latest_source_date, record_item
from bot.i18n import ENGLISH, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Event
from facts.store import Catalogue

MAX_ITEMS = 60  # a chat message is no place for a thousand lines: narrow by year instead
DEFAULT_DAYS, MAX_DAYS = 30, 366


_DERIVED_WHY = re.compile(r"\((derived: [^)]*)\)")


def event_lines(event: Event, catalogue: Catalogue, today: date, tr: Translator = ENGLISH) -> list[str]:
    """``12 Jun 2024 — Yoon's state visit …``, then shorter wordings for a line short of room.

    A plan says so, as of its source, and once its date has passed that the sources do not say whether
    it happened; a date no source gives but one follows from says "derived" and, where room allows, why
    (the summary's "(derived: 1992 + 30; …)")."""
    _ = tr.gettext
    title = event_title(event, tr)
    if event.announced:
        dates = [catalogue.sources[s].published for s in event.sources]
        known = [d for d in dates if d is not None]
        as_of = _(" as of {date}").format(date=human_date(max(known), tr)) if known else ""
        outcome = _("; outcome not reported") if event.date.last_day() < today else ""
        marks = [
            _(" (planned{as_of}{outcome})").format(as_of=as_of, outcome=outcome),
            _(" (planned{as_of}{outcome})").format(as_of=as_of, outcome=""),
        ]
    elif getattr(event, "derived", None):
        why = _DERIVED_WHY.search(event.summary) if tr.lang == "en" else None
        marks = [f" ({why.group(1)})", f" ({why.group(1).split(';')[0]})"] if why else []
        marks.append(_(" (derived)"))
    else:
        marks = [""]
    return [dated_line(event.date, title + mark, tr) for mark in marks]


def occurrence_lines(
    occ: Occurrence, catalogue: Catalogue, today: date, tr: Translator = ENGLISH
) -> list[str]:
    """The line for an occurrence, then a shorter wording (no origin date) for when it does not fit."""
    if isinstance(occ.record, Event):
        return event_lines(occ.record, catalogue, today, tr)
    return [
        dated_line(occ.when(tr), occ.describe(tr=tr), tr),
        dated_line(occ.when(tr), occ.describe(origin=False, tr=tr), tr),
    ]


def timeline(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    tr = ctx.tr
    _ = tr.gettext
    year = optional_year(args, tr)
    events = catalogue.of_kind("event") if year is None else catalogue.in_year("event", year)
    if not events:
        builder = ReplyBuilder(_("No events recorded for {year}.").format(year=year), tr=tr)
        builder.section(_("Years with events"), [Item(", ".join(map(str, catalogue.years("event"))))])
        builder.dated(latest_source_date(catalogue))
        return builder.build()
    title = (
        _("Kazakhstan–Korea timeline, {year}").format(year=year) if year else _("Kazakhstan–Korea timeline")
    )
    builder = ReplyBuilder(title, tr=tr)
    shown = events[: ctx.list_limit(MAX_ITEMS)]
    today = ctx.today()
    items = [record_item(builder, catalogue, e, *event_lines(e, catalogue, today, tr)) for e in shown]
    builder.section(_("Events in date order"), items)
    builder.footer = _(FULL_SENTENCE)
    if len(events) > len(shown):
        builder.footer = (
            _("Showing the first {shown} of {total}. Narrow it: /timeline {year}.").format(
                shown=len(shown), total=len(events), year=shown[-1].date.year
            )
            + " "
            + _(FULL_SENTENCE)
        )
    return builder.build()


def window_days(args: tuple[str, ...], tr: Translator = ENGLISH) -> tuple[int, bool]:
    """The number of days asked for, and whether it was cut to :data:`MAX_DAYS` (``/upcoming 400``
    answers for 366 days and says so rather than refusing)."""
    _ = tr.gettext
    if not args:
        return DEFAULT_DAYS, False
    if len(args) > 1:
        raise UsageError(
            _("Too many words: {words!r}. Give one number of days or nothing.").format(
                words=" ".join(args)[:60]
            )
        )
    text = args[0]
    if not text.isdecimal() or int(text) < 1:
        raise UsageError(
            _("{word!r} is not a number of days from 1 to {most}.").format(word=text[:40], most=MAX_DAYS)
        )
    days = int(text)
    return min(days, MAX_DAYS), days > MAX_DAYS


def upcoming(args: tuple[str, ...], ctx: Context) -> Reply:
    tr = ctx.tr
    _ = tr.gettext
    days, capped = window_days(args, tr)
    catalogue = ctx.catalogue
    today = ctx.today()
    end = today + timedelta(days=days)
    limit = ctx.list_limit(MAX_ITEMS)
    found = occurrences_between(catalogue, today, end, limit=limit + 1)
    year_only = year_only_between(catalogue, today, end)
    title = _("Coming up, {start} to {end} ({zone})").format(
        start=human_date(today, tr), end=human_date(end, tr), zone=ctx.tz.key
    )
    if capped:
        title += _(": the longest window, {n} days").format(n=MAX_DAYS)
    builder = ReplyBuilder(title, tr=tr)
    hints = []
    if capped:
        hints.append(
            _("/upcoming looks at most {n} days ahead; asked for {asked}.").format(
                n=MAX_DAYS, asked=args[0][:12]
            )
        )
    if not found and not year_only:
        nothing = tr.ngettext(
            "No anniversaries or events in the next {n} day.",
            "No anniversaries or events in the next {n} days.",
            days,
        )
        builder.section(_("Nothing due"), [Item(nothing.format(n=days))])
        # the first one after the window, so "nothing" is not the whole answer
        after = occurrences_between(
            catalogue, end + timedelta(days=1), end + timedelta(days=MAX_DAYS), limit=1
        )
        if after:
            occ = after[0]
            builder.section(
                _("Next after that"),
                [record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today, tr))],
            )
        else:
            builder.dated(latest_source_date(catalogue))
        builder.footer = " ".join(hints + [_("Look further ahead: /upcoming {n}.").format(n=MAX_DAYS)])
        return builder.build()
    if found:
        items = [
            record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today, tr))
            for occ in found[:limit]
        ]
        builder.section(_("Anniversaries and events"), items)
    if year_only:
        items = [
            record_item(builder, catalogue, occ.record, *occurrence_lines(occ, catalogue, today, tr))
            for occ in year_only
        ]
        builder.section(
            _("Known only to the year"),
            items,
            _("The sources give the year, not the day: listed for windows covering most of that year."),
        )
    if len(found) > limit:
        hints.append(
            _("Showing the first {n}; ask for fewer days to see the rest, e.g. /upcoming 7.").format(n=limit)
        )
    builder.footer = " ".join(hints + [_(FULL_SENTENCE)])
    return builder.build()
