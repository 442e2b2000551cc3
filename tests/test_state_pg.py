"""The state on a real PostgreSQL 15 server (a throwaway cluster: tests/postgres.py): the same code path
as SQLite for claims and fan-out, leader election by a session-level advisory lock with takeover and
catch-up, doctor's connectivity checks, migration, and the replica set's refusal to poll Telegram."""

from __future__ import annotations

import asyncio
import io
import os
import time

from sqlalchemy import text

from bot.config import Config
from bot.ops.doctor import check_state
from bot.reminders.delivery import post_due
from bot.reminders.schedule import ReminderService
from bot.state import StateStore
from bot.state.leader import Leadership, PostgresLeaderLock
from bot.state.opening import open_state
from tests.cli_kit import run_cli
from tests.conftest import ALMATY
from tests.helpers import claim_race
from tests.reminders_kit import (
    REFERENDUM_7D_ALMATY,
    REFERENDUM_KEY_7D,
    SettableClock,
    run,
    senders_for,
    subscribe,
)
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram


def test_claims_have_exactly_one_winner_across_stores_on_postgresql(pg_url):
    stores = [StateStore(pg_url) for _ in range(4)]
    assert stores[0].backend == "postgresql" and stores[0].schema_version() == 1
    keys = [f"telegram:-{i}:evt@0d:2024-10-06" for i in range(40)]
    assert sorted(claim_race(stores, keys, timeout=60)) == sorted(keys)
    stores[0].record_delivery(keys[0])
    batch = [(keys[0], {}), (keys[1], {}), ("telegram:-9:x", {}), ("telegram:-9:x", {})]
    assert stores[1].apply_ledger_batch([], batch, []) == ["delivered", "pending", "claimed", "pending"]
    stores[2].save_channel_setting("telegram", "-1", "language", "ko")
    stores[3].refresh_settings()  # as every replica's leadership step does
    assert stores[3].channel_setting("telegram", "-1", "language") == "ko"
    for store in stores:
        store.close()


def test_post_due_on_postgresql_sends_once_and_a_second_run_sends_nothing(pg_url, catalogue):
    state = StateStore(pg_url)
    subscribe(state, "telegram", "-100123")
    subscribe(state, "slack", "C0GENERAL")
    clock = SettableClock(REFERENDUM_7D_ALMATY)

    async def scenario(tmp):
        async with FakeTelegram() as tg, FakeSlack() as sl, senders_for(tmp, tg, sl) as senders:
            first = await post_due(state, catalogue, senders, clock=clock)
            second = await post_due(state, catalogue, senders, clock=clock)
            return first, second, len(tg.sent), len(sl.posted)

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        first, second, telegram, slack = run(scenario(Path(tmp) / "state.json"))
    assert (first.sent, second.sent, second.already_sent) == (2, 0, 2) and (telegram, slack) == (1, 1)
    assert {e["key"] for e in state.ledger()} == {
        f"telegram:-100123:{REFERENDUM_KEY_7D}",
        f"slack:C0GENERAL:{REFERENDUM_KEY_7D}",
    }
    state.close()


def test_the_scheduler_lock_has_one_holder_who_is_named_and_a_lost_session_loses_it(pg_url):
    store = StateStore(pg_url)
    first = PostgresLeaderLock(pg_url, "kazkor run")
    second = PostgresLeaderLock(pg_url, "kazkor run")
    assert first.try_acquire() and first.alive()
    assert not second.try_acquire()
    assert second.holder().startswith(f"kazkor run pid {os.getpid()} on ")
    # the server ends the leader's session (a network cut, a killed process): its lock goes with it
    _end_lock_session(store, first)
    assert not first.alive()
    assert second.try_acquire() and second.alive()
    first.dispose()
    second.dispose()
    store.close()


def _end_lock_session(store: StateStore, lock: PostgresLeaderLock) -> None:
    """End the session holding ``lock`` on the server, as a killed process or a network cut would."""
    with store.engine.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name "
            "AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"
        ), {"name": lock.name})  # fmt: skip
        conn.commit()


