"""/subscribe, /unsubscribe and /subscriptions as users type them, and who may change a channel's
reminders (asked of the stand-in platforms through the real libraries)."""

from __future__ import annotations

from datetime import datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot

from bot.commands import Command, Context, dispatch, handle_text
from bot.commands.subscriptions import REFUSAL
from bot.platforms.admin import slack_is_admin, telegram_is_admin
from tests.conftest import ALMATY, open_store
from tests.helpers import lines
from tests.reminders_kit import run
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram

WHEN = "2024-09-20T12:00:00+05:00"


@pytest.fixture
def ctx(catalogue, state):
    changes: list[int] = []
    context = Context(
        catalogue=catalogue,
        tz=ALMATY,
        clock=lambda: datetime.fromisoformat(WHEN),
        state=state,
        on_subscriptions_changed=lambda changed: changes.append(1),
    )
    context.changes = changes  # type: ignore[attr-defined]
    return context


def command(text: str, *, platform="telegram", channel="-100500", user="777", **extra) -> Command:
    name, *args = text.lstrip("/").split()
    return Command(name, tuple(args), platform, channel, user, extra)


# --- subscribing --------------------------------------------------------------------------------------


def test_console_subscribe_defaults_to_nine_in_the_configured_zone(ctx, state):
    reply = handle_text("/subscribe", ctx)
    assert reply.kind == "answer"
    assert (
        reply.title == "This channel will get reminders at 09:00 (Asia/Almaty): 7 days ahead and on the day."
    )
    sub = state.subscription("console", "console")
    assert sub["time"] == "09:00" and sub["tz"] == "Asia/Almaty" and sub["leads"] == [7, 0]
    assert sub["active"] is True and sub["created_by"] == "console" and sub["thread"] is None
    assert sub["created_at"] == "2024-09-20T07:00:00+00:00"
    assert ctx.changes == [1]  # the scheduler was told
    # the console cannot be posted to: the answer says so and where the posts do go
    assert reply.footer.endswith(
        "The console is a preview: nothing is posted here. Subscribe a Slack or Telegram channel to get "
        "the posts, or run `kazkor reminders --date YYYY-MM-DD --days 30` to see what would be posted. "
        "Sources up to Sep 2024."
    )
    # the next reminders, computed with due(): the referendum's 7-day and same-day reminders
    assert lines(reply)[:2] == [
        "29 Sep 2024 09:00 — In 7 days (6 Oct 2024): Nationwide referendum on building a nuclear power plant "
        "in Kazakhstan",
        "6 Oct 2024 09:00 — Today: Nationwide referendum on building a nuclear power plant in Kazakhstan",
    ]
    # each listed reminder cites the two articles that announce the referendum
    labels = {c.number: c.label for c in reply.citations}
    for item in reply.sections[0].items[:2]:
        assert sorted(labels[n] for n in item.refs) == [
            "Diplomacy Journal, Sep 2024",
            "Korea JoongAng Daily, Sep 2024",
        ]


def test_an_admin_subscribes_with_a_time_and_zone_in_either_order(ctx, state):
    reply = dispatch(command("/subscribe asia/seoul 7:30", is_admin=True, thread="42"), ctx)
    assert reply.kind == "answer" and "07:30 (Asia/Seoul)" in reply.title
    assert reply.footer == (
        "Change the time with /subscribe HH:MM Area/City; stop with /unsubscribe. Sources up to Sep 2024."
    )
    sub = state.subscription("telegram", "-100500")
    assert (sub["time"], sub["tz"], sub["thread"], sub["created_by"]) == ("07:30", "Asia/Seoul", "42", "777")
    reply = dispatch(command("/subscribe 18:00 America/New_York", is_admin=True, user="888"), ctx)
    assert reply.title.startswith("This channel now gets reminders at 18:00 (America/New_York)")
    sub = state.subscription("telegram", "-100500")
    assert (sub["time"], sub["created_by"], sub["updated_by"]) == ("18:00", "777", "888")
    assert len(state.subscriptions()) == 1


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("/subscribe 25:00", "'25:00' is not a time"),
        ("/subscribe 9am", "'9am' is not a time"),
        ("/subscribe 09:60", "'09:60' is not a time"),
        ("/subscribe 09:00 Mars/Olympus_Mons", "'Mars/Olympus_Mons' is not a time zone I know"),
        ("/subscribe Almaty", "'Almaty' is not a time zone I know"),
        ("/subscribe 09:00 localtime", "'localtime' is not a time zone I know"),  # the server's zone
        ("/subscribe Factory", "'Factory' is not a time zone I know"),
        # on the host's /usr/share/zoneinfo but not in the bundled tzdata: a later start would fail on it
        ("/subscribe 09:00 posixrules", "'posixrules' is not a time zone I know"),
        ("/subscribe 09:00 posix/Asia/Almaty", "'posix/Asia/Almaty' is not a time zone I know"),
        ("/subscribe 09:00 10:00", "given twice"),
        ("/subscribe 09:00 Asia/Almaty extra", "Too many words"),
    ],
)
def test_bad_input_gets_a_usage_reply_with_an_example_and_changes_nothing(ctx, state, text, complaint):
    reply = dispatch(command(text, is_admin=True), ctx)
    assert reply.kind == "usage"
    assert complaint in reply.title
    assert lines(reply) == ["/subscribe 09:00 Asia/Almaty"]
    assert state.subscriptions() == [] and ctx.changes == []


