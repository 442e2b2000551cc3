"""What is due on a date: pure functions over the catalogue, no clock and no I/O.

* An anniversary recurs every year from its origin date; its ordinal counts from the origin year and
  every fifth one is a milestone. An origin of 29 February is observed on 28 February in common years.
* An event is one-off: it reminds only while it is still ahead (never about a past event).
* A date known only to the month or the year is observed on the first day of that month or year and
  reminds on that day only ("this month", "this year"): a lead of seven days before a whole year means
  nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.commands.format import ordinal
from facts.model import Anniversary, Event, PartialDate
from facts.store import Catalogue

DEFAULT_LEADS = (7, 0)
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

    def when(self) -> str:
        """When it is observed, at the record's own precision: ``2027-01-28``, ``2027-08`` or ``2027``
        (a month- or year-precision date is never shown as a made-up day)."""
        if self.precision == "year":
            return f"{self.on.year:04d}"
        if self.precision == "month":
            return f"{self.on.year:04d}-{self.on.month:02d}"
        return self.on.isoformat()

    def describe(self) -> str:
        record = self.record
        if isinstance(record, Anniversary):
            text = f"{ordinal(self.ordinal or 0)} anniversary of {record.title} ({record.date.human()})"
            return text + (" — a milestone year" if self.milestone else "")
        return f"{record.title}, {record.place} ({record.date.human()})"


@dataclass(frozen=True)
class Reminder:
    occurrence: Occurrence
    lead_days: int
    day: date  # the day the reminder is for (when it is posted)

    @property
    def key(self) -> str:
        """(reminder, occurrence date): with the channel this keys the delivery ledger."""
        return f"{self.occurrence.record.id}@{self.lead_days}d:{self.occurrence.on.isoformat()}"

    def text(self) -> str:
        occ = self.occurrence
        if occ.precision == "month":
            when = "This month"
        elif occ.precision == "year":
            when = "This year"
        elif self.lead_days == 0:
            when = "Today"
        elif self.lead_days == 1:
            when = "Tomorrow"
        else:
            when = f"In {self.lead_days} days ({occ.on.day} {calendar.month_abbr[occ.on.month]})"
        return f"{when}: {occ.describe()}"


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
    """Index look-ups only: the origins whose observed day in ``day.year`` is ``day``."""
    index = catalogue.anniversaries_by_day
    found = list(index.get((day.month, day.day), ()))
    if day.day == 1:
        found += index.get((day.month, 0), ())  # month precision
        if day.month == 1:
            found += index.get((0, 0), ())  # year precision
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        found += index.get((2, 29), ())
    return found


def occurrences_on(catalogue: Catalogue, day: date) -> list[Occurrence]:
    """Anniversaries and events observed on ``day``, by index look-ups only."""
    found = []
    for anniversary in _anniversaries_observed_on(catalogue, day):
        years = day.year - anniversary.date.year
        if years >= 1:
            found.append(Occurrence(anniversary, day, anniversary.date.precision, years))
    for event in catalogue.events_by_day.get(day, ()):
        found.append(Occurrence(event, day, event.date.precision))
    return sorted(found, key=lambda o: o.record.id)


def occurrences_between(
    catalogue: Catalogue, start: date, end: date, limit: int | None = None
) -> list[Occurrence]:
    """Everything observed from ``start`` to ``end`` inclusive, in date order (for /upcoming).

    With ``limit``, stops after the day on which the limit was reached (a chat answer shows a page, not
    every one of a grown store's thousands of anniversaries).
    """
    found: list[Occurrence] = []
    day = start
    while day <= end and (limit is None or len(found) < limit):
        found.extend(occurrences_on(catalogue, day))
        day += timedelta(days=1)
    return found


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
