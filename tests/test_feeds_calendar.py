"""The calendar feeds as a calendar client reads them: parsed back with icalendar and checked against the
facts (days, ordinals, sources, UIDs), the file format Google/Outlook accept, and revalidation over HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

import bot.feeds.commands  # noqa: F401  (registers /calendar, as the front ends do)
from bot.bootstrap.context import COMMANDS
from bot.commands import Command, Context, dispatch
from bot.feeds.calendar import YEARS_AHEAD, FeedCache
from bot.feeds.routes import add_calendar_routes
from bot.feeds.tokens import feed_token, rotate_feed_token
from facts.model import build_record
from facts.store import load_catalogue
from tests.conftest import ALMATY
from tests.helpers import lines

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECRET = b"s" * 32
DIPLOMATIC = "ann-1992-01-28-diplomatic-relations"


def events_of(body: bytes) -> dict[str, object]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def public(catalogue, now: datetime = NOW) -> bytes:
    return FeedCache().public(catalogue, now.date(), now).body


def channel_sub(tz: str = "Asia/Seoul", time: str = "09:00", leads=(7, 0)) -> dict:
    return {
        "platform": "telegram",
        "channel": "-100500",
        "thread": None,
        "time": time,
        "tz": tz,
        "leads": list(leads),
        "active": True,
        "created_at": "2026-01-01T00:00:00+00:00",
    }


# --- what the public feed holds, against the facts ------------------------------------------------


def test_anniversary_with_a_known_day_is_one_event_a_year_for_ten_years_saying_which(catalogue):
    events = events_of(public(catalogue))
    diplomatic = {uid: e for uid, e in events.items() if uid.startswith(DIPLOMATIC)}
    assert sorted(diplomatic) == [f"{DIPLOMATIC}-{year}@kazkor" for year in range(2026, 2026 + YEARS_AHEAD)]
    y2027 = diplomatic[f"{DIPLOMATIC}-2027@kazkor"]
    # diplomatic relations: 28 January 1992 (mofa-rok) -> 35th in 2027, a milestone
    assert y2027.decoded("DTSTART") == date(2027, 1, 28)  # a date: an all-day event
    assert y2027.decoded("DTEND") == date(2027, 1, 29)
    assert str(y2027["SUMMARY"]) == (
        "35th anniversary of diplomatic relations between Kazakhstan and the Republic of Korea "
        "(a milestone year)"
    )
    assert str(diplomatic[f"{DIPLOMATIC}-2028@kazkor"]["SUMMARY"]).startswith(
        "36th anniversary of diplomatic"
    )
    description = str(y2027["DESCRIPTION"])
    assert "Since 28 Jan 1992." in description
    # the outside source comes with the address a reader can open
    assert (
        "Source: Ministry of Foreign Affairs of the Republic of Korea "
        "https://news.kotra.or.kr/user/nationInfo/kotranews/14/nationDetailView.do?natnSn=104&commItemSn=405"
        " — “Diplomatic relations between the Republic of Korea and Kazakhstan were established on "
        "28 January 1992.”"
    ) in description
    assert "/source ann-1992-01-28-diplomatic-relations" in description
    assert str(y2027["CATEGORIES"].cats[0]) == "Anniversary"


def test_dated_events_are_in_with_their_day_place_and_source(catalogue):
    events = events_of(public(catalogue))
    visit = events["evt-2024-06-12-yoon-state-visit-astana@kazkor"]
    record = catalogue.by_id["evt-2024-06-12-yoon-state-visit-astana"]
    assert visit.decoded("DTSTART") == date(2024, 6, 12)
    assert str(visit["SUMMARY"]) == record.title
    assert str(visit["LOCATION"]) == record.place
    assert "Source: The Astana Times, Jun 2024 — “" in str(visit["DESCRIPTION"])
    assert record.cite[0].quote in str(visit["DESCRIPTION"])
    # every dated event of the catalogue, and nothing else
    day_events = {e.id for e in catalogue.of_kind("event") if e.date.precision == "day"}
    assert {uid.removesuffix("@kazkor") for uid in events if uid.startswith("evt-")} == day_events


def test_descriptions_name_sources_as_answers_do_never_by_file(catalogue):
    """A calendar reader sees "unattributed article, Aug 2021", as in chat answers, not the seed's file
    name or the data's "Unnamed outlet"."""
    events = events_of(public(catalogue))
    hong = str(events["evt-2021-08-15-hong-beom-do-repatriation@kazkor"]["DESCRIPTION"])
    assert "Source: unattributed article, Aug 2021 — “Towards the end of the summit" in hong
    assert "Source: Ministry of Patriots and Veterans Affairs of the Republic of Korea, 15 Aug 2021 " in hong
    for uid, event in events.items():
        description = str(event["DESCRIPTION"])
        assert ".txt" not in description and "Unnamed outlet" not in description, uid