@pytest.fixture
def host_zone_files(tmp_path):
    """A host zoneinfo folder with files the bundled tzdata lacks (``posixrules``, as Debian ships it),
    first on the zone search path while the test runs."""
    import shutil
    import zoneinfo
    from importlib import resources

    new_york = resources.files("tzdata").joinpath("zoneinfo", "America", "New_York")
    with resources.as_file(new_york) as path:
        shutil.copyfile(path, tmp_path / "posixrules")
        (tmp_path / "Local").mkdir()
        shutil.copyfile(path, tmp_path / "Local" / "Office")
    before = zoneinfo.TZPATH
    zoneinfo.reset_tzpath([str(tmp_path), *before])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        yield tmp_path
    finally:
        zoneinfo.reset_tzpath(list(before))
        zoneinfo.ZoneInfo.clear_cache()


@pytest.mark.parametrize("zone", ["posixrules", "Local/Office"])
def test_only_zones_of_the_bundled_tzdata_are_accepted(ctx, state, host_zone_files, zone):
    """A zone only the host has would be stored and then fail every later start on a host with only
    the tzdata package (issue 10, item 2)."""
    reply = dispatch(command(f"/subscribe 09:00 {zone}", is_admin=True), ctx)
    assert reply.kind == "usage"
    assert reply.title.startswith(
        f"'{zone}' is not a time zone I know: use an IANA name such as Asia/Almaty or Asia/Seoul."
    )
    assert lines(reply) == ["/subscribe 09:00 Asia/Almaty"]
    assert state.subscriptions() == []


def test_non_admins_are_refused(ctx, state):
    for extra in ({"is_admin": False}, {}):  # no answer from the adapter counts as "no"
        for text in ("/subscribe 09:00", "/unsubscribe"):
            reply = dispatch(command(text, **extra), ctx)
            assert reply.title == REFUSAL == "Only channel admins can change this channel's reminders."
            assert reply.kind == "usage"
    assert state.subscriptions() == [] and ctx.changes == []


def test_unsubscribe_and_subscriptions(ctx, state):
    assert dispatch(command("/subscriptions"), ctx).title == "This channel gets no reminders."
    assert dispatch(command("/unsubscribe", is_admin=True), ctx).kind == "usage"  # nothing to stop
    dispatch(command("/subscribe 10:15 Asia/Almaty", is_admin=True), ctx)
    reply = dispatch(command("/subscriptions"), ctx)  # anyone may look
    assert (
        reply.title
        == "This channel gets reminders every day at 10:15 (Asia/Almaty): 7 days ahead and on the day."
    )
    assert lines(reply)[0].startswith("29 Sep 2024 10:15 — In 7 days (6 Oct 2024): Nationwide referendum")
    assert dispatch(command("/unsubscribe", is_admin=False), ctx).title == REFUSAL
    reply = dispatch(command("/unsubscribe", is_admin=True), ctx)
    assert reply.title.startswith("This channel will no longer get reminders")
    assert state.subscription("telegram", "-100500") is None
    assert ctx.changes == [1, 1]


def test_a_paused_subscription_says_why(ctx, state):
    dispatch(command("/subscribe", is_admin=True), ctx)
    sub = state.subscription("telegram", "-100500")
    state.save_subscription(
        {**sub, "active": False, "inactive_reason": "telegram: Forbidden: bot was kicked"}
    )
    reply = dispatch(command("/subscriptions"), ctx)
    assert reply.title == "Reminders for this channel are paused: telegram: Forbidden: bot was kicked."
    dispatch(command("/subscribe", is_admin=True), ctx)  # an admin resumes them
    assert state.subscription("telegram", "-100500")["active"] is True


def test_subscriptions_survive_a_restart(tmp_path, catalogue):
    path = tmp_path / "state.json"
    first = open_store(path)
    clock = lambda: datetime.fromisoformat(WHEN)  # noqa: E731
    handle_text(
        "/subscribe 08:45 Asia/Seoul", Context(catalogue=catalogue, tz=ALMATY, clock=clock, state=first)
    )
    first.close()
    second = open_store(path)
    (sub,) = second.subscriptions()
    assert (sub["platform"], sub["time"], sub["tz"], sub["active"]) == (
        "console",
        "08:45",
        "Asia/Seoul",
        True,
    )
    second.close()


# --- who is an admin: Telegram getChatMember, Slack users.info, KAZKOR_ADMINS ------------------------


