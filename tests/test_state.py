"""The state database (SQLite here; PostgreSQL in test_state_pg.py): crash safety under SIGKILL, claims
that make a send exactly once, retention, bad records, the migration of an old TinyDB state file, a full
disk, and facts added at run time (the TinyDB fact store)."""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.config import Config
from bot.reminders.delivery import post_due
from bot.state import StateStore
from bot.state.leader import LeaderBusy, SqliteLeaderLock, take_or_refuse
from bot.state.opening import open_state
from facts.model import DataError
from facts.store import FactStore, load_catalogue
from tests.conftest import open_store
from tests.helpers import claim_race
from tests.kill_writer import write_until_killed
from tests.reminders_kit import REFERENDUM_7D_ALMATY, SettableClock, run, senders_for, subscribe
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram

KILLS = 12  # bounded: each round lasts at most ~2 s


def _sub(channel: str, **over) -> dict:
    return {"platform": "telegram", "channel": channel, "time": "09:00", "tz": "Asia/Almaty", **over}


def test_a_writer_killed_mid_write_never_loses_an_acknowledged_write(tmp_path):
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    acknowledged: set[str] = set()
    next_start = 0
    rng = random.Random(1234)
    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload(["tests.kill_writer"])
    for _ in range(KILLS):
        acks, child_end = forks.Pipe(duplex=False)
        proc = forks.Process(target=write_until_killed, args=(url, next_start, child_end))
        proc.start()
        child_end.close()  # ours: so the pipe ends when the writer dies
        if not acks.poll(20):
            proc.kill()
            proc.join(10)
            raise AssertionError("the writer acknowledged nothing within 20 s")
        time.sleep(rng.uniform(0.0, 0.3))
        proc.kill()  # SIGKILL
        proc.join(10)
        assert proc.exitcode == -signal.SIGKILL
        numbers = []
        while acks.poll():
            try:
                numbers.append(acks.recv())
            except EOFError:
                break
        acks.close()
        acknowledged.update(f"telegram:-{n}:k" for n in numbers)
        next_start = max(numbers) + 1000
        # after every kill the database opens, is intact and holds every write that returned
        with sqlite3.connect(tmp_path / "state.sqlite3") as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        store = StateStore(url)
        assert acknowledged <= {doc["key"] for doc in store.ledger()}
        store.close()
    assert len(acknowledged) > KILLS


def test_subscriptions_ledger_and_settings_survive_a_reopen(db):
    store = open_store(db)
    store.save_subscription(_sub("-100"))
    store.save_subscription(_sub("-100", time="08:30"))
    store.record_delivery("telegram:-100:k", day="2024-09-29")
    store.save_channel_setting("telegram", "-100", "language", "ru")
    store.close()
    again = open_store(db)
    (sub,) = again.subscriptions()
    assert (sub["channel"], sub["time"], sub["tz"], sub["leads"]) == ("-100", "08:30", "Asia/Almaty", [7, 0])
    assert again.delivered("telegram:-100:k") and not again.delivered("telegram:-100:other")
    assert again.channel_settings("telegram", "-100") == {"language": "ru"}
    again.save_channel_setting("telegram", "-100", "language", None)
    assert again.channel_setting("telegram", "-100", "language") is None
    assert again.schema_version() == 1
    again.close()


def test_a_claim_has_exactly_one_winner_among_many_threads_and_stores(db):
    """Eight threads on four stores (as four processes would) race for the same 50 keys: each key is
    claimed exactly once; the losers see "pending" (in flight elsewhere) or "delivered"."""
    stores = [open_store(db) for _ in range(4)]
    keys = [f"telegram:-{i}:evt@0d:2024-10-06" for i in range(50)]
    assert sorted(claim_race(stores, keys, timeout=30)) == sorted(keys)
    stores[0].record_delivery(keys[0])
    assert stores[1].claim_delivery(keys[0]) == "delivered" and stores[2].claim_delivery(keys[1]) == "pending"
    # a batch answers the same way, and a key claimed twice in one batch is won once
    batch = [(keys[0], {}), ("telegram:-9:x", {}), ("telegram:-9:x", {})]
    assert stores[3].apply_ledger_batch([], batch, []) == [
        "delivered", "claimed", "pending",
    ]  # fmt: skip
    for store in stores:
        store.close()


