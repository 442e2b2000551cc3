"""The reminder scheduler: one cron job per subscription at its local time, catch-up after downtime,
no duplicates after a restart, and a clean stop. "Today" comes from a settable clock; to make a job
fire now, the test moves its next run time (APScheduler fires on the real clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.commands import Command, Context, dispatch
from bot.reminders.schedule import ReminderService, fire_job_id
from tests.conftest import ALMATY, open_store
from tests.reminders_kit import (
    BUSY_DAY,
    FAST,
    REFERENDUM_7D_ALMATY,
    REFERENDUM_KEY_7D,
    SettableClock,
    busy_catalogue,
    run,
    senders_for,
    subscribe,
)
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram

NEW_YORK = ZoneInfo("America/New_York")


def service_for(state, catalogue, senders, clock, **kw) -> ReminderService:
    return ReminderService(state, catalogue, senders, tz=ALMATY, clock=clock, policy=FAST, **kw)


def service_and_commands(state, catalogue, senders, clock) -> tuple[ReminderService, Context]:
    """A scheduler (no catch-up) and a command context wired to it, as `kazkor run` wires them."""
    service = service_for(state, catalogue, senders, clock, catch_up=False)
    ctx = Context(catalogue=catalogue, tz=ALMATY, clock=clock, state=state)
    ctx.on_subscriptions_changed = service.notify_changed
    return service, ctx


def job_of(service: ReminderService, platform: str, channel: str) -> str:
    """The id of the job that posts to this channel: the one of its fire time (HH:MM, zone)."""
    sub = service.state.subscription(platform, channel)
    return fire_job_id((sub["time"], sub["tz"]))


async def fire(service: ReminderService, platform: str, channel: str) -> None:
    """Make the job fire now and wait (bounded) until its fan-out has finished."""
    before = service.fired
    service.scheduler.modify_job(job_of(service, platform, channel), next_run_time=datetime.now(UTC))
    for _ in range(500):
        await asyncio.sleep(0.01)
        if service.fired > before and not service.busy:
            return
    raise TimeoutError("the job did not fire and finish")


def test_one_cron_job_per_fire_time_at_its_local_time(state, db, catalogue):
    subscribe(state, "telegram", "-100123", time="09:00", tz="Asia/Almaty")
    subscribe(state, "slack", "C0ALMATY", time="09:00", tz="Asia/Almaty")  # same fire time: same job
    subscribe(state, "slack", "C0NYC", time="09:00", tz="America/New_York")
    subscribe(state, "slack", "C0OFF", time="10:00")
    state.save_subscription({**state.subscription("slack", "C0OFF"), "active": False})
    subscribe(state, "console", "console", time="11:00")

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl, senders_for(db, tg, sl) as senders:
            service = service_for(
                state, catalogue, senders, SettableClock("2024-09-28T12:00:00+05:00"), catch_up=False
            )
            await service.start()
            try:
                jobs = {job.id: job for job in service.scheduler.get_jobs()}
                after = datetime(2024, 9, 28, 23, 0, tzinfo=ALMATY)  # 14:00 in New York
                return {jid: job.trigger.get_next_fire_time(None, after) for jid, job in jobs.items()}
            finally:
                await service.stop()

    fires = run(scenario())
    # inactive (10:00) and console (11:00): no job
    assert set(fires) == {"reminders:09:00:Asia/Almaty", "reminders:09:00:America/New_York"}
    assert fires["reminders:09:00:Asia/Almaty"] == datetime(2024, 9, 29, 9, 0, tzinfo=ALMATY)
    ny = fires["reminders:09:00:America/New_York"]
    assert ny == datetime(2024, 9, 29, 9, 0, tzinfo=NEW_YORK)  # its own 09:00 (13:00 UTC, EDT)
    assert ny.astimezone(UTC) == datetime(2024, 9, 29, 13, 0, tzinfo=UTC)


def test_the_referendum_reminder_is_delivered_at_each_channels_local_nine(state, db, catalogue):
    subscribe(state, "telegram", "-100123", tz="Asia/Almaty")
    subscribe(state, "telegram", "-100777", tz="America/New_York")
    clock = SettableClock("2024-09-29T09:00:00+05:00")

    async def scenario():
        async with FakeTelegram() as tg, senders_for(db, tg) as senders:
            service = service_for(state, catalogue, senders, clock, catch_up=False)
            await service.start()
            try:
                await fire(service, "telegram", "-100123")  # 09:00 in Almaty
                after_almaty = [m.chat_id for m in tg.sent]
                clock.set("2024-09-29T09:00:00-04:00")  # 09:00 in New York, 18:00 in Almaty
                await fire(service, "telegram", "-100777")
                return after_almaty, tg.sent
            finally:
                await service.stop()

    after_almaty, sent = run(scenario())
    assert after_almaty == [-100123]
    assert [m.chat_id for m in sent] == [-100123, -100777]
    assert all("In 7 days (6 Oct 2024): Nationwide referendum" in m.visible_text for m in sent)
    assert {e["key"] for e in state.ledger()} == {
        f"telegram:-100123:{REFERENDUM_KEY_7D}",
        f"telegram:-100777:{REFERENDUM_KEY_7D}",
    }


def test_catch_up_after_downtime_posts_todays_missed_reminders_only_where_the_time_has_passed(
    state, db, catalogue
):
    subscribe(state, "telegram", "-100123", tz="Asia/Almaty")  # 09:00 Almaty: passed
    subscribe(state, "telegram", "-100777", tz="America/New_York")  # 09:00 New York: still ahead
    clock = SettableClock("2024-09-29T10:30:00+05:00")  # up again at 10:30 in Almaty (01:30 in New York)

    async def scenario():
        async with FakeTelegram() as tg, senders_for(db, tg) as senders:
            service = service_for(state, catalogue, senders, clock)
            await service.start()
            try:
                summary = await asyncio.wait_for(service.catch_up_task, 10)
                return summary, tg.sent
            finally:
                await service.stop()

    summary, sent = run(scenario())
    assert summary.sent == 1
    assert [m.chat_id for m in sent] == [-100123]


def test_catch_up_reads_only_the_subscriptions_whose_time_has_passed(state, db, catalogue, monkeypatch):
    """Issue 9 (RSS < 100 MB with 10,000 subscriptions): the catch-up at start reads the subscriptions of
    the fire times already past today, not every subscription."""
    subscribe(state, "telegram", "-100123", tz="Asia/Almaty")  # 09:00 Almaty: passed
    subscribe(state, "telegram", "-100777", tz="America/New_York")  # 09:00 New York: still ahead
    read = []
    monkeypatch.setattr(state, "subscriptions", lambda: read.append("all") or [])
    real_at = state.subscriptions_at
    monkeypatch.setattr(state, "subscriptions_at", lambda at: read.append(at) or real_at(at))
    clock = SettableClock("2024-09-29T10:30:00+05:00")

    async def scenario():
        async with FakeTelegram() as tg, senders_for(db, tg) as senders:
            service = service_for(state, catalogue, senders, clock)
            await service.start()
            try:
                return await asyncio.wait_for(service.catch_up_task, 10), tg.sent
            finally:
                await service.stop()

    summary, sent = run(scenario())
    assert summary.sent == 1 and [m.chat_id for m in sent] == [-100123]
    assert read[0] == ("09:00", "Asia/Almaty") and "all" not in read
    assert ("09:00", "America/New_York") not in read


@pytest.mark.parametrize(
    "now",
    [
        "2024-09-30T10:00:00+05:00",  # the 7-day reminder was due yesterday: not posted late
        "2024-10-07T10:00:00+05:00",  # the referendum was yesterday: never reminded after the event
    ],
)
def test_catch_up_never_posts_a_late_reminder_or_about_a_past_event(state, db, catalogue, now):
    subscribe(state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg, senders_for(db, tg) as senders:
            service = service_for(state, catalogue, senders, SettableClock(now))
            await service.start()
            try:
                summary = await asyncio.wait_for(service.catch_up_task, 10)
                return summary, tg.calls["sendMessage"]
            finally:
                await service.stop()

    summary, calls = run(scenario())
    assert summary.sent == 0 and calls == 0


def test_no_duplicate_after_a_restart(db, catalogue):
    clock = SettableClock("2024-09-29T10:00:00+05:00")
    first_state = open_store(db)
    subscribe(first_state, "telegram", "-100123")
    subscribe(first_state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            states = []
            summaries = []
            for _ in range(2):  # start, catch up, stop; then "restart" with the file only
                store = first_state if not states else open_store(db)
                states.append(store)
                async with senders_for(db, tg, sl) as senders:
                    service = service_for(store, catalogue, senders, clock)
                    await service.start()
                    summaries.append(await asyncio.wait_for(service.catch_up_task, 10))
                    await fire(service, "telegram", "-100123")  # the job fires too: nothing new
                    await service.stop()
                store.close()
            return summaries, tg, sl

    (first, second), tg, sl = run(scenario())
    assert (first.sent, second.sent, second.already_sent) == (2, 0, 2)
    assert len(tg.sent) == 1 and len(sl.posted) == 1


def test_subscribe_and_unsubscribe_rebuild_the_jobs(state, db, catalogue):
    clock = SettableClock("2024-09-28T12:00:00+05:00")

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service, ctx = service_and_commands(state, catalogue, senders, clock)
            await service.start()
            try:
                assert service.scheduler.get_jobs() == []

                async def say(text: str) -> None:
                    name, *args = text.split()
                    command = Command(name, tuple(args), "slack", "C0NEW", "U0ADMIN", {"is_admin": True})
                    await asyncio.to_thread(dispatch, command, ctx)  # as the front ends answer it
                    await sl.wait_until(lambda: not service.busy, 5, "the rebuild")

                await say("subscribe 07:15 Asia/Seoul")
                first = service.next_run(("07:15", "Asia/Seoul"))
                await say("subscribe 08:00 Asia/Seoul")
                second = service.next_run(("08:00", "Asia/Seoul"))
                gone = service.next_run(("07:15", "Asia/Seoul"))
                await say("unsubscribe")
                assert gone is None  # the 07:15 job went with its last subscriber
                return first, second, service.scheduler.get_jobs()
            finally:
                await service.stop()

    first, second, jobs_after = run(scenario())
    seoul = ZoneInfo("Asia/Seoul")
    assert (first.astimezone(seoul).hour, first.astimezone(seoul).minute) == (7, 15)
    assert (second.astimezone(seoul).hour, second.astimezone(seoul).minute) == (8, 0)
    assert jobs_after == []


async def fire_through_an_outage(service: ReminderService, sl: FakeSlack, channel: str) -> None:
    """Fire the channel's job while Slack fails every try the retry policy allows (bounded wait)."""
    attempts = FAST.transient_retries + 1
    sl.fail_next("chat.postMessage", "internal_error", count=attempts)
    service.scheduler.modify_job(job_of(service, "slack", channel), next_run_time=datetime.now(UTC))
    await sl.wait_until(lambda: sl.calls["chat.postMessage"] == attempts, 5, "every try to fail")


