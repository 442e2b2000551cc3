"""Resident memory of ``kazkor run`` with both platforms up against the stand-ins.

Run: python bench/bench_memory.py [--commands N]
Target (issue 3): RSS < 120 MB.

``kazkor run`` is a real subprocess (Telegram long polling + Slack HTTP mode, /healthz and /metrics
mounted); the stand-ins run in threads of this process. VmRSS (now) and VmHWM (peak) are read from
/proc/<pid>/status: after start, then after N Telegram commands and N signed Slack commands were
answered. Bounded: every wait has a timeout; the bench takes a few seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.standins.slack_api import FakeSlack, signed_slash_request  # noqa: E402
from tests.standins.telegram_api import FakeTelegram  # noqa: E402

SECRET = "bench-memory-secret"
TIMEOUT = 30.0
QUERIES = ["/trade", "/agreements 2024", "/timeline", "/upcoming 366", "/search lithium", "/help"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def wait(predicate, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"kazkor run exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=300, help="commands per platform")
    args = parser.parse_args()
    port = free_port()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeTelegram.run_in_thread() as telegram,
        FakeSlack.run_in_thread() as slack,
    ):
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(
            NO_PROXY="127.0.0.1,localhost",
            PYTHONPATH=str(ROOT),
            KAZKOR_DB=f"{tmp}/state.json",
            KAZKOR_HOST="127.0.0.1",
            KAZKOR_LOG_LEVEL="WARNING",
            PORT=str(port),
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_URL=telegram.base_url,
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.base_url,
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait(lambda: telegram.calls["getUpdates"] >= 1 and slack.calls["auth.test"] >= 1, "start", proc)
            time.sleep(0.5)
            rows.append(("started, idle", memory(proc.pid)))

            for i in range(args.commands):
                telegram.push_command(50_000 + i % 20, QUERIES[i % len(QUERIES)])
            wait(lambda: len(telegram.sent) >= args.commands, "Telegram answers", proc)
            rows.append((f"+ {args.commands} Telegram commands", memory(proc.pid)))

            answered = 0
            for i in range(args.commands):
                query = QUERIES[i % len(QUERIES)]
                command, _, text = query.partition(" ")
                body, headers = signed_slash_request(
                    SECRET, command=command, text=text, response_url=slack.response_url(f"m{i}")
                )
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers, method="POST"
                )
                with opener.open(request, timeout=TIMEOUT) as response:
                    assert response.status == 200
                    # the answer comes in the immediate response (later parts, if any, at the sink)
                    answered += '"response_type"' in response.read().decode()
            if answered != args.commands:
                raise RuntimeError(f"only {answered} of {args.commands} Slack commands answered")
            rows.append((f"+ {args.commands} Slack commands", memory(proc.pid)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)

    print(
        "kazkor run, Telegram long polling + Slack HTTP mode, against stand-ins "
        f"(Python {sys.version.split()[0]})"
    )
    print()
    print_memory(rows, 120)


def print_memory(rows: list[tuple[str, dict[str, float]]], target_mb: float, width: int = 28) -> None:
    """The RSS table (now and peak, per moment) and the peak against its target."""
    print(f"{'moment':<{width}} {'RSS MB':>8} {'peak MB':>8}")
    for label, values in rows:
        print(f"{label:<{width}} {values['VmRSS']:>8.1f} {values['VmHWM']:>8.1f}")
    peak = max(values["VmHWM"] for _, values in rows)
    print()
    print(
        f"peak RSS {peak:.1f} MB (target < {target_mb:g} MB) {'OK' if peak < target_mb else 'ABOVE TARGET'}"
    )


if __name__ == "__main__":
    main()
