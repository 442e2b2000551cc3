"""``kazkor run`` as an operator runs it: a real subprocess, both platforms against stand-ins running in
threads, stopped with SIGTERM. Plus the runtime's extension points, in-process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request

import aiohttp
from aiohttp import web

from bot.app import serve
from bot.bootstrap.runtime import build_runtime
from bot.service import Service
from tests.cli_kit import run_cli
from tests.running import (
    TIMEOUT,
    base_url,
    clean_env,
    free_port,
    loopback_config,
    run,
    start_kazkor,
    wait_sync,
)
from tests.standins.slack_api import FakeSlack, signed_slash_request
from tests.standins.telegram_api import FakeTelegram

SECRET = "subprocess-signing-secret"
STOP_WITHIN = 10.0


def test_run_without_a_platform_says_what_to_set_and_exits_2(tmp_path):
    ran = run_cli("run", env=clean_env(KAZKOR_DB=str(tmp_path / "state.json")))  # in-process: exits at once
    out, err = ran.stdout, ran.stderr
    assert ran.returncode == 2
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "kazkor console",
    ):
        assert name in err
    assert "Traceback" not in out + err


def sigterm_and_wait(proc) -> tuple[float, str]:
    """SIGTERM, then the seconds until exit (bounded) and stderr."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=STOP_WITHIN + 5)
    except Exception:
        proc.kill()
        proc.communicate(timeout=TIMEOUT)
        raise
    return time.monotonic() - started, err


def post_signed(url: str, fake: FakeSlack, command: str, text: str, name: str) -> tuple[int, dict]:
    """POST a signed slash command; (HTTP status, the JSON body: the answer is in the ack)."""
    body, headers = signed_slash_request(
        SECRET, command=command, text=text, response_url=fake.response_url(name)
    )
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(request, timeout=TIMEOUT) as response:
        return response.status, json.loads(response.read())


def both_platforms_env(tmp_path, port: int, telegram, slack, **mode: str) -> dict[str, str]:
    """`kazkor run`'s environment with both stand-ins; ``mode`` picks webhook / HTTP / Socket Mode."""
    return clean_env(
        KAZKOR_DB=str(tmp_path / "state.json"),
        KAZKOR_HOST="127.0.0.1",
        PORT=str(port),
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.base_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.base_url,
        **mode,
    )


def test_sigterm_stops_both_platforms_within_10_seconds(tmp_path):
    """Telegram long polling + Slack HTTP mode in one process; both answer; SIGTERM exits 0 quickly."""
    port = free_port()
    with FakeTelegram.run_in_thread() as telegram, FakeSlack.run_in_thread() as slack:
        env = both_platforms_env(tmp_path, port, telegram, slack, SLACK_SIGNING_SECRET=SECRET)
        proc = start_kazkor("run", env=env)
        try:
            wait_sync(lambda: telegram.calls["getUpdates"] >= 1, 20, "Telegram polling", proc)
            telegram.push_command(42, "/agreements 2024")
            assert "12 Jun 2024" in "".join(m.visible_text for m in telegram.wait_for_sent_sync(1, TIMEOUT))

            events = f"http://127.0.0.1:{port}/slack/events"
            wait_sync(lambda: slack.calls["auth.test"] >= 1, 20, "Slack start", proc)
            status, answer = post_signed(events, slack, "/trade", "", "trade")
            assert status == 200
            assert answer["response_type"] == "in_channel" and "— US$6 billion:" in answer["text"]
        finally:
            seconds, err = sigterm_and_wait(proc)
        assert proc.returncode == 0, err
        assert seconds < STOP_WITHIN, err
        assert "Traceback" not in err and " ERROR " not in err
        assert "will be unused" not in err  # Bolt's env-token warning is expected and silenced
        assert telegram.token not in err and SECRET not in err


