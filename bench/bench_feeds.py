"""Calendar feeds and the /trade chart: cold start, drawing times and the memory of `kazkor run`.

Run: python bench/bench_feeds.py [--runs N]
Targets (issue 12): `kazkor ask /trade` < 200 ms cold, matplotlib not imported; the first chart < 2 s
(matplotlib's import included), each chart after it < 300 ms; RSS of `kazkor run` with one chart drawn
< 150 MB.

Every measurement runs in a fresh subprocess, so "cold" and "first" mean what a user gets. Times are
wall clock and, where the CPU is shared with other work, process CPU time beside it. Bounded: every
wait has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_memory import free_port, memory, print_memory, wait  # noqa: E402
from tests.standins.telegram_api import FakeTelegram  # noqa: E402

TIMEOUT = 60.0

# Drawn in a fresh interpreter: the first chart (matplotlib imported on the way), then redraws of new
# data versions (what a chart costs after the first), then the cached PNG.
CHART_SNIPPET = """
import json, sys, time
from facts.store import load_catalogue
from bot.feeds.chart import ChartCache, chart_data, render_png
catalogue = load_catalogue()
assert "matplotlib" not in sys.modules
out = {}
w, c = time.perf_counter(), time.process_time()
cache = ChartCache()
png = cache.png(catalogue)
out["first"] = (time.perf_counter() - w, time.process_time() - c, len(png))
again = []
for _ in range(RUNS):
    w, c = time.perf_counter(), time.process_time()
    render_png(chart_data(catalogue))
    again.append((time.perf_counter() - w, time.process_time() - c))
out["again"] = again
w = time.perf_counter()
for _ in range(1000):
    cache.png(catalogue)
out["cached"] = (time.perf_counter() - w) / 1000
print(json.dumps(out))
"""

CALENDAR_SNIPPET = """
import json, sys, time
from datetime import UTC, datetime
from facts.store import load_catalogue
from bot.feeds.calendar import FeedCache
catalogue = load_catalogue()
now = datetime.now(UTC)
out = {}
w, c = time.perf_counter(), time.process_time()
feed = FeedCache().public(catalogue, now.date(), now)
out["first"] = (time.perf_counter() - w, time.process_time() - c, len(feed.body))
again = []
for _ in range(RUNS):
    w, c = time.perf_counter(), time.process_time()
    FeedCache().public(catalogue, now.date(), now)
    again.append((time.perf_counter() - w, time.process_time() - c))
out["again"] = again
sub = {"platform": "telegram", "channel": "-1", "time": "09:00", "tz": "Asia/Seoul", "leads": [7, 0],
       "created_at": "2026-01-01T00:00:00+00:00"}
w = time.perf_counter()
FeedCache().channel(catalogue, sub, now)
out["channel"] = time.perf_counter() - w
cache = FeedCache()
cache.public(catalogue, now.date(), now)
w = time.perf_counter()
for _ in range(1000):
    cache.public(catalogue, now.date(), now)
