"""What falls on a day or in a window: anniversaries and events over the catalogue, pure, no clock.

* An anniversary recurs every year from its origin date; its ordinal counts from the origin year and
  every fifth one is a milestone. An origin of 29 February is observed on 28 February in common years.
* An event is one-off: it is observed on its own date only.
* A date known only to the month is observed on the first day of that month.
* A date known only to the year (the 2009 strategic partnership) has no day: :func:`occurrences_on`
  never returns it (1 January would announce it as if it happened that day); :func:`year_only_between`
  lists it, with "day not known", for a window that covers more than half of that year, so a window
  shorter than 183 days never shows it.

What is due on a date (:func:`due`): a date known to the day reminds ``lead`` days ahead and on the
day; one known only to the month reminds on the first of the month only ("This month (Aug 2027)": a lead
of seven days before a whole month means nothing); one known only to the year is never posted.

Pure and platform-free, so ``/upcoming`` and ``/subscriptions`` (here), the scheduled posts
(``bot.reminders``) and the calendar feeds give the same answers.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.commands.format import event_title, human_date, ordinal, short_title
from bot.i18n import ENGLISH, Translator
from bot.subscription import DEFAULT_LEADS
from facts.model import Anniversary, Event, PartialDate
from facts.store import Catalogue

MILESTONE_EVERY = 5


@dataclass(frozen=True)
class Occurrence:
    record: Any  # Anniversary or Event
    on: date  # the day it is observed
    precision: str  # of the record's date: day, month or year
    ordinal: int | None = None  # anniversaries only

    @property
    def milestone(self) -> bool:
        return self.ordinal is not None and self.ordinal % MILESTONE_EVERY == 0

    def when(self, tr: Translator = ENGLISH) -> str:
        """When it is observed, at the record's own precision: ``28 Jan 2027``, ``Aug 2027`` or ``2027``
        (a month- or year-precision date is never shown as a made-up day)."""
        month = self.on.month if self.precision != "year" else 0
        day = self.on.day if self.precision == "day" else 0
        return human_date(PartialDate(self.on.year, month, day), tr)

    def describe(self, origin: bool = True, tr: Translator = ENGLISH) -> str:
        """``35th anniversary of diplomatic relations (28 Jan 1992), a milestone`` or an event's title;
        ``origin=False`` leaves out the origin date (the ordinal implies it) where a line is short of room.
        In another language the anniversary's title is written to follow "Nth anniversary of" there."""
        record = self.record
        if isinstance(record, Anniversary):
            _ = tr.gettext
            title = short_title(record.text("title", tr.lang), tr.lang)
            n = self.ordinal or 0
            text = _("{nth} anniversary of {title}").format(nth=anniversary_ordinal(n, tr), title=title)
            text += f" ({human_date(record.date, tr)})" if origin else ""
            if self.precision == "year":
                text += _("; day not known")
            return text + (_(", a milestone") if self.milestone else "")
        return event_title(record, tr)


def anniversary_ordinal(n: int, tr: Translator = ENGLISH) -> str:
    """``30th`` (anniversary), ``30-я`` (годовщина); Korean and Kazakh put the bare number before
    주년 / жылдығы, which the translated phrase holds."""
    if tr.lang == "ru":
        return f"{n}-я"
    if tr.lang in ("ko", "kk"):
        return str(n)
    return ordinal(n, tr)


def observed_on(origin: PartialDate, year: int) -> date:
    """The day in ``year`` on which a date of ``origin``'s precision is observed."""
    if origin.precision == "year":
        return date(year, 1, 1)
    if origin.precision == "month":
        return date(year, origin.month, 1)
    if origin.month == 2 and origin.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, origin.month, origin.day)


def _anniversaries_observed_on(catalogue: Catalogue, day: date) -> list[Anniversary]:
    """Index look-ups only: the origins dated to a day or month whose observed day in ``day.year`` is
    ``day`` (year-only origins have no observed day)."""
    index = catalogue.anniversaries_by_day
    found = list(index.get((day.month, day.day), ()))
    if day.day == 1:
        found += index.get((day.month, 0), ())  # month precision
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        found += index.get((2, 29), ())
    return found


