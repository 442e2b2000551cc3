"""Idle-connection flood against the real ``kazkor run`` (issue 10, item 1).

Run: python bench/bench_connections.py [--flood 1000 2000] [--wait 20] [--src DIR]

For each flood size: a fresh ``kazkor run`` (Slack HTTP mode against the stand-in Slack, default
settings, soft file limit 1,024 as on a stock host) and N connections that each send
``POST /slack/events HTTP/1.1`` + ``Host`` and then nothing. Then, with the flood still connected:
``GET /healthz`` and a signed ``/trade`` slash command (status and latency; "fail" when no answer came
within 5 s), the server's open file descriptors, and how many idle sockets the server still holds
right away and after ``--wait`` seconds (default 20: past the 15 s idle timeout). Finally the log
the server wrote (lines, ERROR lines, bytes).

``--src DIR`` runs the kazkor found in DIR instead (e.g. an export of an older commit:
``git archive <commit> | tar -x -C /tmp/kazkor-before``), so before and after are measured alike.
Targets: both answered < 1 s with 2,000 idle connections, every idle socket closed after the timeout,
the log a few lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.flood import close_all, open_idle, raise_own_file_limit, still_open  # noqa: E402
from tests.running import clean_env, free_port, wait_sync  # noqa: E402
from tests.standins.slack_api import FakeSlack, signed_slash_request  # noqa: E402

SECRET = "bench-signing-secret"
FILE_LIMIT = 1024


def _low_file_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, hard))


async def _timed(make) -> str:
    started = time.monotonic()
    try:
        async with asyncio.timeout(5):
            status = await make()
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return f"fail ({type(exc).__name__})"
    return f"{status} in {(time.monotonic() - started) * 1000:.0f} ms"


async def probe(port: int, slack: FakeSlack, flood: int, wait: float, pid: int) -> dict[str, str]:
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # until it listens
            try:
                async with session.get(f"{base}/healthz") as r:
                    await r.read()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    started = time.monotonic()
    conns = await open_idle(port, flood, timeout=60)
    row = {"connected": f"{len(conns)} in {time.monotonic() - started:.1f} s"}

    async def healthz() -> int:
        async with aiohttp.ClientSession() as s, s.get(f"{base}/healthz") as r:
            await r.read()
            return r.status

    async def slash() -> int:
        body, headers = signed_slash_request(
            SECRET, command="/trade", text="", response_url=slack.response_url("bench")
        )
        async with (
            aiohttp.ClientSession() as s,
            s.post(f"{base}/slack/events", data=body, headers=headers) as r,
        ):
            text = await r.text()
            return r.status if "US$6 billion" in text else -r.status

    row["/healthz"] = await _timed(healthz)
    row["/trade"] = await _timed(slash)
    try:
        row["server fds"] = str(len(os.listdir(f"/proc/{pid}/fd")))
    except OSError:
        row["server fds"] = "?"
    row["open now"] = str(await still_open(conns, 0.5))
    row[f"open after {wait:.0f} s"] = str(await still_open(conns, wait))
    close_all(conns)
    return row


def one_run(flood: int, wait: float, src: Path) -> dict[str, str]:
    port = free_port()
    with FakeSlack.run_in_thread() as slack, tempfile.TemporaryDirectory() as tmp:
        env = clean_env(
            KAZKOR_DB=str(Path(tmp) / "state.json"),
            KAZKOR_HOST="127.0.0.1",
            PORT=str(port),
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_API_URL=slack.base_url,
            SLACK_SIGNING_SECRET=SECRET,
            PYTHONPATH=str(src),
        )
        log_path = Path(tmp) / "kazkor.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"],
                env=env,
                cwd=src,
                stdout=log,
                stderr=log,
                preexec_fn=_low_file_limit,
            )
            try:
                wait_sync(lambda: slack.calls["auth.test"] >= 1, 30, "Slack start", proc)
                row = asyncio.run(probe(port, slack, flood, wait, proc.pid))
            finally:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        text = log_path.read_text(errors="replace")
        lines = text.splitlines()
        row["log"] = f"{len(lines)} lines, {sum(' ERROR ' in x for x in lines)} ERROR, {len(text):,} B"
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flood", type=int, nargs="+", default=[1000, 2000])
    parser.add_argument("--wait", type=float, default=20.0)
    parser.add_argument("--src", type=Path, default=ROOT)
    args = parser.parse_args()
    raise_own_file_limit(max(args.flood) + 500)
    rows = [(n, one_run(n, args.wait, args.src.resolve())) for n in args.flood]
    print(f"kazkor from {args.src}; server soft file limit {FILE_LIMIT}")
    keys = list(rows[0][1])
    print(" | ".join(["idle conns", *keys]))
    for n, row in rows:
        print(" | ".join([f"{n:>10}", *(row[k] for k in keys)]))


if __name__ == "__main__":
    main()