def test_retention_prunes_old_sent_entries_in_small_batches_and_keeps_pending_claims(db):
    store = open_store(db)
    now = time.time()
    old = now - 401 * 86400
    from bot.state.schema import ledger

    def row(key: str, status: str, created: float) -> dict:
        return {"key": key, "status": status, "platform": "telegram", "channel": "-1", "created": created,
                "details": "{}"}  # fmt: skip

    rows = [row(f"telegram:-1:old{i}", "sent", old) for i in range(2500)]
    rows += [row("telegram:-1:old-pending", "pending", old)]
    rows += [row("telegram:-1:recent", "sent", now - 399 * 86400)]
    with store.engine.begin() as conn:
        conn.execute(ledger.insert(), rows)
    assert store.prune_ledger(batch=1000, max_batches=1) == 1000  # one small batch at a time
    assert store.prune_ledger(batch=1000) == 1500
    assert store.statuses(["telegram:-1:old-pending", "telegram:-1:recent", "telegram:-1:old7"]) == {
        "telegram:-1:old-pending": "pending",
        "telegram:-1:recent": "sent",
    }
    store.close()


def test_a_bad_record_is_skipped_and_logged_with_its_id_while_other_channels_are_served(db, caplog):
    store = open_store(db)
    store.save_subscription(_sub("-100GOOD"))
    with store.engine.begin() as conn:  # as a hand edit or an older kazkor could leave them
        conn.exec_driver_sql(
            "INSERT INTO subscriptions VALUES ('telegram', '-100BAD', '99:99', 'UTC', 1, "
            '\'{"time": "99:99", "tz": "UTC"}\')'
        )
        conn.exec_driver_sql(
            "INSERT INTO subscriptions VALUES ('slack', 'CZONE', '09:00', 'Mars/Olympus', 1, "
            '\'{"time": "09:00", "tz": "Mars/Olympus"}\')'
        )
        conn.exec_driver_sql("INSERT INTO subscriptions VALUES ('slack', 'CJUNK', '09:00', 'UTC', 1, '[[[')")
    with caplog.at_level(logging.ERROR):
        assert [s["channel"] for s in store.subscriptions()] == ["-100GOOD"]
        store.subscriptions()  # logged once, not on every read
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 3
    assert any("subscription telegram:-100BAD: time '99:99' is not HH:MM" in line for line in logged)
    assert sorted(store.bad_records()) == [
        "subscription slack:CJUNK: the stored record does not parse",
        "subscription slack:CZONE: time zone 'Mars/Olympus' is not known on this machine",
        "subscription telegram:-100BAD: time '99:99' is not HH:MM",
    ]
    store.close()


def _legacy_file(path: Path) -> None:
    path.write_text(
        json.dumps(
            {
                "subscriptions": {
                    "1": {**_sub("-100A"), "leads": [7, 0], "active": True, "created_by": "u1"},
                    "2": {**_sub("-100B", time="99:99")},  # bad: skipped and named
                    "3": {"platform": "slack", "time": "09:00", "tz": "UTC"},  # bad: no channel
                },
                "ledger": {
                    "1": {"key": "telegram:-100A:evt@7d:2024-10-06", "day": "2024-09-29",
                          "sent_at": "2024-09-29T04:00:01+00:00"},
                    "2": {"channel": "-100A"},  # bad: no key
                },
                "pending": {"1": {"key": "telegram:-100A:evt@0d:2024-10-06", "day": "2024-10-06"}},
                "settings": {"1": {"platform": "telegram", "channel": "-100A", "values": {"language": "ru"}}},
                "facts": {"1": {"kind": "event", "record": _fact("evt-2030-consulate")}},
            }
        )
    )  # fmt: skip