def test_month_and_year_only_items_are_left_out_and_the_calendar_says_so(catalogue):
    body = public(catalogue)
    cal = Calendar.from_ical(body)
    vague = [
        r.id
        for kind in ("anniversary", "event")
        for r in catalogue.of_kind(kind)
        if r.date.precision != "day"
    ]
    assert "ann-2009-strategic-partnership" in vague and "evt-2021-08-tokayev-state-visit-seoul" in vague
    uids = " ".join(events_of(body))
    assert not [rid for rid in vague if rid in uids]
    assert f"{len(vague)} items are known only to the month or year, left out (no made-up days)" in str(
        cal["X-WR-CALDESC"]
    )


def test_an_anniversary_on_29_february_is_on_28_february_in_common_years(catalogue):
    grown = load_catalogue()
    leap = build_record(
        "anniversary",
        {
            "id": "ann-2000-02-29-test",
            "title": "a leap-day test",
            "date": "2000-02-29",
            "summary": "A test record.",
            "cite": [{"source": "mofa-rok", "quote": "test"}],
        },
        "test",
    )
    grown.add(leap)
    events = events_of(public(grown))
    assert events["ann-2000-02-29-test-2027@kazkor"].decoded("DTSTART") == date(2027, 2, 28)
    assert events["ann-2000-02-29-test-2028@kazkor"].decoded("DTSTART") == date(2028, 2, 29)
    assert str(events["ann-2000-02-29-test-2028@kazkor"]["SUMMARY"]) == "28th anniversary of a leap-day test"


# --- the file format clients accept -----------------------------------------------------------------


def test_crlf_lines_folded_at_75_octets_and_required_properties(catalogue):
    body = public(catalogue)
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")  # no bare LF anywhere
    physical = body.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    assert any(line.startswith(b" ") for line in physical)  # long lines really are folded
    # folding never splits a UTF-8 character: every line decodes on its own
    for line in physical:
        line.decode("utf-8")
    cal = Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//kazkor//")
    events = cal.walk("VEVENT")
    assert len(events) > 20
    for event in events:
        for required in ("UID", "DTSTAMP", "DTSTART", "SUMMARY"):
            assert required in event, (required, event.get("UID"))
        assert event.decoded("DTSTAMP") == NOW  # in UTC, when this content was first built
    assert len(re.findall(rb"\r\nDTSTAMP:20261130T120000Z\r\n", body)) == len(events)
    uids = [str(e["UID"]) for e in events]
    assert len(uids) == len(set(uids))


def test_uids_and_etag_are_stable_and_the_etag_changes_with_the_data(catalogue):
    first = FeedCache().public(catalogue, NOW.date(), NOW)
    later = NOW + timedelta(days=3)
    again = FeedCache().public(catalogue, later.date(), later)  # e.g. after a restart
    assert list(events_of(first.body)) == list(events_of(again.body))
    assert first.etag == again.etag and first.etag.startswith('W/"')
    grown = load_catalogue()
    grown.add(
        build_record(
            "event",
            {
                "id": "evt-2027-03-01-test",
                "title": "A test event",
                "type": "meeting",
                "date": "2027-03-01",
                "place": "Astana",
                "summary": "A test.",
                "cite": [{"source": "mofa-rok", "quote": "test"}],
            },
            "test",
        )
    )
    assert FeedCache().public(grown, NOW.date(), NOW).etag != first.etag


# --- a channel's feed ---------------------------------------------------------------------------------


def test_channel_feed_alarms_fire_when_the_channel_is_posted_to_in_its_zone(catalogue):
    feed = FeedCache().channel(catalogue, channel_sub("Asia/Seoul", "09:00"), NOW)
    cal = Calendar.from_ical(feed.body)
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Seoul"
    events = {str(e["UID"]).split(".")[0]: e for e in cal.walk("VEVENT")}
    event = events[f"{DIPLOMATIC}-2027"]
    triggers = sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM"))
    # 09:00 in Seoul (UTC+9) is 00:00 UTC: 7 days ahead and on the day
    assert triggers == [datetime(2027, 1, 21, 0, 0, tzinfo=UTC), datetime(2027, 1, 28, 0, 0, tzinfo=UTC)]
    texts = sorted(str(alarm["DESCRIPTION"]) for alarm in event.walk("VALARM"))
    assert texts[0].startswith("In 7 days (28 Jan 2027): 35th anniversary of diplomatic relations")
    assert texts[1].startswith("Today: 35th anniversary of diplomatic relations")
    # Almaty (UTC+5) at 18:30: the same day's post is at 13:30 UTC
    almaty = FeedCache().channel(catalogue, channel_sub("Asia/Almaty", "18:30", leads=[0]), NOW)
    event = {str(e["UID"]).split(".")[0]: e for e in Calendar.from_ical(almaty.body).walk("VEVENT")}
    assert [a.decoded("TRIGGER") for a in event[f"{DIPLOMATIC}-2027"].walk("VALARM")] == [
        datetime(2027, 1, 28, 13, 30, tzinfo=UTC)
    ]


