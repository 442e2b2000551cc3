"""Runtime state (issue 9): fan-out against the floor on both backends, with a big ledger; /subscribe
latency; `kazkor run` start-up; the scheduled path with every subscription at one minute; SIGKILLs
during /subscribe storms.

Run (full sizes take a long while; every size is a flag, so a short run is possible):

    python bench/bench_state.py --parts fanout --sizes 300,3000 --ledger-rows 0,1000000
    python bench/bench_state.py --parts subscribe,ready --ledger-rows 1000000 --subs 10000
    python bench/bench_state.py --parts scheduled --scheduled-subs 10000
    python bench/bench_state.py --parts kills --kills 200
    python bench/bench_state.py --parts ack --backends sqlite --ledger-rows 1000000 --subs 10000

Parts:

* fanout: one reminder to N Telegram chats + N Slack channels through ``post_due`` against stand-ins that
  answer 429 above the limits (Telegram 30/s overall, Slack 1/s per channel). Floor = N / 30 s (the
  issue's definition). Counted: lost, duplicated. Optionally with LEDGER_ROWS old ledger rows already there.
* subscribe: /subscribe answered as the front ends answer it (on a worker thread), 200 times in 200
  channels, with LEDGER_ROWS ledger rows and SUBS subscriptions present: p50/p99/max.
* ready: ``kazkor run`` (Telegram polling against the stand-in) on that database: seconds until /healthz
  answers, and its RSS then.
* scheduled: SCHEDULED_SUBS Telegram subscriptions at 09:00 inside a ReminderService (the ``kazkor run``
  scheduler) against the rate-limited stand-in; the job is fired and the event loop's longest stall is
  measured (a 10 ms ticker's overshoot) until the last post; last post / floor; lost; duplicated.
* ack: ``kazkor run`` (Slack HTTP mode + Telegram) on a database with LEDGER_ROWS ledger rows and SUBS
  subscriptions (half Slack channels, half Telegram chats) at 00:00 UTC, with an event seven days ahead
  so the start's catch-up fans one reminder out to all of them against the rate-limited stand-ins. While
  that fan-out runs, ACKS signed Slack slash commands (/help, /trade, /subscriptions in turn, one at a
  time) are POSTed to /slack/events: p50/p99/max of the HTTP answer (Slack's 3 s ack; target p99 < 100
  ms), and the posts still to go when the last ack came (> 0: every ack was measured during the fan-out).
* kills: KILLS times, a process answering /subscribe in a loop (console path, SQLite) is SIGKILLed at a
  random moment; after each kill the database must pass ``PRAGMA integrity_check`` and hold every
  subscription whose answer had been printed.

Not a test: tables only. Every wait is bounded. Other work may share the CPU: say so with the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.platforms.senders import open_senders  # noqa: E402
from bot.reminders.delivery import post_due  # noqa: E402
from bot.state import StateStore  # noqa: E402
from bot.state.schema import ledger  # noqa: E402
from facts.store import FactStore, load_catalogue  # noqa: E402
from tests.standins.slack_api import FakeSlack  # noqa: E402
from tests.standins.telegram_api import FakeTelegram  # noqa: E402

DAY = date(2024, 9, 29)  # the referendum's 7-day reminder is due
ALMATY = ZoneInfo("Asia/Almaty")
TELEGRAM_LIMIT = 30
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def sub(platform: str, channel: str, time_: str = "09:00") -> dict:
    return {
        "platform": platform,
        "channel": channel,
        "time": time_,
        "tz": "Asia/Almaty",
        "leads": [7, 0],
        "active": True,
        "created_by": "bench",
        "created_at": "2024-09-01T00:00:00+00:00",
    }


@contextlib.contextmanager
def database(backend: str, folder: Path):
    """(url, KAZKOR_DB, extra env) for a fresh database of ``backend``."""
    db = folder / "state.json"
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'state.sqlite3'}", db, {}
        return
    from tests.postgres import Server

    server = Server().start()
    try:
        url = server.new_database()
        yield url, db, {"KAZKOR_STATE_URL": url}
    finally:
        server.stop()


def preload_ledger(store: StateStore, rows: int) -> float:
    """Old ledger rows (sent a few months ago to other channels), in chunks; seconds it took."""
    started = time.monotonic()
    created = time.time() - 90 * 86400
    chunk = 10_000
    for start in range(0, rows, chunk):
        batch = [
            {
                "key": f"telegram:-{900000000 + i % 600}:old-{i}@0d:2024-06-01",
                "status": "sent",
                "platform": "telegram",
                "channel": f"-{900000000 + i % 600}",
                "day": "2024-06-01",
                "created": created,
                "sent_at": "2024-06-01T04:00:00+00:00",
                "details": "{}",
            }
            for i in range(start, min(rows, start + chunk))
        ]
        with store._writer.begin() as conn:
            conn.execute(ledger.insert(), batch)
    return time.monotonic() - started


def env_for(tg, sl, db: Path, extra: dict) -> dict[str, str]:
    env = {
        "KAZKOR_DB": str(db),
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.base_url,
        "KAZKOR_LOG_LEVEL": "WARNING",
        **extra,
    }
    if sl is not None:
        env.update(SLACK_BOT_TOKEN=sl.bot_token, SLACK_SIGNING_SECRET="bench", SLACK_API_URL=sl.base_url)
    return env


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- fan-out -------------------------------------------------------------------------------------------


def fanout(backend: str, n: int, ledger_rows: int) -> tuple:
    catalogue = load_catalogue()
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(backend, Path(tmp)) as (url, db, extra),
        FakeTelegram.run_in_thread(rate_limit_global_per_s=TELEGRAM_LIMIT) as tg,
        FakeSlack.run_in_thread(rate_limit_per_channel_per_s=1) as sl,
    ):
        store = StateStore(url)
        load = preload_ledger(store, ledger_rows) if ledger_rows else 0.0
        store.save_subscriptions(
            [sub("telegram", str(-1001000000000 - i)) for i in range(n)]
            + [sub("slack", f"C{i:07d}") for i in range(n)]
        )
        config = Config.from_env(env_for(tg, sl, db, extra))

        async def run():
            async with open_senders(config) as senders:
                started = time.monotonic()
                summary = await asyncio.wait_for(post_due(store, catalogue, senders, DAY), 3600)
                return summary, time.monotonic() - started

        summary, took = asyncio.run(run())
        counts = Counter(f"t{m.chat_id}" for m in list(tg.sent)) + Counter(
            f"s{p.channel}" for p in list(sl.posted)
        )
        store.close()
    lost = 2 * n - len(counts)
    dup = sum(1 for c in counts.values() if c > 1)
    floor = n / TELEGRAM_LIMIT
    return backend, n, ledger_rows, load, floor, took, took / floor, lost, dup, summary.line()


def part_fanout(args) -> None:
    print("fan-out: one reminder to N Telegram chats + N Slack channels (post_due), floor = N/30 s")
    print(
        f"{'backend':<10} {'N':>6} {'ledger rows':>11} {'preload':>8} {'floor':>7} {'time':>8} {'ratio':>6} "
        f"{'lost':>5} {'dup':>4}  summary"
    )
    for backend in args.backends:
        for rows in args.ledger_rows:
            for n in args.sizes:
                b, n_, r, load, floor, took, ratio, lost, dup, line = fanout(backend, n, rows)
                print(
                    f"{b:<10} {n_:>6} {r:>11} {load:>7.1f}s {floor:>6.1f}s {took:>7.2f}s {ratio:>6.2f} "
                    f"{lost:>5} {dup:>4}  {line}",
                    flush=True,
                )


# -- /subscribe latency and `kazkor run` start-up ------------------------------------------------------


def big_database(backend: str, folder: Path, rows: int, subs: int):
    ctx = database(backend, folder)
    url, db, extra = ctx.__enter__()
    store = StateStore(url)
    preload_ledger(store, rows)
    store.save_subscriptions([sub("telegram", str(-1002000000000 - i)) for i in range(subs)])
    store.close()
    return ctx, url, db, extra


def part_subscribe(args) -> None:
    from bot.commands import Command, Context, dispatch
    from bot.platforms.inbound import RenderedReplies

    catalogue = load_catalogue()
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp:
            ctx_mgr, url, db, extra = big_database(backend, Path(tmp), args.ledger_rows[-1], args.subs)
            try:
                store = StateStore(url)
                ctx = Context(catalogue=catalogue, tz=ALMATY, state=store)
                replies = RenderedReplies("telegram", lambda reply: [reply.title])

                async def storm(replies=replies, ctx=ctx) -> list[float]:
                    took = []
                    for i in range(200):
                        command = Command(
                            "subscribe", ("08:30",), "telegram", f"-77{i}", "u", {"is_admin": True}
                        )
                        started = time.perf_counter()
                        await replies.answer_async(command, ctx)
                        took.append((time.perf_counter() - started) * 1000)
                    return took

                took = sorted(asyncio.run(storm()))
                assert (
                    dispatch(Command("subscriptions", (), "telegram", "-77199", "u", {}), ctx).kind
                    == "answer"
                )
                store.close()
            finally:
                ctx_mgr.__exit__(None, None, None)
        p99 = took[int(len(took) * 0.99) - 1]
        print(
            f"/subscribe ({backend}, {args.ledger_rows[-1]} ledger rows, {args.subs} subscriptions): "
            f"p50 {statistics.median(took):.1f} ms, p99 {p99:.1f} ms, max {took[-1]:.1f} ms "
            "(target p99 < 50 ms)"
        )


def part_ready(args) -> None:
    for backend in args.backends:
        with tempfile.TemporaryDirectory() as tmp, FakeTelegram.run_in_thread() as tg:
            ctx_mgr, url, db, extra = big_database(backend, Path(tmp), args.ledger_rows[-1], args.subs)
            try:
                port = _free_port()
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))
                }
                if backend == "postgresql":  # a replica set serves Telegram by webhook only
                    extra = {
                        **extra,
                        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
                        "TELEGRAM_WEBHOOK_SECRET": "bench",
                    }
                env.update(
                    env_for(tg, None, db, extra),
                    PORT=str(port),
                    KAZKOR_HOST="127.0.0.1",
                    PYTHONPATH=str(ROOT),
                )
                started = time.monotonic()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bot.cli", "run"],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                ready = None
                while time.monotonic() - started < 60 and proc.poll() is None:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                            if answer.status in (200, 503):
                                ready = time.monotonic() - started
                                break
                    except OSError:
                        time.sleep(0.02)
                time.sleep(1.0)  # the scheduler's catch-up and first housekeeping
                rss = _rss_of(proc.pid) if proc.poll() is None else float("nan")
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            finally:
                ctx_mgr.__exit__(None, None, None)
        print(
            f"kazkor run ({backend}, {args.ledger_rows[-1]} ledger rows, {args.subs} subscriptions): "
            f"ready in {ready if ready is None else round(ready, 2)} s (target < 2 s), "
            f"RSS {rss:.0f} MB (target < 100 MB)"
        )


def plant_week_ahead_event(folder: Path, event_id: str, today: date) -> None:
    """A curator-added event seven days after ``today``: every subscribed channel owes one reminder for it
    today (the 7-day lead), so the start's catch-up fans it out to all of them."""
    event = {
        "id": event_id,
        "summary": "A bench event.",
        "title": "Bench event",
        "type": "other",
        "date": date.fromordinal(today.toordinal() + 7).isoformat(),
        "place": "Almaty",
        "cite": [{"source": "mofa-rok", "quote": "A bench."}],
    }
    FactStore(folder / "state.facts.json").add_facts("event", [event], load_catalogue())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the scheduled path ----------------------------------------------------------------------------------