def occurrences_on(catalogue: Catalogue, day: date) -> list[Occurrence]:
    """Anniversaries and events observed on ``day`` (dated to a day or a month), by index look-ups only."""
    found = []
    for anniversary in _anniversaries_observed_on(catalogue, day):
        years = day.year - anniversary.date.year
        if years >= 1:
            found.append(Occurrence(anniversary, day, anniversary.date.precision, years))
    for event in catalogue.events_by_day.get(day, ()):
        if event.date.precision != "year":
            found.append(Occurrence(event, day, event.date.precision))
    return sorted(found, key=lambda o: o.record.id)


def occurrences_between(
    catalogue: Catalogue, start: date, end: date, limit: int | None = None
) -> list[Occurrence]:
    """Everything dated to a day or month observed from ``start`` to ``end`` inclusive, in date order
    (for /upcoming; year-only dates: :func:`year_only_between`).

    With ``limit``, stops after the day on which the limit was reached (a chat answer shows a page, not
    every one of a grown store's thousands of anniversaries).
    """
    found: list[Occurrence] = []
    day = start
    while day <= end and (limit is None or len(found) < limit):
        found.extend(occurrences_on(catalogue, day))
        day += timedelta(days=1)
    return found


def covers_most_of_year(start: date, end: date, year: int) -> bool:
    """True when ``start``..``end`` (inclusive) covers more than half of ``year``."""
    first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
    covered = (last - first).days + 1
    return covered * 2 > (366 if calendar.isleap(year) else 365)


def year_only_between(catalogue: Catalogue, start: date, end: date) -> list[Occurrence]:
    """Anniversaries and events known only to their year, for each year the window covers more than
    half of: only then is "sometime in that year" more likely inside the window than outside it."""
    found: list[Occurrence] = []
    for year in range(start.year, end.year + 1):
        if not covers_most_of_year(start, end, year):
            continue
        new_year = date(year, 1, 1)
        for anniversary in catalogue.anniversaries_by_day.get((0, 0), ()):
            if year - anniversary.date.year >= 1:
                found.append(Occurrence(anniversary, new_year, "year", year - anniversary.date.year))
        for event in catalogue.events_by_day.get(new_year, ()):
            if event.date.precision == "year":
                found.append(Occurrence(event, new_year, "year"))
    return found


@dataclass(frozen=True)
class Reminder:
    occurrence: Occurrence
    lead_days: int
    day: date  # the day the reminder is for (when it is posted)

    @property
    def key(self) -> str:
        """(reminder, occurrence date): with the channel this keys the delivery ledger."""
        return f"{self.occurrence.record.id}@{self.lead_days}d:{self.occurrence.on.isoformat()}"

    def text(self, tr: Translator = ENGLISH) -> str:
        """``In 7 days (6 Oct 2024): …``, ``Today: …``, ``Tomorrow: …`` or ``This month (Aug 2027): …``."""
        _ = tr.gettext
        occ = self.occurrence
        if occ.precision == "month":
            when = _("This month ({date})").format(date=occ.when(tr))
        elif self.lead_days == 0:
            when = _("Today")
        elif self.lead_days == 1:
            when = _("Tomorrow")
        else:
            when = tr.ngettext("In {n} day ({date})", "In {n} days ({date})", self.lead_days).format(
                n=self.lead_days, date=occ.when(tr)
            )
        return f"{when}: {occ.describe(tr=tr)}"


def due(catalogue: Catalogue, day: date, leads: Iterable[int] = DEFAULT_LEADS) -> list[Reminder]:
    """The reminders to post on ``day`` (a local date) for the given lead times in days."""
    reminders = []
    for lead in sorted(set(leads), reverse=True):
        target = day + timedelta(days=lead)
        for occ in occurrences_on(catalogue, target):
            if lead and occ.precision != "day":
                continue
            if isinstance(occ.record, Event) and occ.on < day:
                continue  # defensive: a one-off event never reminds once past
            reminders.append(Reminder(occ, lead, day))
    return reminders