def test_channel_feed_starts_at_the_channels_local_today(catalogue):
    # 28 Jan 2027 16:00 UTC: already 29 Jan in Seoul, still the morning of 28 Jan in Los Angeles
    moment = datetime(2027, 1, 28, 16, 0, tzinfo=UTC)
    seoul = events_of(FeedCache().channel(catalogue, channel_sub("Asia/Seoul"), moment).body)
    la = events_of(FeedCache().channel(catalogue, channel_sub("America/Los_Angeles"), moment).body)

    def years(events):
        return sorted(e.decoded("DTSTART").year for uid, e in events.items() if uid.startswith(DIPLOMATIC))

    assert years(seoul) == list(range(2028, 2038))  # ten occurrences still ahead
    assert years(la) == list(range(2027, 2037))
    # past events are never reminded of, so they are not in a channel's feed
    assert not [uid for uid in seoul if uid.startswith("evt-")]
    assert all(uid.endswith("@kazkor") and "." in uid for uid in seoul)  # channel UIDs differ from public


# --- HTTP: /calendar.ics and /calendar/<token>.ics ------------------------------------------------------


def serve(catalogue, state, check) -> None:
    """Run ``check(client)`` against the calendar routes on a real server on 127.0.0.1."""

    async def main() -> None:
        ctx = Context(catalogue=catalogue, tz=ALMATY, clock=lambda: NOW, state=state)
        app = web.Application()
        add_calendar_routes(app, ctx, FeedCache(), SECRET)
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await asyncio.wait_for(check(client), 30)

    asyncio.run(main())


def test_public_feed_is_served_and_revalidated_with_304(catalogue, state):
    serve(catalogue, state, public_feed_checks)