def test_posts_that_failed_are_tried_again_later_the_same_day_and_sent_once(state, db, catalogue):
    """Slack fails every try of the 09:00 post (an outage longer than the retries): the channel is
    tried again later that day and gets its reminder once; nothing is doubled."""
    subscribe(state, "slack", "C0GENERAL")
    clock = SettableClock(REFERENDUM_7D_ALMATY)

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service = service_for(
                state, catalogue, senders, clock, catch_up=False, follow_up_delays=(0.3, 0.3)
            )
            await service.start()
            try:
                await fire_through_an_outage(service, sl, "C0GENERAL")
                assert sl.posted == []
                await sl.wait_until(lambda: len(sl.posted) == 1, 5, "the follow-up post")
                await sl.wait_until(lambda: not service.busy, 5, "the follow-up to end")
                return sl
            finally:
                await service.stop()

    sl = run(scenario())
    (post,) = sl.posted
    assert post.text.startswith(
        "In 7 days (6 Oct 2024): Nationwide referendum on building a nuclear power plant"
    )
    assert [e["key"] for e in state.ledger()] == [f"slack:C0GENERAL:{REFERENDUM_KEY_7D}"]
    assert sl.calls["chat.postMessage"] == FAST.transient_retries + 2  # no second follow-up was needed