def test_an_old_tinydb_state_file_is_migrated_once_atomically_and_kept_renamed(tmp_path, caplog):
    legacy = tmp_path / "state.json"
    _legacy_file(legacy)
    config = Config.from_env({"KAZKOR_DB": str(legacy)})
    with caplog.at_level(logging.INFO, logger="bot.state"):
        store = open_state(config)
    (line,) = [r.getMessage() for r in caplog.records if "migrated" in r.getMessage()]
    assert line.startswith(f"state: migrated {legacy} into SQLite {tmp_path / 'state.sqlite3'}: ")
    assert "1 subscriptions, 1 ledger entries, 1 pending claims, 1 channel settings; 1 added facts" in line
    assert "skipped 3 bad records" in line and "subscriptions document 2: time '99:99'" in line
    assert "subscriptions document 3: no channel" in line and "ledger document 2: no key" in line
    (kept,) = tmp_path.glob("state.json.migrated-*")
    assert not legacy.exists() and f"old file kept as {kept}" in line
    assert [s["channel"] for s in store.subscriptions()] == ["-100A"]
    assert store.channel_setting("telegram", "-100A", "language") == "ru"
    assert store.statuses(["telegram:-100A:evt@7d:2024-10-06", "telegram:-100A:evt@0d:2024-10-06"]) == {
        "telegram:-100A:evt@7d:2024-10-06": "sent",
        "telegram:-100A:evt@0d:2024-10-06": "pending",
    }
    catalogue = load_catalogue()
    FactStore(config.facts_path).load_facts_into(catalogue)
    assert "evt-2030-consulate" in catalogue.by_id
    store.close()
    # a copy of the old file put back (a restore from backup): moved aside again, nothing doubled
    kept.rename(legacy)
    again = open_state(config)
    assert again.counts().subscriptions == 1 and again.counts().sent == 1 and again.counts().pending == 1
    assert not legacy.exists() and len(list(tmp_path.glob("state.json.migrated-*"))) == 1
    fresh = load_catalogue()
    assert FactStore(config.facts_path).load_facts_into(fresh) == 1
    again.close()


def test_an_idle_console_holds_no_lock_and_run_names_the_holder_of_the_scheduler_lock(db):
    console = open_store(db)  # `kazkor console`: wrote once, then sits idle
    console.save_subscription(_sub("-100A"))
    run_lock = SqliteLeaderLock(db.with_suffix(".sqlite3"), "kazkor run")
    take_or_refuse(run_lock, "kazkor run")  # the console's write does not stop `kazkor run`
    console.save_subscription(_sub("-100B"))  # and the console still writes beside a running bot
    second = SqliteLeaderLock(db.with_suffix(".sqlite3"), "kazkor post-due")
    with pytest.raises(LeaderBusy, match=rf"held by kazkor run pid {os.getpid()} on "):
        take_or_refuse(second, "kazkor post-due")
    run_lock.release()
    take_or_refuse(second, "kazkor post-due")
    second.release()
    assert [s["channel"] for s in console.subscriptions()] == ["-100A", "-100B"]
    console.close()


def _fill_the_disk(store: StateStore) -> Callable[..., None]:
    """Cap the database at its current size (SQLite's max_page_count) and fill the free room: every
    later insert fails with "database or disk is full", as on a full disk."""

    def cap(dbapi_connection, _record) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    event.listen(store.engine, "connect", cap)
    store.engine.dispose()
    for size in (500, 50, 0):  # big rows first, then ever smaller ones into what room is left
        for i in range(10_000):
            try:
                store.record_delivery(f"fill:{size}-{i}:x", padding="p" * size)
            except Exception as exc:  # noqa: BLE001
                assert "full" in str(exc)
                break
    return cap  # the listener to remove when the space is back