def part_scheduled(args) -> None:
    from bot.reminders.schedule import ReminderService, fire_job_id

    catalogue = load_catalogue()
    n = args.scheduled_subs
    backend = args.backends[0]
    with (
        tempfile.TemporaryDirectory() as tmp,
        database(backend, Path(tmp)) as (url, db, extra),
        FakeTelegram.run_in_thread(rate_limit_global_per_s=TELEGRAM_LIMIT) as tg,
    ):
        store = StateStore(url)
        store.save_subscriptions([sub("telegram", str(-1003000000000 - i)) for i in range(n)])
        config = Config.from_env(env_for(tg, None, db, extra))
        now = datetime(2024, 9, 29, 9, 0, tzinfo=ALMATY)
        import gc

        gc.freeze()  # as `kazkor run` does once it has loaded (bot/app.py)

        async def run():
            worst = 0.0

            async def ticker():
                nonlocal worst
                while True:
                    before = time.perf_counter()
                    await asyncio.sleep(0.01)
                    worst = max(worst, time.perf_counter() - before - 0.01)

            async with open_senders(config) as senders:
                service = ReminderService(
                    store, catalogue, senders, tz=ALMATY, clock=lambda: now, catch_up=False
                )
                tick = asyncio.create_task(ticker())
                await service.start()
                started = time.monotonic()
                service.scheduler.modify_job(
                    fire_job_id(("09:00", "Asia/Almaty")), next_run_time=datetime.now(UTC)
                )
                while len(tg.sent) < n and time.monotonic() - started < n / 10 + 60:
                    await asyncio.sleep(0.1)
                last = time.monotonic() - started
                while service.busy and time.monotonic() - started < n / 10 + 90:
                    await asyncio.sleep(0.1)
                await service.stop()
                tick.cancel()
                return last, worst

        last, worst = asyncio.run(run())
        counts = Counter(m.chat_id for m in list(tg.sent))
        store.close()
    floor = n / TELEGRAM_LIMIT
    print(
        f"scheduled ({backend}): {n} subscriptions at 09:00 fired by one job: last post {last:.1f} s, floor "
        f"{floor:.1f} s, ratio {last / floor:.2f} (target <= 1.15); lost {n - len(counts)}, duplicated "
        f"{sum(1 for c in counts.values() if c > 1)}; event loop longest stall {worst * 1000:.0f} ms "
        "(target < 100)"
    )


