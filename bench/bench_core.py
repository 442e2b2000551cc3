"""Command-core latency: p50/p99 of each command at the shipped size and with the store grown.

Run: python bench/bench_core.py [--repeat N]
Targets (issue 2): p99 < 1 ms at the shipped size, < 10 ms at 100,000 records; `kazkor ask /trade`
from a cold start < 0.5 s wall with no platform library imported.

The store is grown the way facts added at run time grow it: synthetic events, agreements, figures and
anniversaries spread over two centuries, loaded through ``Catalogue.add_many`` (the same path
``StateStore.load_facts_into`` takes), with a vocabulary of a few thousand words.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import fixed_clock  # noqa: E402
from bot.commands import Context, handle_text  # noqa: E402
from facts.model import Agreement, Anniversary, Citation, Event, Figure, PartialDate  # noqa: E402
from facts.store import load_catalogue  # noqa: E402

QUERIES = [
    "/trade",
    "/agreements 2024",
    "/agreements",
    "/agreements 1995",
    "/timeline",
    "/timeline 2024",
    "/upcoming 30",
    "/upcoming 366",
    "/search lithium",
    "/search Yoon visit",
    "/search Toqayev New York",
    "/source evt-2024-10-06-referendum",
    "/help",
    "/agreements abc",
]
SIZES = (0, 10_000, 100_000)


def synthetic(n: int, rng: random.Random):
    vocab = [f"w{i:04d}" for i in range(3000)] + ["summit", "energy", "visit", "minerals", "forum"]
    cite = (Citation("mofa-rok", "synthetic benchmark record"),)
    for i in range(n):
        year = rng.randint(1900, 2100)
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        when = PartialDate(year, month, day)
        text = " ".join(rng.choices(vocab, k=8))
        kind = i % 4
        if kind == 0:
            yield (
                Event(f"syn-e{i}", text, cite, title=text[:30], type="other", date=when, place="Nowhere"),
                "bench",
            )
        elif kind == 1:
            yield (
                Agreement(
                    f"syn-a{i}",
                    text,
                    cite,
                    title=text[:30],
                    type="memorandum",
                    date=when,
                    parties=("A", "B"),
                    sector="misc",
                ),
                "bench",
            )
        elif kind == 2:
            yield (
                Figure(
                    f"syn-f{i}", text, cite, metric="other", value=i, unit="count", as_of=when, phrase=text
                ),
                "bench",
            )
        else:
            yield Anniversary(f"syn-n{i}", text, cite, title=text[:30], date=when), "bench"


def measure(ctx: Context, text: str, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        handle_text(text, ctx)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def cold_start(runs: int) -> tuple[float, bool]:
    env = {**os.environ, "KAZKOR_DB": "/tmp/kazkor-bench-state.json"}
    walls = []
    probe = (
        "import sys; from bot.cli import main; main(['ask', '/trade']);"
        "libs = ('telegram', 'slack_bolt', 'slack_sdk', 'apscheduler', 'aiohttp');"
        "bad = [m for m in sys.modules if m.split('.')[0] in libs];"
        "sys.stderr.write('PLATFORM_IMPORTS=' + ','.join(bad))"
    )
    clean = True
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
        )
        walls.append(time.perf_counter() - start)
        clean = clean and result.stderr.strip().endswith("PLATFORM_IMPORTS=")
    return statistics.median(walls), clean


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    rows = []
    for size in SIZES:
        catalogue = load_catalogue()
        shipped = len(catalogue)
        if size:
            started = time.perf_counter()
            catalogue.add_many(synthetic(size, rng))
            load_s = time.perf_counter() - started
            print(f"grew the store by {size:,} records in {load_s:.2f} s", file=sys.stderr)
        ctx = Context(
            catalogue, ZoneInfo("Asia/Almaty"), fixed_clock(datetime(2024, 9, 20, 4, tzinfo=ZoneInfo("UTC")))
        )
        repeat = args.repeat if size < 100_000 else max(50, args.repeat // 3)
        for text in QUERIES:
            p50, p99 = measure(ctx, text, repeat)
            rows.append((shipped + size, text, p50, p99))
    limit = {0: 1.0, 10_000: None, 100_000: 10.0}
    print(f"{'records':>9} | {'command':<34} | {'p50 ms':>8} | {'p99 ms':>8} | target")
    print("-" * 80)
    for records, text, p50, p99 in rows:
        bucket = 0 if records < 1000 else 10_000 if records < 50_000 else 100_000
        target = limit[bucket]
        verdict = "" if target is None else ("ok" if p99 < target else f"OVER {target} ms")
        print(f"{records:>9,} | {text:<34} | {p50:>8.3f} | {p99:>8.3f} | {verdict}")
    wall, clean = cold_start(7)
    print()
    print(
        f"cold start `kazkor ask /trade`: median {wall * 1000:.0f} ms wall over 7 runs (target < 500 ms); "
        f"platform libraries imported: {'none' if clean else 'YES'}"
    )


if __name__ == "__main__":
    main()