def test_a_follow_up_is_dropped_when_the_day_has_changed(state, db, catalogue):
    subscribe(state, "slack", "C0GENERAL")
    clock = SettableClock(REFERENDUM_7D_ALMATY)

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service = service_for(state, catalogue, senders, clock, catch_up=False, follow_up_delays=(0.3,))
            await service.start()
            try:
                await fire_through_an_outage(service, sl, "C0GENERAL")
                clock.set("2024-09-30T00:05:00+05:00")  # past midnight in Almaty before the follow-up
                await sl.wait_until(lambda: not service.busy, 5, "the follow-up to end")
                return sl
            finally:
                await service.stop()

    sl = run(scenario())
    assert sl.posted == [] and state.ledger() == []  # "in 7 days" is not posted on the 6th day before


def test_a_deactivated_subscription_loses_its_job(state, db, catalogue):
    subscribe(state, "slack", "C0GONE")

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service = service_for(
                state, catalogue, senders, SettableClock("2024-09-29T09:00:00+05:00"), catch_up=False
            )
            await service.start()
            try:
                sl.fail_next("chat.postMessage", "is_archived")
                await fire(service, "slack", "C0GONE")
                return service.scheduler.get_jobs()
            finally:
                await service.stop()

    assert run(scenario()) == []
    assert state.subscription("slack", "C0GONE")["active"] is False