# -- SIGKILLs during /subscribe storms ---------------------------------------------------------------------

STORM = r"""
import sys
from bot.commands import Command, dispatch, Context
from bot.state import StateStore
from facts.store import load_catalogue
from zoneinfo import ZoneInfo
store = StateStore(sys.argv[1])
ctx = Context(catalogue=load_catalogue(), tz=ZoneInfo("Asia/Almaty"), state=store)
start = int(sys.argv[2])
for i in range(start, start + 100000):
    reply = dispatch(Command("subscribe", ("09:15",), "telegram", str(-i), "u", {"is_admin": True}), ctx)
    assert reply.kind == "answer", reply.title
    print(i, flush=True)  # acknowledged: the answer was given
"""


def part_kills(args) -> None:
    rng = random.Random(9)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'state.sqlite3'}"
        StateStore(url).close()
        acked: set[str] = set()
        start, missing, bad_opens = 1, 0, 0
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        began = time.monotonic()
        for _ in range(args.kills):
            proc = subprocess.Popen(
                [sys.executable, "-c", STORM, url, str(start)], stdout=subprocess.PIPE, text=True, env=env
            )
            first = proc.stdout.readline()
            time.sleep(rng.uniform(0, 0.2))
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate(timeout=30)
            numbers = [int(x) for x in [first, *out.splitlines()] if x.strip()]
            acked.update(str(-n) for n in numbers)
            start = (max(numbers) if numbers else start) + 1000
            try:
                with contextlib.closing(sqlite3.connect(Path(tmp) / "state.sqlite3")) as raw:
                    ok = raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                    have = {row[0] for row in raw.execute("SELECT channel FROM subscriptions")}
            except sqlite3.Error:
                ok, have = False, set()
            bad_opens += not ok
            missing += len(acked - have)
        took = time.monotonic() - began
    print(
        f"kills: {args.kills} SIGKILLs during /subscribe storms (SQLite) in {took:.0f} s: {len(acked)} "
        f"acknowledged subscriptions, missing after a kill {missing}, "
        f"database failed to open/check {bad_opens}"
    )