def test_sigterm_with_telegram_webhook_and_slack_socket_mode(tmp_path):
    port = free_port()
    with FakeTelegram.run_in_thread() as telegram, FakeSlack.run_in_thread() as slack:
        env = both_platforms_env(
            tmp_path,
            port,
            telegram,
            slack,
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET="hook-secret",
            SLACK_APP_TOKEN=slack.app_token,
        )
        proc = start_kazkor("run", env=env)
        try:
            wait_sync(lambda: telegram.calls["setWebhook"] >= 1, 20, "the Telegram webhook", proc)
            wait_sync(lambda: slack.calls["apps.connections.open"] >= 1, 20, "Socket Mode", proc)
            assert telegram.calls["getUpdates"] == 0
        finally:
            seconds, err = sigterm_and_wait(proc)
        assert proc.returncode == 0, err
        assert seconds < STOP_WITHIN, err


def test_routes_and_services_plug_in_and_stop_in_reverse_order(tmp_path, make_ctx):
    """What the health/metrics and scheduler features use: a route setup and a service."""
    events: list[str] = []

    def extra_routes(app: web.Application) -> None:
        async def plugged(request: web.Request) -> web.Response:
            return web.json_response({"ok": True})

        app.router.add_get("/plugged-in", plugged)

    def service(name: str) -> Service:
        async def start() -> None:
            events.append(f"start {name}")

        async def stop() -> None:
            events.append(f"stop {name}")

        return Service(name, start, stop)

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.base_url)
            runtime = build_runtime(config, make_ctx())
            assert list(runtime.fronts) == ["telegram"] and runtime.slack is None
            runtime.http.route_setups.append(extra_routes)
            runtime.services.append(service("scheduler"))
            stop = asyncio.Event()
            task = asyncio.create_task(serve(runtime, stop))
            await asyncio.wait_for(runtime.ready.wait(), TIMEOUT)
            url = base_url(runtime) + "/plugged-in"
            async with aiohttp.ClientSession() as http, http.get(url) as response:
                assert response.status == 200 and await response.json() == {"ok": True}
            stop.set()
            assert await asyncio.wait_for(task, 12) == 0
            names = [s.name for s in runtime.services]
            assert names.index("telegram") < names.index("http") < names.index("scheduler") == len(names) - 1
            assert events == ["start scheduler", "stop scheduler"]

    run(scenario())


def test_a_service_that_fails_to_start_stops_the_others(tmp_path, make_ctx):
    events: list[str] = []

    async def ok_start() -> None:
        events.append("start first")

    async def ok_stop() -> None:
        events.append("stop first")

    async def broken_start() -> None:
        raise RuntimeError("no database")

    async def scenario():
        config = loopback_config(tmp_path, telegram_token="1:x")
        runtime = build_runtime(config, make_ctx())
        runtime.services[:] = [Service("first", ok_start, ok_stop), Service("second", broken_start, ok_stop)]
        assert await asyncio.wait_for(serve(runtime, asyncio.Event()), 12) == 1
        assert events == ["start first", "stop first"]

    run(scenario())


def both_platforms(tmp_path, tg: FakeTelegram, sl: FakeSlack):
    return loopback_config(
        tmp_path,
        telegram_token=tg.token,
        telegram_api_url=tg.base_url,
        slack_bot_token=sl.bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=sl.base_url,
    )


async def healthz(runtime) -> dict:
    async with aiohttp.ClientSession() as http, http.get(base_url(runtime) + "/healthz") as response:
        return await response.json()


def test_a_platform_that_refuses_its_token_at_start_leaves_the_other_serving(tmp_path, make_ctx):
    """Slack says invalid_auth at start: Telegram still answers, Slack is reported down (not retried:
    only a person can fix a token), and kazkor stops cleanly (exit 0) when asked."""

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            sl.fail_next("auth.test", "invalid_auth")
            runtime = build_runtime(both_platforms(tmp_path, tg, sl), make_ctx())
            runtime.platform_retry_delays = (0.1,)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(runtime, stop))
            await asyncio.wait_for(runtime.ready.wait(), TIMEOUT)
            tg.push_command(1001, "/help")
            (answer,) = await tg.wait_for_sent(1, TIMEOUT)
            assert answer.chat_id == 1001 and "/trade" in answer.visible_text
            await asyncio.sleep(0.5)  # several retry delays: a refused token is not tried again
            assert runtime.down == {"slack"} and sl.calls["auth.test"] == 1
            slack = (await healthz(runtime))["platforms"]["slack"]
            assert slack["connected"] is False and slack["reason"] == "could not start (AuthFailed)"
            stop.set()
            assert await asyncio.wait_for(task, 12) == 0

    run(scenario())