def _free_the_disk(store: StateStore, cap: Callable[..., None]) -> None:
    event.remove(store.engine, "connect", cap)
    store.engine.dispose()


def test_a_full_disk_counts_the_posts_as_failed_and_the_same_day_retry_sends_them(state, db, catalogue):
    from bot.reminders.schedule import ReminderService

    subscribe(state, "telegram", "-100123")
    subscribe(state, "slack", "C0GENERAL")
    cap = _fill_the_disk(state)
    clock = SettableClock(REFERENDUM_7D_ALMATY)

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl, senders_for(db, tg, sl) as senders:
            summary = await post_due(state, catalogue, senders, clock=clock)
            service = ReminderService(state, catalogue, senders, tz=clock.now.tzinfo, clock=clock,
                                      catch_up=False, follow_up_delays=(0.3,))  # fmt: skip
            await service.start()
            try:
                fired = await service.post_at(("09:00", "Asia/Almaty"))
                _free_the_disk(state, cap)  # space is back before the follow-up
                await sl.wait_until(lambda: len(tg.sent) + len(sl.posted) == 2, 10, "the follow-up")
            finally:
                await service.stop()
            return summary, fired, len(tg.sent), len(sl.posted)

    summary, fired, telegram, slack = run(scenario())
    assert (summary.sent, summary.failed) == (0, 2) and "failed 2" in summary.line()
    assert any("database or disk is full" in p for p in summary.problems)
    assert (fired.sent, fired.failed) == (0, 2), fired
    assert (telegram, slack) == (1, 1)  # sent once each by the same-day retry
    assert len([e for e in state.ledger() if not e["key"].startswith("fill:")]) == 2


def _fact(rid: str, **over):
    raw = {
        "id": rid,
        "summary": "Korea opened a consulate in Almaty.",
        "cite": [{"source": "mofa-rok", "quote": "A consulate opened."}],
        "title": "Consulate opens",
        "type": "other",
        "date": "2030-05-01",
        "place": "Almaty",
    }
    raw.update(over)
    return raw


def test_an_added_fact_is_served_and_persists(tmp_path):
    path = tmp_path / "state.facts.json"
    catalogue = load_catalogue()
    FactStore(path).add_fact("event", _fact("evt-2030-consulate"), catalogue)
    assert catalogue.in_year("event", 2030)[0].id == "evt-2030-consulate"
    from filelock import FileLock

    with FileLock(f"{path}.lock", timeout=0):  # held only while writing: free again at once
        pass
    fresh = load_catalogue()
    FactStore(path).load_facts_into(fresh)
    assert "evt-2030-consulate" in fresh.by_id


def test_a_bad_added_fact_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "state.facts.json"
    catalogue = load_catalogue()
    store = FactStore(path)
    with pytest.raises(DataError, match=r"added fact \(id 'evt-bad'\): field 'date'"):
        store.add_fact("event", _fact("evt-bad", date="2030-02-30"), catalogue)
    with pytest.raises(DataError, match="cites unknown source 'nobody'"):
        store.add_fact("event", _fact("evt-bad2", cite=[{"source": "nobody", "quote": "q"}]), catalogue)
    assert "evt-bad" not in catalogue.by_id and not path.exists()


def test_a_bad_curated_record_is_refused_at_load_naming_file_and_record(tmp_path):
    from importlib import resources

    data = resources.files("facts") / "data"
    for name in ("sources.json", "figures.json", "agreements.json", "events.json", "anniversaries.json"):
        (tmp_path / name).write_text((data / name).read_text())
    events = json.loads((tmp_path / "events.json").read_text())
    events[3]["date"] = "2021-13-01"
    (tmp_path / "events.json").write_text(json.dumps(events))
    with pytest.raises(DataError) as err:
        load_catalogue(tmp_path)
    assert str(err.value).startswith(f"events.json record 3 (id '{events[3]['id']}'): field 'date'")