# -- two replicas on PostgreSQL, the leader SIGKILLed again and again ---------------------------------


def part_replicas(args) -> None:
    """N Telegram chats + N Slack channels subscribed at 00:00 UTC (already past today: the elected
    replica's catch-up posts them), an event seven days ahead added with the fact store so one reminder
    is due today whatever the date. Two `kazkor run` replicas (Telegram webhook mode) share one
    PostgreSQL; the leader is SIGKILLed at random moments while posts go out, and restarted as a follower
    so two replicas always run. Counted from what the stand-ins accepted."""
    from bot.state.leader import LOCK_KEY

    n = args.replica_size
    rng = random.Random(20)
    today = datetime.now(UTC).date()
    with (
        tempfile.TemporaryDirectory() as tmp,
        database("postgresql", Path(tmp)) as (url, db, extra),
        FakeTelegram.run_in_thread(rate_limit_global_per_s=TELEGRAM_LIMIT) as tg,
        FakeSlack.run_in_thread(rate_limit_per_channel_per_s=1) as sl,
    ):
        store = StateStore(url)
        subs = [sub("telegram", str(-1004000000000 - i), "00:00") for i in range(n)]
        subs += [sub("slack", f"D{i:07d}", "00:00") for i in range(n)]
        store.save_subscriptions([{**s, "tz": "UTC"} for s in subs])
        plant_week_ahead_event(Path(tmp), "evt-bench-replicas", today)

        def replica(name: str) -> subprocess.Popen:
            port = _free_port()
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))
            }
            env.update(
                env_for(tg, sl, db, extra),
                PORT=str(port),
                KAZKOR_HOST="127.0.0.1",
                PYTHONPATH=str(ROOT),
                TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
                TELEGRAM_WEBHOOK_SECRET="bench",
                KAZKOR_LOG_LEVEL="INFO",
            )
            log = open(Path(tmp) / f"replica-{name}.log", "a")  # noqa: SIM115 - closed with the folder
            return subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

        def leader_pid() -> int | None:
            from sqlalchemy import text as sql

            with store.engine.connect() as conn:
                name = conn.execute(
                    sql(
                        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted"
                    ),
                    {"k": LOCK_KEY},
                ).scalar()
            return int(name.split()[3]) if name else None

        def delivered() -> int:
            return len({m.chat_id for m in list(tg.sent)}) + len({p.channel for p in list(sl.posted)})

        procs = {"a": replica("a"), "b": replica("b")}
        started = time.monotonic()
        kills = takeovers = 0
        takeover_times = []
        while kills < args.replica_kills and delivered() < 2 * n and time.monotonic() - started < 900:
            pid = leader_pid()
            if pid is None:
                time.sleep(0.05)
                continue
            time.sleep(rng.uniform(0.2, 1.5))
            name = next((k for k, p in procs.items() if p.pid == pid), None)
            if name is None or procs[name].poll() is not None:
                continue
            os.kill(pid, signal.SIGKILL)
            procs[name].wait(10)
            kills += 1
            cut = time.monotonic()
            procs[name] = replica(name)  # back as a follower: two replicas keep running
            while time.monotonic() - cut < 60:
                new = leader_pid()
                if new is not None and new != pid:
                    takeover_times.append(time.monotonic() - cut)
                    takeovers += 1
                    break
                time.sleep(0.05)
        while delivered() < 2 * n and time.monotonic() - started < 900:
            before = delivered()
            time.sleep(10)
            if delivered() == before:
                break
        took = time.monotonic() - started
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.wait(30)
        counts = Counter(f"t{m.chat_id}" for m in list(tg.sent)) + Counter(
            f"s{p.channel}" for p in list(sl.posted)
        )
        pending = store.unconfirmed_claims()
        sent = len(store.ledger())
        store.close()
    dup = sum(1 for c in counts.values() if c > 1)
    lost = 2 * n - len(counts)
    print(
        f"replicas: 2 `kazkor run` on PostgreSQL, {2 * n} posts, leader SIGKILLed {kills} times "
        f"({took:.0f} s): duplicated {dup}, lost {lost}, unconfirmed claims (in flight at a kill) "
        f"{len(pending)}, ledger sent {sent}; takeovers {takeovers}, takeover time max "
        f"{max(takeover_times, default=0):.1f} s, median {statistics.median(takeover_times or [0]):.1f} s"
    )