def test_a_platform_down_at_start_is_tried_again_and_serves_when_it_is_back(tmp_path, make_ctx):
    """Telegram answers 502 to getMe twice at start: Slack serves meanwhile; Telegram comes up on a
    later try and answers, without a restart."""

    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            tg.fail_next("getMe", status=502, description="Bad Gateway", count=2)
            runtime = build_runtime(both_platforms(tmp_path, tg, sl), make_ctx())
            runtime.platform_retry_delays = (0.2,)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(runtime, stop))
            await asyncio.wait_for(runtime.ready.wait(), TIMEOUT)
            assert runtime.down == {"telegram"}
            async with aiohttp.ClientSession() as http:
                request = signed_slash_request(
                    SECRET, command="/help", text="", response_url=sl.response_url("help")
                )
                body, headers = request
                async with http.post(base_url(runtime) + "/slack/events", data=body, headers=headers) as r:
                    assert r.status == 200 and "/trade" in (await r.json())["text"]
            await tg.wait_until(lambda: not runtime.down, 5, "Telegram to start on a later try")
            assert tg.calls["getMe"] == 3
            tg.push_command(1001, "/help")
            (answer,) = await tg.wait_for_sent(1, TIMEOUT)
            assert "/trade" in answer.visible_text
            assert (await healthz(runtime))["platforms"]["telegram"]["connected"] is True
            stop.set()
            assert await asyncio.wait_for(task, 12) == 0

    run(scenario())


def test_kazkor_stops_when_no_platform_can_start(tmp_path, make_ctx):
    async def scenario():
        async with FakeTelegram() as tg, FakeSlack() as sl:
            sl.fail_next("auth.test", "invalid_auth")
            tg.fail_next("getMe", status=502, description="Bad Gateway")
            runtime = build_runtime(both_platforms(tmp_path, tg, sl), make_ctx())
            assert await asyncio.wait_for(serve(runtime, asyncio.Event()), 15) == 1
            assert not runtime.ready.is_set() and tg.calls["getUpdates"] == 0

    run(scenario())


def test_env_example_lists_every_setting_with_its_default():
    import re
    from pathlib import Path

    from bot.config import Config

    root = Path(__file__).resolve().parents[1]
    read = set(re.findall(r'get\("([A-Z_]+)"\)', (root / "bot" / "config.py").read_text()))
    example = (root / "deploy" / ".env.example").read_text()
    listed = set(re.findall(r"^(?:# )?([A-Z_]+)=", example, re.M))  # "# NAME=": listed, left unset
    assert read <= listed, f"missing from deploy/.env.example: {sorted(read - listed)}"
    values = dict(re.findall(r"^([A-Z_]+)=(.*)$", example, re.M))
    assert Config.from_env(values) == Config()  # the example's values are the defaults
    for name in listed:  # each has a comment line just above it
        assert re.search(rf"^# .+\n(# )?{name}=", example, re.M), name


def test_a_telegram_only_runtime_does_not_load_the_slack_library(tmp_path):
    """Issue 9 (`kazkor run` under 100 MB RSS): slack_bolt + slack_sdk are ~8 MB a Telegram-only
    deployment never uses; with a Slack token they are loaded and Slack is served."""
    code = (
        "import sys\nfrom bot.bootstrap.context import build_context\n"
        "from bot.bootstrap.runtime import build_runtime\nfrom tests.running import loopback_config\n"
        "from pathlib import Path\n"
        "def fronts(**tokens):\n"
        "    config = loopback_config(Path(sys.argv[1]), **tokens)\n"
        "    return sorted(build_runtime(config, build_context(config, with_state=False)).fronts)\n"
        "print(fronts(telegram_token='1:x'), 'slack_bolt' in sys.modules, 'slack_sdk' in sys.modules)\n"
        "print(fronts(slack_bot_token='xoxb-1', slack_signing_secret='s'), 'slack_bolt' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["['telegram'] False False", "['slack'] True"]