def test_a_follower_takes_over_when_the_leader_dies_and_catches_up_todays_missed_posts(pg_url, catalogue):
    """Two replicas' election loops on one database. The leader dies (its session is cut) before 09:00's
    posts went out; the follower is elected within the retry interval and its catch-up posts them once."""
    state = StateStore(pg_url)
    subscribe(state, "telegram", "-100123")
    subscribe(state, "telegram", "-100456")
    clock = SettableClock("2024-09-29T09:05:00+05:00")  # 09:00 has passed: catch-up is due

    async def scenario(tmp):
        async with FakeTelegram() as tg, senders_for(tmp, tg) as senders:
            started: list[str] = []

            def replica(name: str) -> tuple[Leadership, ReminderService]:
                service = ReminderService(state, catalogue, senders, tz=ALMATY, clock=clock, catch_up=True)

                async def elected() -> None:
                    started.append(name)
                    if name == "a":
                        return  # replica a dies before it posts anything
                    await service.start()

                return Leadership(PostgresLeaderLock(pg_url, f"kazkor run {name}"), elected, service.stop,
                                  retry=0.2, heartbeat=0.2), service  # fmt: skip

            a, _ = replica("a")
            b, service_b = replica("b")
            await a.start()
            await b.start()
            assert (a.leading, b.leading, started) == (True, False, ["a"])
            await asyncio.to_thread(a.lock.engine.dispose)  # not enough: the session is held by a.lock
            cut = time.monotonic()
            await asyncio.to_thread(_end_lock_session, state, a.lock)  # the process died: its session ends
            for _ in range(100):
                if b.leading:
                    break
                await asyncio.sleep(0.05)
            took = time.monotonic() - cut
            await tg.wait_for_sent(2, 10)
            if service_b.catch_up_task is not None:
                await service_b.catch_up_task
            await b.stop()
            a.leading = False  # its loop is what a dead process would leave behind
            await a.stop()
            return took, started, sorted(m.chat_id for m in tg.sent)

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        took, started, sent = run(scenario(Path(tmp) / "state.json"))
    assert started == ["a", "b"] and took < 5  # within a few retries (30 s is the promise)
    assert sent == [-100456, -100123]
    state.close()


def _check(config: Config) -> str:
    return "\n".join(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}" for c in check_state(config))


def test_doctor_checks_reachable_authenticated_and_schema_current_on_postgresql(postgres_server, pg_url):
    config = Config.from_env({"KAZKOR_STATE_URL": pg_url})
    assert "✗ state database: PostgreSQL 127.0.0.1:" in _check(config)  # no schema yet
    assert "reachable, but no kazkor schema yet" in _check(config)
    StateStore(pg_url).close()  # what `kazkor run` does first
    good = _check(config)
    assert good.startswith(f"✓ state database: PostgreSQL 127.0.0.1:{postgres_server.port}/")
    assert "schema version 1 (current); 0 subscriptions" in good
    wrong = Config.from_env({"KAZKOR_STATE_URL": postgres_server.url(pg_url.rsplit("/", 1)[1], "wrong")})
    assert "reachable, but not authenticated" in _check(wrong)
    assert "wrong" not in _check(wrong).split("(")[0]
    away = Config.from_env({"KAZKOR_STATE_URL": postgres_server.url("x", port=1)})
    assert "not reachable" in _check(away)
    out = io.StringIO()
    from bot.ops.doctor import run_doctor

    run_doctor(wrong, out)
    assert "wrong" not in out.getvalue().replace("wrong password", "")  # the password is scrubbed


def test_an_old_state_file_migrates_into_postgresql(tmp_path, pg_url):
    legacy = tmp_path / "state.json"
    legacy.write_text(
        '{"subscriptions": {"1": {"platform": "slack", "channel": "C1", "time": "08:00", '
        '"tz": "Asia/Seoul"}},'
        ' "ledger": {"1": {"key": "slack:C1:x@0d:2024-01-01", "sent_at": "2024-01-01T00:00:00+00:00"}}}'
    )
    config = Config.from_env({"KAZKOR_DB": str(legacy), "KAZKOR_STATE_URL": pg_url})
    store = open_state(config)
    assert "into PostgreSQL 127.0.0.1:" in store.migration_message
    assert [s["channel"] for s in store.subscriptions()] == ["C1"]
    assert store.delivered("slack:C1:x@0d:2024-01-01")
    assert not legacy.exists()
    store.close()


def test_a_replica_set_without_a_telegram_webhook_refuses_to_start_with_one_clear_line(pg_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))}
    env.update(KAZKOR_STATE_URL=pg_url, TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_API_URL="http://127.0.0.1:9/bot")
    result = run_cli("run", env=env)  # in-process: it refuses before starting anything
    assert result.returncode == 2
    assert result.stderr.startswith("kazkor run: KAZKOR_STATE_URL is PostgreSQL, where several replicas")
    assert "Set TELEGRAM_WEBHOOK_URL" in result.stderr and "Traceback" not in result.stderr