# -- Slack acks during a fan-out -----------------------------------------------------------------------


def part_ack(args) -> None:
    from tests.standins.slack_api import signed_slash_request

    today = datetime.now(UTC).date()
    half = args.subs // 2
    for backend in args.backends:
        with (
            tempfile.TemporaryDirectory() as tmp,
            database(backend, Path(tmp)) as (url, db, extra),
            FakeTelegram.run_in_thread(rate_limit_global_per_s=TELEGRAM_LIMIT) as tg,
            FakeSlack.run_in_thread(rate_limit_per_channel_per_s=1) as sl,
        ):
            store = StateStore(url)
            preload_ledger(store, args.ledger_rows[-1])
            subs = [sub("telegram", str(-1004000000000 - i), "00:00") for i in range(half)]
            subs += [sub("slack", f"D{i:07d}", "00:00") for i in range(args.subs - half)]
            store.save_subscriptions([{**s, "tz": "UTC"} for s in subs])
            store.close()
            plant_week_ahead_event(Path(tmp), "evt-bench-ack", today)
            port = _free_port()
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_"))
            }
            if backend == "postgresql":  # a replica set serves Telegram by webhook only
                extra = {
                    **extra,
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
                    "TELEGRAM_WEBHOOK_SECRET": "bench",
                }
            env.update(
                env_for(tg, sl, db, extra), PORT=str(port), KAZKOR_HOST="127.0.0.1", PYTHONPATH=str(ROOT)
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], env=env, cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "run.log", "w"),  # noqa: SIM115
            )  # fmt: skip

            def delivered() -> int:
                return len(tg.sent) + len(sl.posted)

            took: list[float] = []
            left = None
            try:
                started = time.monotonic()
                while delivered() < 50 and proc.poll() is None and time.monotonic() - started < 120:
                    time.sleep(0.05)  # the fan-out is under way
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                commands = [("/help", ""), ("/trade", ""), ("/subscriptions", "")]
                for i in range(args.acks):
                    if proc.poll() is not None or delivered() >= args.subs:
                        break
                    command, text = commands[i % len(commands)]
                    body, headers = signed_slash_request(
                        "bench", command=command, text=text, channel_id=f"C{i:07d}",
                        response_url=sl.response_url(f"ack-{i}"),
                    )  # fmt: skip
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers, method="POST"
                    )
                    sent = time.perf_counter()
                    with opener.open(request, timeout=10) as answer:
                        answer.read()
                        assert answer.status == 200, answer.status
                    took.append((time.perf_counter() - sent) * 1000)
                    time.sleep(0.05)  # ~15 commands a second: a busy workspace
                left = args.subs - delivered()
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(60)
        took.sort()
        if not took:
            print(f"Slack acks ({backend}): none measured (the fan-out did not start); see run.log")
            continue
        p99 = took[max(0, int(len(took) * 0.99) - 1)]
        print(
            f"Slack acks during a fan-out ({backend}, {args.ledger_rows[-1]} ledger rows, {args.subs} "
            f"subscriptions): {len(took)} acks, p50 {statistics.median(took):.1f} ms, p99 {p99:.1f} ms, "
            f"max {took[-1]:.1f} ms (target p99 < 100 ms); posts still to go at the last ack: {left}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="fanout,subscribe,ready,scheduled,kills")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="300")
    parser.add_argument("--ledger-rows", default="0")
    parser.add_argument("--subs", type=int, default=10_000)
    parser.add_argument("--scheduled-subs", type=int, default=1_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--replica-size", type=int, default=300, help="chats and channels each (600 posts)")
    parser.add_argument("--replica-kills", type=int, default=20)
    parser.add_argument("--acks", type=int, default=300, help="Slack slash commands sent during the fan-out")
    args = parser.parse_args()
    args.backends = args.backends.split(",")
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.ledger_rows = [int(x) for x in args.ledger_rows.split(",")]
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    for part in args.parts.split(","):
        {
            "fanout": part_fanout,
            "subscribe": part_subscribe,
            "ready": part_ready,
            "scheduled": part_scheduled,
            "kills": part_kills,
            "replicas": part_replicas,
            "ack": part_ack,
        }[part](args)
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
