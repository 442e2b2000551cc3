"""Delivery of reminders through the real platform libraries against the stand-ins: the ledger makes
each post happen once, and every platform fault ends the way the README says."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.cli import main
from bot.clock import fixed_clock
from bot.platforms.senders import TelegramSender
from bot.reminders.delivery import Delivery, RetryPolicy, post_due
from tests.conftest import open_store
from tests.reminders_kit import (
    FAST,
    REFERENDUM_7D_ALMATY,
    REFERENDUM_KEY_7D,
    env_for,
    run,
    senders_for,
    subscribe,
)
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram

CLOCK = fixed_clock(datetime.fromisoformat(REFERENDUM_7D_ALMATY))
AUG_2024 = date(2024, 8, 1)  # two month-precision reminders are due that day ("This month (Aug 2024): ...")


async def _post(state, catalogue, db, tg=None, sl=None, day=None, policy=FAST, **env):
    async with senders_for(db, tg, sl, **env) as senders:
        return await post_due(state, catalogue, senders, day, clock=CLOCK, policy=policy)


# --- exactly once ------------------------------------------------------------------------------------


def test_the_referendum_reminder_is_posted_once_per_channel_and_a_second_run_sends_nothing(
    state, db, catalogue
):
    subscribe(state, "telegram", "-100123")
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            first = await _post(state, catalogue, db, tg, sl)
            second = await _post(state, catalogue, db, tg, sl)
            return first, second, tg, sl

    first, second, tg, sl = run(scenario())
    assert (first.sent, first.already_sent, first.failed) == (1 + 1, 0, 0)
    assert (second.sent, second.already_sent, second.failed) == (0, 2, 0)
    assert second.line().startswith("sent 0, already sent 2, failed 0")
    (message,) = tg.sent
    assert message.chat_id == -100123 and message.parse_mode == "HTML"
    assert (
        "In 7 days (6 Oct 2024): Nationwide referendum on building a nuclear power plant"
        in message.visible_text
    )
    assert "Sources" in message.visible_text
    (posted,) = sl.posted
    assert posted.channel == "C0GENERAL" and "In 7 days (6 Oct 2024)" in posted.text and posted.blocks
    keys = {entry["key"] for entry in state.ledger()}
    assert keys == {f"telegram:-100123:{REFERENDUM_KEY_7D}", f"slack:C0GENERAL:{REFERENDUM_KEY_7D}"}


def test_a_restart_reads_the_ledger_and_sends_nothing_again(db, catalogue):
    first_state = open_store(db)
    subscribe(first_state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg:
            await _post(first_state, catalogue, db, tg)
            first_state.close()
            reopened = open_store(db)  # a new process: only the file remains
            summary = await _post(reopened, catalogue, db, tg)
            reopened.close()
            return summary, tg

    summary, tg = run(scenario())
    assert (summary.sent, summary.already_sent) == (0, 1)
    assert len(tg.sent) == 1 and tg.calls["sendMessage"] == 1


def test_kazkor_post_due_twice_reports_already_sent(db, capsys, monkeypatch):
    with FakeTelegram.run_in_thread() as tg, FakeSlack.run_in_thread() as sl:
        for name, value in env_for(db, tg, sl).items():
            monkeypatch.setenv(name, value)
        state = open_store(db)
        subscribe(state, "telegram", "-100123")
        subscribe(state, "slack", "C0GENERAL")
        subscribe(state, "console", "console")  # kept, never posted
        state.close()
        assert main(["post-due", "--date", "2024-09-29", "--force"]) == 0
        first = capsys.readouterr().out
        assert main(["post-due", "--date", "2024-09-29", "--force"]) == 0
        second = capsys.readouterr().out
        assert len(tg.sent) == 1 and len(sl.posted) == 1
    assert first.strip() == "sent 2, already sent 0, failed 0, deactivated 0"
    assert second.strip() == "sent 0, already sent 2, failed 0, deactivated 0"


def test_a_send_interrupted_by_a_crash_is_not_sent_again(state, db, catalogue):
    """The documented window: a pending mark without a ledger entry means the process died between
    writing the mark and recording the send. It is reported, never resent (no duplicate)."""
    subscribe(state, "telegram", "-100123")
    assert state.claim_delivery(f"telegram:-100123:{REFERENDUM_KEY_7D}") == "claimed"

    async def scenario():
        async with FakeTelegram() as tg:
            return await _post(state, catalogue, db, tg), tg

    summary, tg = run(scenario())
    assert (summary.sent, summary.unconfirmed, summary.failed) == (0, 1, 0)
    assert "unconfirmed 1" in summary.line()
    assert tg.calls["sendMessage"] == 0


def test_two_fan_outs_at_once_send_each_reminder_once(state, db, catalogue):
    """The catch-up and a scheduled job may overlap: per-channel locks plus the pending mark."""
    subscribe(state, "telegram", "-100123")
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl, senders_for(db, tg, sl) as senders:
            delivery = Delivery(state, catalogue, senders, policy=FAST, clock=CLOCK)
            subs = state.subscriptions()
            results = await asyncio.gather(delivery.run(subs), delivery.run(subs), delivery.run(subs))
            return results, tg, sl

    results, tg, sl = run(scenario())
    assert sum(r.sent for r in results) == 2 and sum(r.already_sent for r in results) == 4
    assert len(tg.sent) == 1 and len(sl.posted) == 1


def test_a_platform_without_credentials_is_reported_as_failed(state, db, catalogue):
    subscribe(state, "telegram", "-100123")
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeSlack() as sl:
            return await _post(state, catalogue, db, None, sl), sl

    summary, sl = run(scenario())
    assert (summary.sent, summary.failed) == (1, 1)
    assert any("telegram is not configured" in p for p in summary.problems)


# --- Telegram faults ----------------------------------------------------------------------------------


def test_telegram_429_waits_retry_after_and_delivers_once(state, db, catalogue):
    subscribe(state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next(
                "sendMessage",
                status=429,
                description="Too Many Requests: retry after 1",
                parameters={"retry_after": 1},
            )
            started = time.monotonic()
            summary = await _post(state, catalogue, db, tg)
            return summary, tg, time.monotonic() - started

    summary, tg, elapsed = run(scenario())
    assert (summary.sent, summary.failed) == (1, 0)
    assert tg.calls["sendMessage"] == 2 and len(tg.sent) == 1
    assert elapsed >= 0.95  # it waited as told


def test_telegram_403_forbidden_deactivates_the_subscription(state, db, catalogue):
    subscribe(state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next(
                "sendMessage", status=403, description="Forbidden: bot was kicked from the group chat"
            )
            first = await _post(state, catalogue, db, tg)
            second = await _post(state, catalogue, db, tg)
            return first, second, tg

    first, second, tg = run(scenario())
    assert (first.sent, first.deactivated, first.failed) == (0, 1, 0)
    sub = state.subscription("telegram", "-100123")
    assert sub["active"] is False and "kicked" in sub["inactive_reason"]
    assert (second.sent, second.deactivated) == (0, 0)
    assert tg.calls["sendMessage"] == 1  # nothing is tried on an inactive subscription
    assert state.unconfirmed_claims() == []  # the failed send dropped its pending mark


def test_telegram_chat_not_found_deactivates(state, db, catalogue):
    subscribe(state, "telegram", "-100404")

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
            return await _post(state, catalogue, db, tg)

    assert run(scenario()).deactivated == 1
    assert state.subscription("telegram", "-100404")["active"] is False


def test_telegram_chat_migrated_moves_the_subscription_and_resends_there(state, db, catalogue):
    subscribe(state, "telegram", "-4001", thread=None)
    state.record_delivery("telegram:-4001:older@0d:2024-01-01", platform="telegram")  # an older post

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next(
                "sendMessage",
                status=400,
                description="Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": -1009001},
            )
            first = await _post(state, catalogue, db, tg)
            again = await _post(state, catalogue, db, tg)
            return first, again, tg

    first, again, tg = run(scenario())
    assert (first.sent, first.moved, first.failed) == (1, 1, 0)
    assert [m.chat_id for m in tg.sent] == [-1009001]
    assert state.subscription("telegram", "-4001") is None
    moved = state.subscription("telegram", "-1009001")
    assert moved["active"] is True and moved["time"] == "09:00"
    keys = {entry["key"] for entry in state.ledger()}
    assert keys == {f"telegram:-1009001:{REFERENDUM_KEY_7D}", "telegram:-1009001:older@0d:2024-01-01"}
    assert (again.sent, again.already_sent) == (0, 1)


def test_telegram_5xx_is_retried_with_backoff_and_delivered_once(state, db, catalogue):
    subscribe(state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next("sendMessage", status=502, description="Bad Gateway", count=2)
            return await _post(state, catalogue, db, tg), tg

    summary, tg = run(scenario())
    assert (summary.sent, summary.failed) == (1, 0)
    assert tg.calls["sendMessage"] == 3 and len(tg.sent) == 1


def test_telegram_5xx_retries_are_bounded(state, db, catalogue):
    subscribe(state, "telegram", "-100123")
    policy = RetryPolicy(transient_retries=3, backoff_base=0.01, backoff_max=0.02)

    async def scenario():
        async with FakeTelegram() as tg:
            tg.fail_next("sendMessage", status=500, description="Internal Server Error", count=50)
            return await _post(state, catalogue, db, tg, policy=policy), tg

    summary, tg = run(scenario())
    assert (summary.sent, summary.failed) == (0, 1)
    assert tg.calls["sendMessage"] == 4  # one try and three retries
    assert state.unconfirmed_claims() == []  # it will be tried again on the next run


async def _black_hole() -> tuple[asyncio.Server, int, list[int]]:
    """A loopback server that accepts connections and never answers: every request times out."""
    accepted: list[int] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await reader.read()  # until the client gives up
        finally:
            writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


def test_a_telegram_timeout_after_the_request_left_is_never_resent_but_counted_and_reported(state, catalogue):
    """The request reached the server and no answer came: the post may be in the chat. Resending it was
    how posts got doubled; now the claim stays, the post counts as unconfirmed, and a later run skips it."""
    subscribe(state, "telegram", "-100123")
    policy = RetryPolicy(transient_retries=2, backoff_base=0.01, backoff_max=0.02)

    async def scenario():
        server, port, accepted = await _black_hole()
        request = HTTPXRequest(
            connection_pool_size=4, read_timeout=0.3, write_timeout=0.3, connect_timeout=0.3
        )
        bot = Bot("123:abc", base_url=f"http://127.0.0.1:{port}/bot", request=request)
        try:
            summaries = []
            for _ in range(2):  # the second run is the scheduler's same-day follow-up
                delivery = Delivery(
                    state, catalogue, {"telegram": TelegramSender(bot)}, policy=policy, clock=CLOCK
                )
                summaries.append(await delivery.run(state.subscriptions()))
            return summaries, len(accepted)
        finally:
            await request.shutdown()
            server.close()

    (first, second), attempts = run(scenario())
    assert attempts == 1  # sent once, never retried
    assert (first.sent, first.failed, first.unconfirmed) == (0, 0, 1)
    assert any("not resent" in p and REFERENDUM_KEY_7D in p for p in first.problems)
    assert "unconfirmed 1" in first.line()
    assert (second.sent, second.unconfirmed) == (0, 1)
    assert [c["key"] for c in state.unconfirmed_claims()] == [f"telegram:-100123:{REFERENDUM_KEY_7D}"]


# --- Slack faults -------------------------------------------------------------------------------------


def test_slack_429_retry_after_is_honoured_and_delivered_once(state, db, catalogue):
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeSlack() as sl:
            sl.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)
            started = time.monotonic()
            summary = await _post(state, catalogue, db, None, sl)
            return summary, sl, time.monotonic() - started

    summary, sl, elapsed = run(scenario())
    assert (summary.sent, summary.failed) == (1, 0)
    assert sl.calls["chat.postMessage"] == 2 and len(sl.posted) == 1
    assert elapsed >= 0.95


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
def test_slack_channel_gone_deactivates(state, db, catalogue, error):
    subscribe(state, "slack", "C0GONE")

    async def scenario():
        async with FakeSlack() as sl:
            sl.fail_next("chat.postMessage", error)
            return await _post(state, catalogue, db, None, sl)

    summary = run(scenario())
    assert (summary.sent, summary.deactivated, summary.failed) == (0, 1, 0)
    sub = state.subscription("slack", "C0GONE")
    assert sub["active"] is False and error in sub["inactive_reason"]


def test_slack_5xx_is_retried(state, db, catalogue):
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeSlack() as sl:
            sl.fail_next("chat.postMessage", "internal_error", status=500, count=2)
            return await _post(state, catalogue, db, None, sl), sl

    summary, sl = run(scenario())
    assert summary.sent == 1 and sl.calls["chat.postMessage"] == 3 and len(sl.posted) == 1


def test_slack_invalid_auth_stops_slack_and_telegram_still_delivers(state, db, catalogue, caplog):
    for channel in ("C01", "C02", "C03"):
        subscribe(state, "slack", channel)
    subscribe(state, "telegram", "-100123")

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            # our token is not the workspace's: every call answers invalid_auth
            summary = await _post(state, catalogue, db, tg, sl, day=AUG_2024, SLACK_BOT_TOKEN="xoxb-revoked")
            return summary, tg, sl

    summary, tg, sl = run(scenario())
    assert summary.sent == 2 and len(tg.sent) == 2  # Telegram went on
    assert summary.failed == 6  # 3 Slack channels x 2 reminders, reported
    assert sl.calls["chat.postMessage"] <= 3  # Slack stopped after the refusal
    assert len(sl.posted) == 0
    assert any("AUTHENTICATION FAILED" in r.getMessage() for r in caplog.records)
    assert all(state.subscription("slack", c)["active"] for c in ("C01", "C02", "C03"))  # not deactivated


def test_several_reminders_on_one_day_go_to_a_channel_in_order(state, db, catalogue):
    subscribe(state, "slack", "C0GENERAL")

    async def scenario():
        async with FakeSlack() as sl:
            return await _post(state, catalogue, db, None, sl, day=AUG_2024), sl

    summary, sl = run(scenario())
    assert summary.sent == 2 and len(sl.posted) == 2
    # anniversaries first, then events by date and title: the order /upcoming shows them in; both are
    # known to the month only, so they come on the 1st and say "This month", never a made-up day
    firsts = [p.text.splitlines()[0] for p in sl.posted]
    assert firsts == [
        "This month (Aug 2024): 3rd anniversary of President Kassym-Jomart Tokayev's visit to Seoul and "
        "summit with President Moon Jae-in (Aug 2021)",
        "This month (Aug 2024): Korea's Trade Ministry announces expanding FTA partners to 76 countries",
    ]
    # each post names its own source: the visit rests on the 2021 article, the FTA news on JoongAng
    assert "unattributed article, Aug 2021" in sl.posted[0].text
    assert "Korea JoongAng Daily, Sep 2024" in sl.posted[1].text


# --- the ledger's group commit ----------------------------------------------------------------------


def test_ledger_batches_are_one_write_and_survive_a_reopen(db):
    state = open_store(db)
    assert state.apply_ledger_batch([], [("a", {}), ("b", {}), ("a", {})], []) == [
        "claimed",
        "claimed",
        "pending",
    ]
    # a released key claimed again in the same batch keeps its new mark; recording drops the mark
    assert state.apply_ledger_batch(["a"], [("a", {"n": 2})], [("b", {"sent_at": "x"})]) == ["claimed"]
    assert state.delivered("b") and not state.delivered("a")
    assert [c["key"] for c in state.unconfirmed_claims()] == ["a"]
    state.record_delivery("c", platform="slack")  # TinyDB's own insert after a raw write: ids stay unique
    assert state.claim_delivery("d") == "claimed"
    state.close()
    reopened = open_store(db)
    assert {e["key"] for e in reopened.ledger()} == {"b", "c"}
    assert {c["key"] for c in reopened.unconfirmed_claims()} == {"a", "d"}
    assert reopened.apply_ledger_batch([], [("b", {}), ("a", {})], []) == ["delivered", "pending"]
    reopened.close()