def test_telegram_admin_check_through_get_chat_member():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            fake.set_member_status(-100500, 1, "member")
            fake.set_member_status(-100500, 2, "administrator")
            fake.set_member_status(-100500, 3, "creator")
            fake.set_member_status(-100500, 4, "left")
            answers = {
                user: await telegram_is_admin(bot, -100500, "supergroup", user, frozenset())
                for user in (1, 2, 3, 4)
            }
            asked = fake.calls["getChatMember"]
            private = await telegram_is_admin(bot, 55, "private", 55, frozenset())
            listed = await telegram_is_admin(bot, -100500, "group", 1, frozenset({"1"}))
            prefixed = await telegram_is_admin(bot, -100500, "group", 1, frozenset({"telegram:1"}))
            return answers, asked, private, listed, prefixed, fake.calls["getChatMember"]

    answers, asked, private, listed, prefixed, calls_after = run(scenario())
    assert answers == {1: False, 2: True, 3: True, 4: False}
    assert asked == 4
    assert private and listed and prefixed
    assert calls_after == 4  # private chats and KAZKOR_ADMINS need no API call


def test_telegram_admin_check_failure_means_no():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            fake.fail_next("getChatMember", status=400, description="Bad Request: user not found")
            return await telegram_is_admin(bot, -100500, "group", 9, frozenset())

    assert run(scenario()) is False


def test_slack_admin_check_through_users_info():
    async def scenario():
        async with FakeSlack() as fake:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
            fake.set_user("U0ADMIN", is_admin=True)
            fake.set_user("U0OWNER", is_owner=True)
            fake.set_user("U0MEMBER")
            answers = {
                u: await slack_is_admin(client, u, frozenset()) for u in ("U0ADMIN", "U0OWNER", "U0MEMBER")
            }
            asked = fake.calls["users.info"]
            listed = await slack_is_admin(client, "U0MEMBER", frozenset({"U0MEMBER"}))
            fake.fail_next("users.info", "user_not_found")
            failed = await slack_is_admin(client, "U0GHOST", frozenset())
            return answers, asked, listed, failed

    answers, asked, listed, failed = run(scenario())
    assert answers == {"U0ADMIN": True, "U0OWNER": True, "U0MEMBER": False}
    assert asked == 3 and listed is True and failed is False


def test_a_telegram_group_member_is_refused_and_an_admin_subscribes(ctx, state):
    """The adapter's path: ask the platform, pass the answer in Command.extra, dispatch."""

    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            fake.set_member_status(-100500, 1001, "member")
            fake.set_member_status(-100500, 1002, "administrator")
            out = []
            for user in (1001, 1002):
                admin = await telegram_is_admin(bot, -100500, "supergroup", user, frozenset())
                out.append(dispatch(command("/subscribe 09:00", user=str(user), is_admin=admin), ctx))
            return out

    refused, accepted = run(scenario())
    assert refused.title == REFUSAL
    assert accepted.kind == "answer"
    assert state.subscription("telegram", "-100500")["created_by"] == "1002"


def test_a_slack_workspace_admin_subscribes_and_a_member_is_refused(ctx, state):
    async def scenario():
        async with FakeSlack() as fake:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
            fake.set_user("U0ADMIN", is_admin=True)
            out = []
            for user in ("U0MEMBER", "U0ADMIN"):
                admin = await slack_is_admin(client, user, frozenset())
                cmd = command(
                    "/subscribe 09:30 Asia/Almaty", platform="slack", channel="C0GENERAL", user=user
                )
                out.append(
                    dispatch(
                        Command(cmd.name, cmd.args, "slack", "C0GENERAL", user, {"is_admin": admin}), ctx
                    )
                )
            return out

    refused, accepted = run(scenario())
    assert refused.title == REFUSAL and accepted.kind == "answer"
    assert state.subscription("slack", "C0GENERAL")["time"] == "09:30"


def test_subscriptions_shows_five_reminders_even_when_the_next_three_months_hold_two(catalogue, state):
    # on 30 Nov the next 90 days hold only the 35th anniversary of relations (28 Jan, a week before and
    # on the day); the list looks far enough to find the five it promises (a year holds every one)
    ctx = Context(
        catalogue=catalogue,
        tz=ALMATY,
        clock=lambda: datetime.fromisoformat("2026-11-30T12:00:00+05:00"),
        state=state,
    )
    dispatch(command("/subscribe 09:00 Asia/Almaty", is_admin=True), ctx)
    shown = lines(dispatch(command("/subscriptions"), ctx))[:5]
    assert [line.split(" — ")[0] for line in shown] == [
        "21 Jan 2027 09:00",
        "28 Jan 2027 09:00",
        "5 Jun 2027 09:00",
        "12 Jun 2027 09:00",
        "1 Aug 2027 09:00",
    ]
    assert "35th anniversary of diplomatic relations (28 Jan 1992)" in shown[1]
    assert "state visit to Astana (12 Jun 2024)" in shown[3]