def test_state_writes_from_commands_never_run_on_the_event_loop():
    """The front ends answer /subscribe, /unsubscribe and /subscriptions on a worker thread."""
    from bot.commands import Command
    from bot.platforms.inbound import STATE_COMMANDS, RenderedReplies

    seen: list[bool] = []

    class Spy:
        def channel_setting(self, platform, channel, name):  # answered from memory in the real store
            return None

        def subscription(self, platform, channel):
            try:
                asyncio.get_running_loop()
                seen.append(True)
            except RuntimeError:
                seen.append(False)
            return None

    from tests.conftest import ALMATY

    async def scenario():
        from bot.commands import Context

        ctx = Context(catalogue=load_catalogue(), tz=ALMATY, state=Spy())
        replies = RenderedReplies("console", lambda reply: [reply.title])
        await replies.answer_async(Command("subscriptions", (), "console", "c", "u", {}), ctx)

    asyncio.run(scenario())
    assert "subscribe" in STATE_COMMANDS and seen == [False]


def test_kazkor_run_starts_past_planted_bad_records_names_them_and_serves_the_other_channels(tmp_path):
    """Bad records planted in the database (as an older kazkor, a hand edit or an unloadable zone leave
    them) do not stop `kazkor run`: each is logged once with its id, the good channel is scheduled and
    answered, and `kazkor run` stops cleanly."""
    from tests.running import clean_env, free_port, start_kazkor, wait_sync

    state = tmp_path / "state.json"
    store = open_store(state)
    store.save_subscription(_sub("-100GOOD"))
    with store.engine.begin() as conn:
        for channel, when, zone, doc in (
            ("-100TIME", "99:99", "UTC", '{"time": "99:99", "tz": "UTC"}'),
            ("-100ZONE", "09:00", "Mars/Olympus", '{"time": "09:00", "tz": "Mars/Olympus"}'),
            ("-100JUNK", "09:00", "UTC", "[[[["),
        ):
            conn.exec_driver_sql(
                "INSERT INTO subscriptions VALUES ('telegram', ?, ?, ?, 1, ?)", (channel, when, zone, doc)
            )
    store.close()
    with FakeTelegram.run_in_thread() as telegram:
        env = clean_env(KAZKOR_DB=str(state), PORT=str(free_port()), KAZKOR_HOST="127.0.0.1",
                        TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url)  # fmt: skip
        proc = start_kazkor("run", env=env)
        try:
            wait_sync(lambda: telegram.calls["getUpdates"] >= 1, 30, "Telegram polling", proc)
            telegram.push_command(-100, "/subscriptions", chat_type="supergroup")
            (answer,) = telegram.wait_for_sent_sync(1, 20)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "This channel gets no reminders" in answer.visible_text  # commands are served
    assert "Traceback" not in err
    for line in (
        "skipping a bad record: subscription telegram:-100TIME: time '99:99' is not HH:MM",
        "skipping a bad record: subscription telegram:-100ZONE: time zone 'Mars/Olympus' is not known",
        "skipping a bad record: subscription telegram:-100JUNK: the stored record does not parse",
    ):
        assert err.count(line) == 1, err
    # jobs for 09:00 Almaty (the good channel) and 09:00 UTC (the unparsable row's columns: its job skips
    # it); none for 99:99 or Mars/Olympus, which once stopped the scheduler
    assert "reminders: scheduler started with 2 job(s)" in err and "ZoneInfoNotFoundError" not in err