async def public_feed_checks(client) -> None:
    response = await client.get("/calendar.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = await response.read()
    assert f"{DIPLOMATIC}-2027@kazkor" in events_of(body)
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert modified == format_datetime(NOW, usegmt=True)

    again = await client.get("/calendar.ics", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b"" and again.headers["ETag"] == etag
    strong = await client.get("/calendar.ics", headers={"If-None-Match": etag.removeprefix("W/")})
    assert strong.status == 304  # weak comparison
    other = await client.get("/calendar.ics", headers={"If-None-Match": '"something-else"'})
    assert other.status == 200 and await other.read() == body
    since = await client.get("/calendar.ics", headers={"If-Modified-Since": modified})
    assert since.status == 304
    earlier = format_datetime(NOW - timedelta(days=1), usegmt=True)
    assert (await client.get("/calendar.ics", headers={"If-Modified-Since": earlier})).status == 200
    garbled = await client.get("/calendar.ics", headers={"If-Modified-Since": "yesterday"})
    assert garbled.status == 200


def test_channel_feed_by_token_and_rotation(catalogue, state):
    async def checks(client) -> None:
        await channel_feed_checks(client, state)

    serve(catalogue, state, checks)


async def channel_feed_checks(client, state) -> None:
    state.save_subscription(channel_sub("Asia/Seoul"))
    token = feed_token(SECRET, state, "telegram", "-100500")
    assert token is not None and len(token) == 32
    response = await client.get(f"/calendar/{token}.ics")
    assert response.status == 200
    cal = Calendar.from_ical(await response.read())
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Seoul"

    new = rotate_feed_token(SECRET, state, "telegram", "-100500")
    assert new != token
    assert (await client.get(f"/calendar/{token}.ics")).status == 404
    assert (await client.get(f"/calendar/{new}.ics")).status == 200
    assert (await client.get("/calendar/" + "a" * 32 + ".ics")).status == 404
    assert (await client.get("/calendar/../state.json")).status == 404

    # /subscribe rewriting the channel's record (a new time) keeps the rotation: the old address stays dead
    state.save_subscription({**channel_sub("Asia/Seoul", "10:30")})
    assert (await client.get(f"/calendar/{token}.ics")).status == 404
    assert (await client.get(f"/calendar/{new}.ics")).status == 200

    # unsubscribing and subscribing again gives a new address, even at generation 0
    state.remove_subscription("telegram", "-100500")
    assert (await client.get(f"/calendar/{new}.ics")).status == 404
    state.save_subscription({**channel_sub(), "created_at": "2026-12-01T00:00:00+00:00"})
    assert feed_token(SECRET, state, "telegram", "-100500") not in (token, new)


# --- /calendar and `kazkor calendar` ---------------------------------------------------------------------


def calendar_command(args=(), *, is_admin=False) -> Command:
    return Command("calendar", tuple(args), "telegram", "-100500", "777", {"is_admin": is_admin})


def test_calendar_command_without_public_url_says_how_to_set_it_and_attaches_the_file(catalogue, state):
    ctx = Context(catalogue=catalogue, tz=ALMATY, clock=lambda: NOW, state=state, commands=COMMANDS)
    reply = dispatch(calendar_command(), ctx)
    assert reply.kind == "answer"
    assert lines(reply) == [
        "Set KAZKOR_PUBLIC_URL to the address people reach this bot at for feed links, "
        "e.g. KAZKOR_PUBLIC_URL=https://kazkor.example.org"
    ]
    (attached,) = reply.attachments
    assert attached.filename == "kazkor.ics" and attached.media_type == "text/calendar"
    assert f"{DIPLOMATIC}-2027@kazkor" in events_of(attached.produce())


def test_calendar_command_gives_both_urls_and_admins_rotate(catalogue, state):
    ctx = Context(
        catalogue=catalogue,
        tz=ALMATY,
        clock=lambda: NOW,
        state=state,
        public_url="https://kazkor.example.org",
        feed_secret=SECRET,
        commands=COMMANDS,
    )
    unsubscribed = lines(dispatch(calendar_command(), ctx))
    assert unsubscribed[0] == "Everyone: https://kazkor.example.org/calendar.ics"
    assert unsubscribed[1] == "This channel has no reminders, so no feed of its own: /subscribe first."

    state.save_subscription(channel_sub("Asia/Seoul"))
    reply = dispatch(calendar_command(), ctx)
    token = feed_token(SECRET, state, "telegram", "-100500")
    assert lines(reply)[1] == f"This channel: https://kazkor.example.org/calendar/{token}.ics"
    assert reply.sections[0].note.endswith(
        "This channel's holds what it is reminded of, with alerts at 09:00 (Asia/Seoul), 7 days ahead and "
        "on the day."
    )
    assert all(len(item.visible()) <= 160 for item in reply.sections[0].items)
    assert reply.attachments[0].filename == "kazkor-channel.ics"

    refused = dispatch(calendar_command(["rotate"]), ctx)
    assert refused.kind == "usage" and refused.title.startswith("Only channel admins")
    assert feed_token(SECRET, state, "telegram", "-100500") == token

    rotated = dispatch(calendar_command(["rotate"], is_admin=True), ctx)
    new = feed_token(SECRET, state, "telegram", "-100500")
    assert new != token and lines(rotated) == [f"https://kazkor.example.org/calendar/{new}.ics"]

    bad = dispatch(calendar_command(["now"]), ctx)
    assert bad.kind == "usage" and "/calendar takes no words or just “rotate”" in bad.title


def test_kazkor_calendar_writes_the_feed_to_stdout(capfdbinary, monkeypatch, tmp_path):
    from bot.cli import main

    monkeypatch.setenv("KAZKOR_DB", str(tmp_path / "state.json"))
    assert main(["calendar"]) == 0
    out = capfdbinary.readouterr().out
    assert out.startswith(b"BEGIN:VCALENDAR\r\n")
    assert any(uid.startswith(DIPLOMATIC) for uid in events_of(out))

    assert main(["calendar", "--channel", "telegram:-1"]) == 2
    err = capfdbinary.readouterr().err.decode()
    assert "no active subscription for 'telegram:-1'" in err and "--channel telegram:-1001234567890" in err


# --- settings ---------------------------------------------------------------------------------------------


def test_public_url_and_feed_secret_settings_are_checked_with_an_example():
    from bot.config import Config, ConfigError

    config = Config.from_env({"KAZKOR_PUBLIC_URL": "https://kazkor.example.org/"})
    assert config.public_url == "https://kazkor.example.org"  # no trailing slash: paths are appended
    assert config.calendar_secret is None  # no secret anywhere: no per-channel feeds
    for bad in ("kazkor.example.org", "ftp://x", "https://exa mple.org", "https://x.org/?a=1"):
        with pytest.raises(ConfigError) as info:
            Config.from_env({"KAZKOR_PUBLIC_URL": bad})
        assert "e.g. KAZKOR_PUBLIC_URL=https://kazkor.example.org" in str(info.value)
    with pytest.raises(ConfigError, match="KAZKOR_FEED_SECRET: use at least 16 random characters"):
        Config.from_env({"KAZKOR_FEED_SECRET": "short"})

    own = Config.from_env({"KAZKOR_FEED_SECRET": "f" * 32, "TELEGRAM_BOT_TOKEN": "123:abc"})
    derived = Config.from_env({"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert own.calendar_secret and derived.calendar_secret and own.calendar_secret != derived.calendar_secret
    assert derived.calendar_secret != b"123:abc"  # derived, never the token itself
    assert "f" * 32 in own.secrets()  # scrubbed from logs like every secret
