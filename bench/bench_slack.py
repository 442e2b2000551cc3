"""Slack HTTP mode under load: kazkor's ``/slack/events`` vs a bare Bolt ``AsyncApp`` that only acks.

Run: python bench/bench_slack.py [--requests N] [--concurrency C]
Target (issue 3): kazkor's acked requests/s >= 0.85 x the bare app's, same run, same machine.

Three processes per server under test, all on 127.0.0.1:
- the stand-in Slack (Web API for ``auth.test`` + the ``response_url`` sink), in its own process;
- the server under test, in its own process: either ``kazkor``, the real ``kazkor run`` runtime with
  Slack only (Bolt + signature check + shared core + Block Kit render, the answer in the ack's HTTP
  200 body as Slack's immediate response, plus /healthz and /metrics mounted), or ``bare``, a Bolt
  AsyncApp on the same aiohttp adapter whose ``/trade`` listener only acks (empty body);
- this process: C concurrent clients POSTing N correctly signed ``/trade`` requests.

Measured for both, the same way: acks, i.e. requests that got HTTP 200 from the server under test,
per second of wall time, and the p50/p99 of request -> HTTP 200 latency. For kazkor also: answered
per second, i.e. N / time until every request had its whole in_channel answer: in the ack's body
(checked for each request), plus any further parts at the response_url sink (none for /trade: one
message). The bare app sends no answer. Signing is done before the clock starts. Bounded: every wait
has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
START_TIMEOUT = 20.0
RUN_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- child: the stand-in Slack with a counter route ----------------------------------------------


def serve_standin(port: int) -> None:
    from aiohttp import web

    from tests.standins.slack_api import FakeSlack

    class CountingSlack(FakeSlack):
        def build_app(self) -> web.Application:
            app = super().build_app()

            async def count(request: web.Request) -> web.Response:
                return web.json_response({"responses": len(self.responses)})

            app.router.add_get("/count", count)
            return app

    async def main() -> None:
        fake = CountingSlack(bot_token=BOT_TOKEN)
        fake.start_port = port
        fake._runner = web.AppRunner(fake.build_app(), access_log=None)
        await fake._runner.setup()
        await web.TCPSite(fake._runner, "127.0.0.1", port).start()
        fake.port = port
        fake._loop = asyncio.get_running_loop()
        print("ready", flush=True)
        await asyncio.sleep(RUN_TIMEOUT * 3)

    asyncio.run(main())


# --- child: the server under test ---------------------------------------------------------------


def serve_bare(port: int, api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.app.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    async def main() -> None:
        app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url), signing_secret=SECRET)

        @app.command("/trade")
        async def trade(ack) -> None:
            await ack()

        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

        web_app = web.Application()
        web_app.router.add_post("/slack/events", events)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        print("ready", flush=True)
        await asyncio.sleep(RUN_TIMEOUT * 3)

    asyncio.run(main())


def serve_kazkor(port: int, api_url: str) -> None:
    import logging

    from bot.app import serve
    from bot.bootstrap.context import build_context
    from bot.bootstrap.runtime import build_runtime
    from bot.config import Config

    logging.basicConfig(level=logging.WARNING)
    config = Config(
        port=port,
        host="127.0.0.1",
        db_path=Path(f"/tmp/kazkor-bench-slack-{os.getpid()}.json"),
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=api_url,
    )
    ctx = build_context(config)

    async def main() -> None:
        runtime = build_runtime(config, ctx)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(runtime, stop))
        await asyncio.wait_for(runtime.ready.wait(), START_TIMEOUT)
        print("ready", flush=True)
        await asyncio.sleep(RUN_TIMEOUT * 3)
        stop.set()
        await task

    asyncio.run(main())


# --- parent: the load -------------------------------------------------------------------------


def start_child(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], env=child_env(), stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + START_TIMEOUT
    line = proc.stdout.readline() if proc.stdout else ""
    if line.strip() != "ready" or time.monotonic() > deadline:
        proc.kill()
        raise RuntimeError(f"child {args} did not start: {line!r}")
    return proc


def signed_bodies(n: int, sink_root: str) -> list[tuple[bytes, dict[str, str]]]:
    from tests.standins.slack_api import signed_slash_request

    return [
        signed_slash_request(SECRET, command="/trade", text="", response_url=f"{sink_root}/respond/r{i}")
        for i in range(n)
    ]


async def load(
    url: str, bodies, concurrency: int, sink_root: str, answers_expected: bool, sink_parts: int = 0
) -> dict:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    in_body = 0
    queue = list(reversed(bodies))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        before = await answers(http, sink_root)

        async def worker() -> None:
            nonlocal in_body
            while queue:
                body, headers = queue.pop()
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    raw = await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)
                if answers_expected and raw[:1] == b"{":
                    answer = json.loads(raw)
                    in_body += answer.get("response_type") == "in_channel" and bool(answer.get("text"))

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(concurrency))), RUN_TIMEOUT)
        acked = time.perf_counter() - started
        answered = None
        if answers_expected:
            if in_body != len(bodies):
                raise RuntimeError(f"only {in_body} of {len(bodies)} acks carried the answer")
            deadline = time.monotonic() + RUN_TIMEOUT
            while await answers(http, sink_root) - before < sink_parts * len(bodies):
                if time.monotonic() > deadline:
                    raise TimeoutError("not every request was answered at the sink")
                await asyncio.sleep(0.01)
            answered = time.perf_counter() - started
    latencies.sort()
    return {
        "n": len(bodies),
        "ok": statuses.get(200, 0),
        "statuses": statuses,
        "acks_per_s": len(bodies) / acked,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "answered_per_s": len(bodies) / answered if answered else None,
    }


async def answers(http, sink_root: str) -> int:
    async with http.get(f"{sink_root}/count") as response:
        return json.loads(await response.text())["responses"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, args: argparse.Namespace, sink_root: str, sink_pid: int) -> dict:
    """One server process, a warm-up, then ``args.rounds`` measured rounds; the median round is kept."""
    port = free_port()
    server = start_child("--serve", kind, "--port", str(port), "--api", f"{sink_root}/api/")
    expect = kind == "kazkor"
    url = f"http://127.0.0.1:{port}/slack/events"
    try:
        warm = signed_bodies(args.warmup, sink_root)
        asyncio.run(load(url, warm, args.concurrency, sink_root, expect))
        rounds = []
        for _ in range(args.rounds):
            bodies = signed_bodies(args.requests, sink_root)
            server_cpu, sink_cpu = cpu_seconds(server.pid), cpu_seconds(sink_pid)
            result = asyncio.run(load(url, bodies, args.concurrency, sink_root, expect))
            result["server_cpu_ms"] = (cpu_seconds(server.pid) - server_cpu) / len(bodies) * 1000
            result["sink_cpu_ms"] = (cpu_seconds(sink_pid) - sink_cpu) / len(bodies) * 1000
            rounds.append(result)
        rounds.sort(key=lambda r: r["acks_per_s"])
        return rounds[len(rounds) // 2]
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=("kazkor", "bare", "standin"))
    parser.add_argument("--port", type=int)
    parser.add_argument("--api")
    args = parser.parse_args()
    if args.serve == "standin":
        return serve_standin(args.port)
    if args.serve == "bare":
        return serve_bare(args.port, args.api)
    if args.serve == "kazkor":
        return serve_kazkor(args.port, args.api)

    sink_port = free_port()
    standin = start_child("--serve", "standin", "--port", str(sink_port))
    sink_root = f"http://127.0.0.1:{sink_port}"
    try:
        results = {kind: measure(kind, args, sink_root, standin.pid) for kind in ("bare", "kazkor")}
    finally:
        standin.terminate()
        standin.wait(10)

    print(
        f"Slack HTTP mode: {args.requests} signed /trade requests x {args.rounds} rounds (median shown), "
        f"{args.concurrency} concurrent, after {args.warmup} warm-up; CPUs: {os.cpu_count()}"
    )
    print()
    print(
        f"{'server':<8} {'HTTP 200':>10} {'acks/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'answered/s':>11}"
        f" {'server CPU ms/req':>18} {'sink CPU ms/req':>16}"
    )
    for kind, r in results.items():
        answered = f"{r['answered_per_s']:.0f}" if r["answered_per_s"] else "—"
        print(
            f"{kind:<8} {r['ok']:>5}/{r['n']:<4} {r['acks_per_s']:>8.0f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {answered:>11} {r['server_cpu_ms']:>18.2f} {r['sink_cpu_ms']:>16.2f}"
        )
    ratio = results["kazkor"]["acks_per_s"] / results["bare"]["acks_per_s"]
    cpu_ratio = results["bare"]["server_cpu_ms"] / results["kazkor"]["server_cpu_ms"]
    print()
    print(f"kazkor / bare acks/s: {ratio:.2f} (target >= 0.85) {'OK' if ratio >= 0.85 else 'BELOW TARGET'}")
    print(f"bare / kazkor server CPU per request: {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