def test_the_peek_reads_settings_as_the_store_saved_them_and_defers_when_it_cannot_tell(tmp_path):
    """`kazkor ask` reads a channel's language with sqlite3 (bot.state.peek) instead of importing
    SQLAlchemy; it must agree with the store, and hand over to it whenever it cannot be sure."""
    from bot.state import schema
    from bot.state.peek import SCHEMA_VERSION, CannotTell, peek_setting

    assert SCHEMA_VERSION == schema.SCHEMA_VERSION  # a new schema version must revisit the peek
    config = Config.from_env({"KAZKOR_DB": str(tmp_path / "state.json")})
    assert peek_setting(config, "console", "console", "language") is None  # no database yet
    assert not config.sqlite_path.exists()  # and the peek did not create one
    store = open_state(config)
    store.save_channel_setting("telegram", "-100A", "language", "kk")
    store.save_channel_setting("slack", "C1", "calendar_generation", 3)
    assert peek_setting(config, "telegram", "-100A", "language") == "kk"
    assert peek_setting(config, "slack", "C1", "calendar_generation") == 3
    assert peek_setting(config, "slack", "C1", "language") is None
    store.save_channel_setting("telegram", "-100A", "language", None)
    assert peek_setting(config, "telegram", "-100A", "language") is None
    with store.engine.begin() as conn:
        conn.execute(schema.schema_version.update().values(version=SCHEMA_VERSION + 1))
    with pytest.raises(CannotTell):
        peek_setting(config, "telegram", "-100A", "language")
    store.close()
    _legacy_file(tmp_path / "state.json")  # an old state file to migrate: only opening does that
    with pytest.raises(CannotTell):
        peek_setting(config, "telegram", "-100A", "language")
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting at 10\n")
    with pytest.raises(CannotTell):
        peek_setting(Config.from_env({"KAZKOR_DB": str(notes)}), "console", "console", "language")
    assert notes.read_text() == "meeting at 10\n"
    postgres = Config.from_env({"KAZKOR_STATE_URL": "postgresql://kazkor@127.0.0.1:9/kazkor"})
    with pytest.raises(CannotTell):
        peek_setting(postgres, "console", "console", "language")


def test_a_lazy_state_is_opened_once_on_first_use_and_shared_by_the_context_copies():
    from zoneinfo import ZoneInfo

    from bot.commands.context import Context, StateSlot

    ALMATY = ZoneInfo("Asia/Almaty")

    class Store:
        def channel_setting(self, platform, channel, name):
            return "ru" if name == "language" else None

    opened = []
    ctx = Context(catalogue=load_catalogue(), tz=ALMATY)
    ctx.state = StateSlot(opener=lambda: opened.append(1) or Store())
    russian = ctx.speaking("ru")  # a copy: opens nothing
    assert opened == [] and russian.tr.lang == "ru" and ctx.tr.lang == "en"
    assert russian.channel_setting("telegram", "-1", "language") == "ru"
    assert isinstance(ctx.state, Store) and ctx.state is russian.state and opened == [1]
    peeked = Context(catalogue=ctx.catalogue, tz=ALMATY)
    peeked.state = StateSlot(opener=lambda: opened.append(2), peek=lambda *key: "kk")
    assert peeked.channel_setting("telegram", "-1", "language") == "kk" and opened == [1]
    unavailable = Context(catalogue=ctx.catalogue, tz=ALMATY, state=StateSlot(opener=lambda: None))
    assert unavailable.state is None and unavailable.channel_setting("console", "console", "language") is None


def test_a_sqlite_state_does_not_load_the_postgresql_dialect(tmp_path):
    """Issue 9 (RSS < 100 MB): SQLAlchemy's postgresql package is ~3 MB a SQLite deployment never uses."""
    code = (
        "import sys\nfrom bot.state.store import StateStore\n"
        f"store = StateStore('sqlite:///{tmp_path / 'state.sqlite3'}')\n"
        "store.save_channel_setting('telegram', '-1', 'language', 'ru')\n"
        "print(store.channel_setting('telegram', '-1', 'language'), "
        "'sqlalchemy.dialects.postgresql' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["ru", "False"]
