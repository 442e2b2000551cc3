"""Calendar feeds (RFC 5545, built with ``icalendar``): the public feed and one per subscribed channel.

What goes in, and why:

* An anniversary whose day is known becomes **one all-day event per year for ten years**, from the
  current year on, each saying which anniversary it is ("35th anniversary of ..."). A yearly ``RRULE``
  cannot change its ``SUMMARY`` from one year to the next, and overriding each year with
  ``RECURRENCE-ID`` instances is handled unevenly by calendar clients; subscribed calendars re-read the
  feed at least daily, so the ten-year window moves on by itself. Each year's event has its own stable
  ``UID`` (``<record id>-<year>@kazkor``), so a re-import updates rather than duplicates.
* An event whose day is known becomes one all-day event (``<record id>@kazkor``). The public feed holds
  past ones too (it is the relationship's calendar); a channel's feed holds only those still ahead,
  because a channel is never reminded of a past event.
* Items known only to the month or the year are **left out** (a calendar has no way to show "some day
  in August" that is not a made-up day); the calendar's description says how many and that
  ``/upcoming`` lists them.
* A channel's feed holds what that channel is reminded of, on its own local days, with one alarm per
  lead time at the exact moment the channel gets the post (``TRIGGER`` as a UTC date-time computed
  from the channel's time and zone), and ``X-WR-TIMEZONE`` set to the channel's zone.

``DTSTAMP`` and ``Last-Modified`` are the moment this process first built that content; the weak
``ETag`` is a hash of the content without ``DTSTAMP``, so it survives restarts and revalidation by
``If-None-Match`` keeps answering ``304`` until the data really changes.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.commands.due import MILESTONE_EVERY, Occurrence, Reminder, observed_on
from bot.commands.format import ordinal, source_label
from bot.feeds.version import data_version
from bot.subscription import leads_of, local_now, posting_time, tz_of
from facts.model import Anniversary

PRODID = "-//kazkor//Kazakhstan-Korea relations bot//EN"
UID_DOMAIN = "kazkor"
YEARS_AHEAD = 10  # anniversary events per record: this year and the nine after it
CALENDAR_NAME = "Kazakhstan–Korea relations (kazkor)"
REFRESH = timedelta(hours=12)  # how often clients are asked to re-read a subscribed feed
MEDIA_TYPE = "text/calendar; charset=utf-8"
CACHE_SIZE = 64  # built feeds kept (the public one plus recently fetched channel feeds)


@dataclass(frozen=True)
class Entry:
    """One all-day calendar event, before it is written as iCalendar."""

    uid: str
    day: date
    summary: str
    description: str
    record: Any
    occurrence: Occurrence
    location: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Feed:
    body: bytes  # the .ics file, CRLF line endings, folded at 75 octets
    etag: str  # weak: W/"<hash of the content without DTSTAMP>"
    last_modified: datetime  # aware, UTC, whole seconds (HTTP dates have no fractions)
    left_out: int  # items known only to the month or year


# -- what goes in --------------------------------------------------------------------------------


def _description(catalogue: Any, record: Any) -> str:
    lines = [record.summary]
    if getattr(record, "correction", None):
        lines.append(f"Correction: {record.correction}")
    for citation in record.cite:
        source = catalogue.sources[citation.source]
        where = f" {source.url}" if source.url else ""
        lines.append(f"Source: {source_label(source)}{where} — “{citation.quote}”")
    lines.append(f"Record {record.id}; the sentence behind it: /source {record.id}")
    return "\n".join(lines)


def _first_url(catalogue: Any, record: Any) -> str | None:
    for source_id in record.sources:
        url = catalogue.sources[source_id].url
        if url:
            return url
    return None


def anniversary_summary(record: Anniversary, years: int) -> str:
    milestone = " (a milestone year)" if years % MILESTONE_EVERY == 0 else ""
    return f"{ordinal(years)} anniversary of {record.title}{milestone}"


def entries(
    catalogue: Any, first_year: int, *, events_from: date | None = None, uid_suffix: str = ""
) -> tuple[list[Entry], int]:
    """Every day-precision item, in date order, and how many month- or year-only items were left out.

    Without ``events_from``: each anniversary in the years ``first_year`` .. ``first_year + 9`` and every
    event. With it (a channel's feed): only what falls on or after that day, and each anniversary's next
    ten occurrences from it."""
    found: list[Entry] = []
    left_out = 0
    for record in catalogue.of_kind("anniversary"):
        if record.date.precision != "day":
            left_out += 1
            continue
        kept = 0
        for year in range(first_year, first_year + YEARS_AHEAD + 1):
            years = year - record.date.year
            day = observed_on(record.date, year)
            if years < 1 or kept == YEARS_AHEAD or (events_from is not None and day < events_from):
                continue
            kept += 1
            found.append(
                Entry(
                    uid=f"{record.id}-{year}{uid_suffix}@{UID_DOMAIN}",
                    day=day,
                    summary=anniversary_summary(record, years),
                    description=f"Since {record.date.human()}.\n" + _description(catalogue, record),
                    record=record,
                    occurrence=Occurrence(record, day, "day", years),
                    url=_first_url(catalogue, record),
                )
            )
    for record in catalogue.of_kind("event"):
        if record.date.precision != "day":
            left_out += 1
            continue
        day = record.date.first_day()
        if events_from is not None and day < events_from:
            continue
        found.append(
            Entry(
                uid=f"{record.id}{uid_suffix}@{UID_DOMAIN}",
                day=day,
                summary=record.title,
                description=_description(catalogue, record),
                record=record,
                occurrence=Occurrence(record, day, "day"),
                location=record.place or None,
                url=_first_url(catalogue, record),
            )
        )
    found.sort(key=lambda e: (e.day, e.uid))
    return found, left_out


# -- writing iCalendar ---------------------------------------------------------------------------


def _calendar(name: str, description: str, zone: str | None = None) -> Any:
    from icalendar import Calendar, vDuration

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", description)
    if zone:
        cal.add("x-wr-timezone", zone)
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))  # Outlook's name for REFRESH-INTERVAL
    return cal


def _event(entry: Entry) -> Any:
    from icalendar import Event as VEvent

    event = VEvent()
    event.add("uid", entry.uid)
    event.add("summary", entry.summary)
    event.add("dtstart", entry.day)  # a date, not a datetime: an all-day event
    event.add("dtend", entry.day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy slot
    event.add("description", entry.description)
    event.add("categories", ["Anniversary" if isinstance(entry.record, Anniversary) else "Event"])
    if entry.location:
        event.add("location", entry.location)
    if entry.url:
        event.add("url", entry.url)
    return event


def _alarm(text: str, moment: datetime) -> Any:
    from icalendar import Alarm

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", moment.astimezone(UTC))  # an absolute trigger must be UTC (RFC 5545 3.8.6.3)
    return alarm


def _left_out_note(left_out: int) -> str:
    if not left_out:
        return ""
    noun = "item is" if left_out == 1 else "items are"
    return f" {left_out} {noun} known only to the month or year, left out (no made-up days): see /upcoming."


def public_calendar(catalogue: Any, today: date) -> tuple[Any, list[Any], int]:
    """The public calendar (without DTSTAMPs yet), its events and how many items were left out."""
    found, left_out = entries(catalogue, today.year)
    cal = _calendar(
        CALENDAR_NAME,
        "Anniversaries and dated events of Kazakhstan–Korea relations, each with its source."
        + _left_out_note(left_out),
    )
    events = [_event(entry) for entry in found]
    for event in events:
        cal.add_component(event)
    return cal, events, left_out


def channel_calendar(catalogue: Any, sub: dict[str, Any], now: datetime) -> tuple[Any, list[Any], int]:
    """What the channel of ``sub`` is reminded of, on its local days, with an alarm at each post."""
    today = local_now(sub, now).date()
    key = f"{sub['platform']}:{sub['channel']}"
    suffix = "." + hashlib.sha256(key.encode()).hexdigest()[:10]
    found, left_out = entries(catalogue, today.year, events_from=today, uid_suffix=suffix)
    zone = tz_of(sub).key
    cal = _calendar(
        f"{CALENDAR_NAME}: this channel's reminders",
        f"What this channel is reminded of, posted at {sub.get('time', '09:00')} ({zone})."
        + _left_out_note(left_out),
        zone,
    )
    events = []
    for entry in found:
        event = _event(entry)
        for lead in sorted(set(leads_of(sub)), reverse=True):
            day = entry.day - timedelta(days=lead)
            event.add_component(_alarm(Reminder(entry.occurrence, lead, day).text(), posting_time(sub, day)))
        events.append(event)
        cal.add_component(event)
    return cal, events, left_out


def finish(
    cal: Any, events: Iterable[Any], left_out: int, first_seen: dict[str, datetime], now: datetime
) -> Feed:
    """Stamp and serialise: the ETag from the content without DTSTAMP, DTSTAMP = first time seen."""
    digest = hashlib.sha256(cal.to_ical()).hexdigest()[:32]
    stamp = first_seen.setdefault(digest, now.astimezone(UTC).replace(microsecond=0))
    for event in events:
        event.add("dtstamp", stamp)
    return Feed(cal.to_ical(), f'W/"{digest}"', stamp, left_out)


class FeedCache:
    """Built feeds by (data version, local date, channel settings): the same request never rebuilds.
    ``now`` (aware) is passed in by the caller, whose clock it is; it stamps content seen first."""

    def __init__(self) -> None:
        self._feeds: dict[tuple, Feed] = {}
        self._first_seen: dict[str, datetime] = {}
        self._lock = threading.Lock()  # feeds are built on worker threads

    def _get(self, key: tuple, build: Callable[[], tuple[Any, list[Any], int]], now: datetime) -> Feed:
        with self._lock:
            feed = self._feeds.get(key)
            if feed is None:
                feed = finish(*build(), self._first_seen, now)
                if len(self._feeds) >= CACHE_SIZE:
                    self._feeds.pop(next(iter(self._feeds)))
                self._feeds[key] = feed
            return feed

    def public(self, catalogue: Any, today: date, now: datetime) -> Feed:
        key = ("public", *data_version(catalogue), today.year)
        return self._get(key, lambda: public_calendar(catalogue, today), now)

    def channel(self, catalogue: Any, sub: dict[str, Any], now: datetime) -> Feed:
        settings = (sub["platform"], str(sub["channel"]), sub.get("time"), sub.get("tz"), leads_of(sub))
        key = ("channel", *data_version(catalogue), local_now(sub, now).date(), settings)
        return self._get(key, lambda: channel_calendar(catalogue, sub, now), now)


FEEDS = FeedCache()  # one per process: the HTTP routes, /calendar and the command line share it