out["cached"] = (time.perf_counter() - w) / 1000
print(json.dumps(out))
"""


def clean_env(**extra: str) -> dict[str, str]:
    # Without PYTHONDONTWRITEBYTECODE: an installed kazkor has its bytecode compiled (pip compiles at
    # install, the image too), so a cold start loads it; with the variable set (some shells, CI) every
    # run of a source tree would compile the project again (~45 ms), which no user's start pays.
    env = {
        k: v
        for k, v in os.environ.items()
        if "proxy" not in k.lower() and not k.startswith("KAZKOR_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(ROOT), **extra)
    return env


def python(code: str, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=TIMEOUT, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_trade(runs: int, env: dict[str, str]) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each `kazkor ask /trade` in a new process."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "/trade"],
            env=env,
            stdout=subprocess.DEVNULL,
            timeout=TIMEOUT,
            check=True,
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        times.append((wall, cpu))
    return times


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def run_memory(env: dict[str, str]) -> list[tuple[str, dict[str, float]]]:
    """`kazkor run` (Telegram long polling, public URL set): idle, after one chart, after more."""
    port = free_port()
    rows = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with FakeTelegram.run_in_thread() as telegram:
        env = {
            **env,
            "KAZKOR_HOST": "127.0.0.1",
            "KAZKOR_LOG_LEVEL": "WARNING",
            "KAZKOR_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PORT": str(port),
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.base_url,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait(lambda: telegram.calls["getUpdates"] >= 1, "start", proc)
            time.sleep(0.5)
            rows.append(("started, idle", memory(proc.pid)))
            started = time.perf_counter()
            telegram.push_command(50_000, "/trade chart")
            wait(lambda: len(telegram.files) >= 1, "the chart", proc)
            chart_seconds = time.perf_counter() - started
            rows.append((f"+ /trade chart ({ms(chart_seconds)} ms)", memory(proc.pid)))
            telegram.push_command(50_001, "/calendar")
            with opener.open(f"http://127.0.0.1:{port}/calendar.ics", timeout=TIMEOUT) as response:
                assert response.status == 200 and response.read().startswith(b"BEGIN:VCALENDAR")
            wait(lambda: len(telegram.files) >= 2, "the calendar file", proc)
            for i in range(100):
                telegram.push_command(50_100 + i % 10, "/trade chart" if i % 2 else "/trade")
            wait(lambda: len(telegram.files) >= 52, "50 more charts", proc)
            rows.append(("+ /calendar, 50 charts, 50 /trade", memory(proc.pid)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10, help="runs of each timing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(KAZKOR_DB=f"{tmp}/state.json")
        python("import matplotlib.figure, icalendar\nprint('{}')", env)  # warm the disk cache
        cold_trade(1, env)  # and the project's bytecode, as an install has it
        cold = cold_trade(args.runs, env)
        loaded = python(
            "import json, sys, io, contextlib\nfrom bot.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['ask', '/trade'])\n"
            "print(json.dumps({m: m in sys.modules for m in ('matplotlib', 'icalendar', 'sqlalchemy')}))",
            env,
        )
        chart = python(CHART_SNIPPET.replace("RUNS", str(args.runs)), env)
        calendar = python(CALENDAR_SNIPPET.replace("RUNS", str(args.runs)), env)
        rows = run_memory(env)

    print(f"Calendar feeds and charts (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print()
    print(f"{'measure':<44} {'wall ms':>9} {'CPU ms':>8} {'target':>10}")
    cold_wall, cold_cpu = [w for w, _ in cold], [c for _, c in cold]
    print(
        f"{'cold kazkor ask /trade, median':<44} {ms(statistics.median(cold_wall)):>9} "
        f"{ms(statistics.median(cold_cpu)):>8} {'< 200':>10}"
    )
    print(f"{'cold kazkor ask /trade, max':<44} {ms(max(cold_wall)):>9} {ms(max(cold_cpu)):>8}")
    print(
        f"  matplotlib imported: {loaded['matplotlib']}, icalendar imported: {loaded['icalendar']}, "
        f"sqlalchemy imported: {loaded['sqlalchemy']}"
    )
    wall, cpu, size = chart["first"]
    print(f"{'first chart (matplotlib import included)':<44} {ms(wall):>9} {ms(cpu):>8} {'< 2000':>10}")
    again_wall = [w for w, _ in chart["again"]]
    again_cpu = [c for _, c in chart["again"]]
    print(
        f"{'chart after the first, median':<44} {ms(statistics.median(again_wall)):>9} "
        f"{ms(statistics.median(again_cpu)):>8} {'< 300':>10}"
    )
    print(f"{'chart after the first, max':<44} {ms(max(again_wall)):>9} {ms(max(again_cpu)):>8}")
    print(f"{'chart from the cache (same data version)':<44} {chart['cached'] * 1000:>9.3f}")
    print(f"  PNG {size / 1024:.0f} KiB")
    wall, cpu, size = calendar["first"]
    print(f"{'first public feed (icalendar import included)':<44} {ms(wall):>9} {ms(cpu):>8}")
    print(
        f"{'public feed after the first, median':<44} "
        f"{ms(statistics.median(w for w, _ in calendar['again'])):>9} "
        f"{ms(statistics.median(c for _, c in calendar['again'])):>8}"
    )
    print(f"{'a channel feed (alarms included)':<44} {ms(calendar['channel']):>9}")
    print(f"{'public feed from the cache':<44} {calendar['cached'] * 1000:>9.3f}")
    print(f"  public feed {size / 1024:.0f} KiB")
    print()
    print("kazkor run (Telegram long polling against the stand-in, KAZKOR_PUBLIC_URL set)")
    print_memory(rows, 150, width=40)


if __name__ == "__main__":
    main()