def test_stop_lets_the_send_in_flight_finish_and_record_then_stops(state, db):
    catalogue = busy_catalogue()
    subscribe(state, "slack", "C0GENERAL")  # seven reminders are due on the busy day
    clock = SettableClock(BUSY_DAY)

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service = service_for(state, catalogue, senders, clock, catch_up=False)
            await service.start()
            sl.delay_next("chat.postMessage", 0.2, count=10)
            service.scheduler.modify_job(
                job_of(service, "slack", "C0GENERAL"), next_run_time=datetime.now(UTC)
            )
            await sl.wait_until(lambda: sl.calls["chat.postMessage"] >= 2, 5, "the second post in flight")
            await service.stop()  # the second post is in flight
            return sl

    sl = run(scenario())
    assert len(sl.posted) == 2 and sl.calls["chat.postMessage"] == 2  # in flight finished, no third
    assert len(state.ledger()) == 2  # ... and was recorded
    assert state.unconfirmed_claims() == []


def test_unsubscribe_during_a_fan_out_stops_the_posts_not_yet_sent(state, db):
    catalogue = busy_catalogue()
    subscribe(state, "slack", "C0GENERAL")  # seven reminders are due on the busy day
    clock = SettableClock(BUSY_DAY)

    async def scenario():
        async with FakeSlack() as sl, senders_for(db, None, sl) as senders:
            service, ctx = service_and_commands(state, catalogue, senders, clock)
            await service.start()
            try:
                sl.delay_next("chat.postMessage", 0.3, count=10)
                service.scheduler.modify_job(
                    job_of(service, "slack", "C0GENERAL"), next_run_time=datetime.now(UTC)
                )
                await sl.wait_until(lambda: sl.calls["chat.postMessage"] >= 2, 5, "the second post in flight")
                command = Command("unsubscribe", (), "slack", "C0GENERAL", "U0ADMIN", {"is_admin": True})
                reply = dispatch(command, ctx)
                await sl.wait_until(lambda: not service.busy, 5, "the fan-out to end")
                return reply, sl
            finally:
                await service.stop()

    reply, sl = run(scenario())
    assert reply.title == "This channel will no longer get reminders. Start again with /subscribe."
    # the post in flight when the admin unsubscribed went out and was recorded; none of the other five
    assert len(sl.posted) == 2 and sl.calls["chat.postMessage"] == 2
    assert len(state.ledger()) == 2 and state.unconfirmed_claims() == []


def test_kazkor_run_end_to_end_subscribe_in_a_forum_topic_then_the_job_posts_there(tmp_path, catalogue):
    """The real Telegram front end and scheduler in ``kazkor run``'s runtime: a group admin subscribes in a
    forum topic, a member is refused, the job fires at the subscription's time and posts in that topic."""
    from tests.running import loopback_config, running

    clock = SettableClock("2024-09-28T12:00:00+05:00")
    state = open_store(tmp_path / "state.json")
    ctx = Context(catalogue=catalogue, tz=ALMATY, clock=clock, state=state)

    async def scenario():
        async with FakeTelegram() as tg:
            config = loopback_config(tmp_path, telegram_token=tg.token, telegram_api_url=tg.base_url)
            async with running(config, ctx) as runtime:
                service = runtime.reminders
                tg.set_member_status(-1009777, 1001, "member")
                tg.set_member_status(-1009777, 1002, "administrator")
                tg.push_command(-1009777, "/subscribe 09:00", chat_type="supergroup", user_id=1001)
                tg.push_command(
                    -1009777,
                    "/subscribe 09:00",
                    chat_type="supergroup",
                    user_id=1002,
                    thread_id=9,
                    is_topic=True,
                )
                replies = await tg.wait_for_sent(2, 10)
                for _ in range(200):  # elected (the only process), then the hook rebuilds the jobs
                    if service.scheduler is not None and service.scheduler.get_job(
                        "reminders:09:00:Asia/Almaty"
                    ):
                        break
                    await asyncio.sleep(0.01)
                clock.set("2024-09-29T09:00:00+05:00")
                await fire(service, "telegram", "-1009777")
                return [m.visible_text for m in replies], tg.sent[2:]

    replies, posted = run(scenario())
    state.close()
    assert replies[0].startswith("Only channel admins can change this channel's reminders.")
    assert replies[1].startswith("This channel will get reminders at 09:00 (Asia/Almaty)")
    (reminder,) = posted
    assert reminder.chat_id == -1009777 and reminder.message_thread_id == 9
    assert reminder.visible_text.startswith("In 7 days (6 Oct 2024): Nationwide referendum")
