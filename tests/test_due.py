"""Reminder computation: ordinals, milestones, one-off events, leap day, year ends and time zones."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import fixed_clock, local_today
from bot.commands.due import due
from facts.model import Anniversary, Citation, Event, PartialDate, Source
from facts.store import Catalogue


def texts(reminders):
    return [r.text() for r in reminders]


def test_diplomatic_relations_35th_anniversary_is_a_milestone_a_week_ahead_and_on_the_day(catalogue):
    week_before = due(catalogue, date(2027, 1, 21))
    assert texts(week_before) == [
        "In 7 days (28 Jan 2027): 35th anniversary of diplomatic relations (28 Jan 1992), a milestone"
    ]
    on_the_day = due(catalogue, date(2027, 1, 28))
    assert texts(on_the_day)[0].startswith("Today: 35th anniversary of diplomatic relations")
    assert on_the_day[0].key == "ann-1992-01-28-diplomatic-relations@0d:2027-01-28"
    assert due(catalogue, date(2026, 1, 28))[0].occurrence.milestone is False  # the 34th


def test_the_referendum_reminds_before_and_on_the_day_but_never_after(catalogue):
    week_before = texts(due(catalogue, date(2024, 9, 29)))
    assert len(week_before) == 1
    assert week_before[0].startswith(
        "In 7 days (6 Oct 2024): Nationwide referendum on building a nuclear power plant"
    )
    assert any("referendum" in t for t in texts(due(catalogue, date(2024, 10, 6))))
    assert not any("referendum" in t for t in texts(due(catalogue, date(2025, 10, 6))))
    assert not any("referendum" in t for t in texts(due(catalogue, date(2025, 9, 29))))


def test_the_year_only_2009_partnership_is_never_posted_as_a_reminder(catalogue):
    """The sources date the strategic partnership to 2009 only: no day of 2029 (its 20th year) gets a
    reminder, least of all 1 January ("This year: 20th anniversary" as if it happened that day)."""
    day, posted = date(2029, 1, 1), []
    while day.year == 2029:
        posted += [t for t in texts(due(catalogue, day, (7, 1, 0))) if "strategic partnership" in t]
        day += timedelta(days=1)
    assert posted == []
    # the year-only events of 2024 (the C5+K plans, the flood, ...) are not posted on 1 Jan 2024 either
    assert texts(due(catalogue, date(2024, 1, 1))) == []


def _catalogue(*records) -> Catalogue:
    cat = Catalogue([Source("src", "Test", "t", "outside")])
    for r in records:
        cat.add(r)
    return cat


def _anniversary(rid: str, when: str) -> Anniversary:
    return Anniversary(
        id=rid, summary="s", cite=(Citation("src", "q"),), title=f"thing {rid}", date=PartialDate.parse(when)
    )


def test_leap_day_origin_is_observed_on_28_february_in_common_years():
    cat = _catalogue(_anniversary("leap", "2020-02-29"))
    assert [r.occurrence.ordinal for r in due(cat, date(2021, 2, 28), leads=(0,))] == [1]
    assert due(cat, date(2021, 3, 1), leads=(0,)) == []
    assert [r.occurrence.ordinal for r in due(cat, date(2024, 2, 29), leads=(0,))] == [4]
    assert due(cat, date(2024, 2, 28), leads=(0,)) == []
    week_before = due(cat, date(2023, 2, 21), leads=(7,))
    assert [r.occurrence.on for r in week_before] == [date(2023, 2, 28)]


def test_a_lead_time_crossing_the_year_end_counts_the_new_years_ordinal():
    cat = _catalogue(_anniversary("jan3", "2000-01-03"))
    reminders = due(cat, date(2024, 12, 27), leads=(7,))
    assert [(r.occurrence.on, r.occurrence.ordinal) for r in reminders] == [(date(2025, 1, 3), 25)]
    assert reminders[0].occurrence.milestone


def test_lead_times_are_configurable():
    cat = _catalogue(_anniversary("x", "2000-05-10"))
    assert [r.lead_days for r in due(cat, date(2030, 5, 7), leads=(3, 0))] == [3]
    assert due(cat, date(2030, 5, 3), leads=(3, 0)) == []


def test_past_one_off_event_never_reminds():
    event = Event(
        id="e",
        summary="s",
        cite=(Citation("src", "q"),),
        title="Summit",
        date=PartialDate.parse("2025-03-01"),
        place="Seoul",
    )
    cat = _catalogue(event)
    assert len(due(cat, date(2025, 2, 22))) == 1
    assert due(cat, date(2026, 2, 22)) == due(cat, date(2026, 3, 1)) == []


def test_the_local_date_decides_which_day_is_due():
    clock = fixed_clock(datetime.fromisoformat("2027-01-27T20:30:00+00:00"))
    assert local_today(clock, ZoneInfo("Asia/Almaty")) == date(2027, 1, 28)
    assert local_today(clock, ZoneInfo("America/New_York")) == date(2027, 1, 27)
    assert local_today(clock, ZoneInfo("Asia/Seoul")) == date(2027, 1, 28)
