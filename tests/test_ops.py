"""Operating the bot: /healthz and /metrics over real HTTP, and `kazkor doctor` against the stand-ins.

Plain test functions run their coroutines with ``asyncio.run``; the doctor runs as a subprocess, the way
an operator runs it, with the stand-in platforms in a thread. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.config import Config
from bot.ops.doctor import run_doctor
from bot.ops.health import DISCONNECTED_LIMIT, SCHEDULER_GRACE, Monitor
from bot.ops.metrics import Metrics
from bot.ops.routes import add_ops_routes
from tests.cli_kit import Ran, clean_env, run_cli, run_installed
from tests.conftest import open_store
from tests.standins.slack_api import FakeSlack
from tests.standins.telegram_api import FakeTelegram

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2024, 9, 20, 3, 0, tzinfo=UTC)
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=5)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


async def _serve_and_get(
    monitor: Monitor, metrics: Metrics, paths: list[str], between: Callable[[], None] | None = None
) -> list[tuple[int, str, str]]:
    """Mount the ops routes on a fresh aiohttp server on 127.0.0.1:<ephemeral>; GET each path in turn."""
    app = web.Application()
    add_ops_routes(app, monitor, metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    results = []
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as session:
            for path in paths:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    results.append((response.status, response.headers["Content-Type"], await response.text()))
                if between:
                    between()
    finally:
        await runner.cleanup()
    return results


def get(monitor: Monitor, metrics: Metrics, path: str) -> tuple[int, str, str]:
    return asyncio.run(_serve_and_get(monitor, metrics, [path]))[0]


def healthz(monitor: Monitor) -> tuple[int, dict]:
    status, content_type, body = get(monitor, Metrics(), "/healthz")
    assert content_type.startswith("application/json")
    return status, json.loads(body)


def running_monitor(clock: FakeClock) -> Monitor:
    """Both platforms up and the scheduler ticking every minute, as `kazkor run` would report."""
    monitor = Monitor(["slack", "telegram"], clock=clock)
    monitor.scheduler_started(clock() + timedelta(minutes=1))
    clock.advance(seconds=5)
    monitor.platform_connected("slack")
    monitor.platform_connected("telegram")
    clock.advance(seconds=55)
    monitor.scheduler_ticked(clock() + timedelta(minutes=1))
    return monitor


# -- /healthz -------------------------------------------------------------------------------------


def test_healthy_is_200_ok():
    clock = FakeClock()
    status, body = healthz(running_monitor(clock))
    assert status == 200
    assert body["status"] == "ok" and body["reasons"] == []
    assert body["platforms"]["telegram"]["connected"] is True
    assert body["scheduler"]["last_tick"] == (T0 + timedelta(minutes=1)).isoformat()


def test_platform_disconnected_four_minutes_is_503_naming_it():
    clock = FakeClock()
    monitor = running_monitor(clock)
    monitor.platform_disconnected("telegram", "NetworkError: connection reset")
    for _ in range(4):  # the scheduler keeps ticking: only the platform is unhealthy
        clock.advance(minutes=1)
        monitor.scheduler_ticked(clock() + timedelta(minutes=1))
    status, body = healthz(monitor)
    assert status == 503
    assert body["status"] == "unhealthy"
    assert len(body["reasons"]) == 1
    assert body["reasons"][0].startswith("telegram disconnected for 4 min")
    assert "NetworkError" in body["reasons"][0]
    assert body["platforms"]["slack"]["connected"] is True


def test_short_disconnect_stays_healthy_and_reconnect_heals():
    clock = FakeClock()
    monitor = running_monitor(clock)
    monitor.platform_disconnected("slack")
    clock.advance(seconds=DISCONNECTED_LIMIT.total_seconds() - 10)
    monitor.scheduler_ticked(clock() + timedelta(minutes=1))
    assert healthz(monitor)[0] == 200
    clock.advance(seconds=20)
    assert healthz(monitor)[0] == 503
    monitor.platform_connected("slack")
    assert healthz(monitor)[0] == 200


def test_platform_that_never_connects_is_unhealthy_after_the_limit():
    clock = FakeClock()
    monitor = Monitor(["telegram"], clock=clock)
    assert healthz(monitor)[0] == 200  # still starting
    clock.advance(minutes=4)
    status, body = healthz(monitor)
    assert status == 503 and "telegram disconnected for 4 min (not connected yet)" in body["reasons"]


def test_scheduler_overdue_is_503():
    clock = FakeClock()
    monitor = running_monitor(clock)
    expected = clock() + timedelta(minutes=1)
    clock.advance(seconds=(timedelta(minutes=1) + SCHEDULER_GRACE).total_seconds() - 1)
    assert healthz(monitor)[0] == 200  # late, but within the grace
    clock.advance(seconds=2)
    status, body = healthz(monitor)
    assert status == 503
    assert len(body["reasons"]) == 1
    assert body["reasons"][0].startswith(f"scheduler overdue: tick expected at {expected.isoformat()}")


def test_metrics_over_http_show_the_counters():
    clock = FakeClock()
    monitor = running_monitor(clock)
    monitor.platform_disconnected("slack", "socket closed")
    metrics = Metrics()
    metrics.command("telegram", "trade", 0.12)
    metrics.command("telegram", "trade", 0.3)
    metrics.command("slack", "/agreements", 0.05)
    metrics.command("slack", "no-such-command-" * 5, 0.01)  # unknown names are bounded to "other"
    metrics.reminder("telegram", "sent")
    metrics.reminder("slack", "skipped")
    metrics.reminder("slack", "failed")
    metrics.platform_error("telegram", "rate_limited")
    metrics.platform_error("slack", TimeoutError("slow"))

    status, content_type, text = get(monitor, metrics, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    lines = set(text.splitlines())
    assert 'kazkor_commands_total{command="trade",platform="telegram"} 2.0' in lines
    assert 'kazkor_commands_total{command="agreements",platform="slack"} 1.0' in lines
    assert 'kazkor_commands_total{command="other",platform="slack"} 1.0' in lines
    assert 'kazkor_reply_seconds_count{platform="telegram"} 2.0' in lines
    assert 'kazkor_reply_seconds_bucket{le="0.25",platform="telegram"} 1.0' in lines
    assert 'kazkor_reminders_total{outcome="sent",platform="telegram"} 1.0' in lines
    assert 'kazkor_reminders_total{outcome="skipped",platform="slack"} 1.0' in lines
    assert 'kazkor_reminders_total{outcome="failed",platform="slack"} 1.0' in lines
    assert 'kazkor_platform_errors_total{kind="rate_limited",platform="telegram"} 1.0' in lines
    assert 'kazkor_platform_errors_total{kind="timeouterror",platform="slack"} 1.0' in lines
    assert 'kazkor_platform_up{platform="telegram"} 1.0' in lines
    assert 'kazkor_platform_up{platform="slack"} 0.0' in lines
    last_tick = (T0 + timedelta(minutes=1)).timestamp()
    assert any(
        line.startswith("kazkor_scheduler_last_run_timestamp_seconds ")
        and float(line.split()[1]) == last_tick
        for line in lines
    )
    # A fresh Metrics starts from zero: each has its own registry.
    fresh = Metrics().render().decode()
    assert "kazkor_commands_total{" not in fresh


def test_metrics_reject_unknown_reminder_outcomes():
    metrics = Metrics()
    try:
        metrics.reminder("slack", "maybe")
    except ValueError as exc:
        assert "sent, skipped, failed" in str(exc)
    else:
        raise AssertionError("an unknown outcome must be refused")


# -- kazkor doctor ----------------------------------------------------------------------------------


def _doctor(env: dict[str, str], *, installed: bool = False) -> Ran:
    """``kazkor doctor`` with ``env`` set: in this process, or through the installed script."""
    full = clean_env({"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env})
    if installed:
        full["PYTHONIOENCODING"] = "utf-8"
    return (run_installed if installed else run_cli)("doctor", env=full)


def _platform_env(tg: FakeTelegram, slack: FakeSlack, state: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_URL": tg.base_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "SLACK_API_URL": slack.base_url,
        "KAZKOR_DB": str(state),
    }


def test_doctor_all_good(tmp_path):
    state = tmp_path / "state.json"
    store = open_store(state)
    store.save_subscription({"platform": "slack", "channel": "C1", "time": "09:00", "tz": "Asia/Almaty"})
    store.close()
    with FakeTelegram.run_in_thread() as tg, FakeSlack.run_in_thread() as slack:
        result = _doctor(_platform_env(tg, slack, state), installed=True)
        assert tg.calls["getMe"] == 1 and slack.calls["auth.test"] == 1
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert all(line.startswith("✓") for line in lines[:-1]), result.stdout
    names = [line.split(":")[0] for line in lines[:-1]]
    assert names == ["✓ configuration", "✓ state database", "✓ curated data", "✓ telegram", "✓ slack"]
    assert (
        f"✓ state database: SQLite {tmp_path / 'state.sqlite3'}: schema version 1 (current); "
        "1 subscriptions, "
        "0 deliveries recorded, 0 pending; no kazkor process runs the scheduler" in result.stdout
    )
    assert "@KazkorBot" in result.stdout
    assert lines[-1] == "all checks passed"
    for secret in (tg.token, slack.bot_token):
        assert secret not in result.stdout + result.stderr


def test_doctor_names_the_process_running_the_scheduler_and_lists_each_bad_record(tmp_path):
    from bot.state.leader import SqliteLeaderLock

    state = tmp_path / "state.json"
    store = open_store(state)
    store.save_subscription({"platform": "slack", "channel": "C1", "time": "09:00", "tz": "Asia/Almaty"})
    with store.engine.begin() as conn:  # an older or hand-edited record
        conn.exec_driver_sql(
            "INSERT INTO subscriptions VALUES "
            "('telegram', '-100BAD', '99:99', 'UTC', 1, '{\"time\": \"99:99\"}')"
        )
    running = SqliteLeaderLock(tmp_path / "state.sqlite3", "kazkor run")
    assert running.try_acquire()  # as `kazkor run` does
    try:
        result = _doctor({"KAZKOR_DB": str(state)})
    finally:
        running.release()
        store.close()
    line = next(line for line in result.stdout.splitlines() if "state database" in line)
    assert (
        line.startswith("✓ state database") and f"scheduler run by kazkor run pid {os.getpid()} on " in line
    )
    assert "✗ bad record: subscription telegram:-100BAD: time '99:99' is not HH:MM" in result.stdout
    assert "fix: subscribe again in that channel" in result.stdout and result.returncode == 1


def test_doctor_wrong_token_exits_1_with_a_fix_and_no_token(tmp_path):
    wrong_tg = "7012345678:AAwrongWRONGwrongWRONGwrongWRONG_xyz"
    wrong_slack = "xoxb-0000-0000-WrongBotToken"
    with FakeTelegram.run_in_thread() as tg, FakeSlack.run_in_thread() as slack:
        env = _platform_env(tg, slack, tmp_path / "state.json")
        env.update(TELEGRAM_BOT_TOKEN=wrong_tg, SLACK_BOT_TOKEN=wrong_slack)
        result = _doctor(env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "✗ telegram: getMe at 127.0.0.1" in output and "Unauthorized" in output
    assert "✗ slack: auth.test at 127.0.0.1" in output and "invalid_auth" in output
    fixes = [line.strip() for line in result.stdout.splitlines() if line.startswith("    fix: ")]
    assert any("TELEGRAM_BOT_TOKEN" in fix and "BotFather" in fix for fix in fixes)
    assert any("SLACK_BOT_TOKEN" in fix for fix in fixes)
    assert "✓ configuration" in output and "✓ curated data" in output
    for secret in (wrong_tg, wrong_slack, "AAwrongWRONG", "WrongBotToken"):
        assert secret not in output
    assert result.stdout.splitlines()[-1] == "2 checks failed"


def test_doctor_unreachable_platform_is_bounded(tmp_path):
    """A platform that never answers fails within the probe timeout, with a network hint."""
    env = {"KAZKOR_DB": str(tmp_path / "state.json")}
    with FakeTelegram.run_in_thread() as tg:
        tg.delay_next("getMe", 30)
        env.update(TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=tg.base_url)
        out = io.StringIO()
        started = time.monotonic()
        status = run_doctor(Config.from_env(env), out, probe_timeout=0.5)
        took = time.monotonic() - started
    assert status == 1 and took < 5  # bounded by the probe timeout, not by the 30 s delay
    assert "✗ telegram: getMe at 127.0.0.1" in out.getvalue() and "no answer within 0.5 s" in out.getvalue()
    assert "fix: check that this machine can reach" in out.getvalue()


def test_doctor_reports_an_old_state_file_that_cannot_be_migrated_and_leaves_it(tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"subscriptions": {"1": {"platform": "slack"')  # cut off mid-write
    with FakeTelegram.run_in_thread() as tg:
        result = _doctor(
            {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.base_url, "KAZKOR_DB": str(state)}
        )
    assert result.returncode == 1
    line = next(line for line in result.stdout.splitlines() if line.startswith("✗ old state file"))
    assert str(state) in line and "does not parse" in line
    assert "fix: restore" in result.stdout
    assert state.exists() and not (tmp_path / "state.sqlite3").exists(), "doctor only looks"
    assert "✓ telegram" in result.stdout


def test_doctor_says_what_an_old_state_file_will_migrate(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({
        "subscriptions": {"1": {"platform": "slack", "channel": "C1", "time": "09:00", "tz": "Asia/Almaty"}},
        "ledger": {"1": {"key": "slack:C1:x"}, "2": {"key": "slack:C1:y"}},
    }))  # fmt: skip
    result = _doctor({"KAZKOR_DB": str(state)})
    assert (
        f"✓ old state file: {state}: moves into the state database on the next start (1 subscriptions, "
        "2 deliveries, 0 pending, 0 added facts)"
    ) in result.stdout


def test_doctor_without_any_platform(tmp_path):
    result = _doctor({"KAZKOR_DB": str(tmp_path / "state.json")})
    assert result.returncode == 1
    assert "✗ configuration: no platform configured" in result.stdout
    assert "fix: set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN" in result.stdout


def test_monitor_for_config_watches_the_configured_platforms():
    config = Config.from_env({"TELEGRAM_BOT_TOKEN": "1:x"})
    monitor = Monitor.for_config(config, clock=FakeClock())
    assert list(monitor.snapshot()["platforms"]) == ["telegram"]


def test_the_watch_leaves_a_platform_that_has_not_started_marked_down():
    """A platform still waiting to start is down whether or not its API answers: the watch must not
    mark it connected before its front end serves again."""
    from bot.ops.wiring import PlatformWatch

    monitor = Monitor(platforms=["telegram", "slack"], clock=FakeClock())
    asked: list[str] = []

    def check(name: str):
        async def answer() -> bool:
            asked.append(name)
            return True

        return answer

    down = {"slack"}
    watch = PlatformWatch(
        {"telegram": check("telegram"), "slack": check("slack")}, monitor, Metrics(), skip=down.__contains__
    )
    asyncio.run(watch.check_once())
    platforms = monitor.snapshot()["platforms"]
    assert asked == ["telegram"]
    assert platforms["telegram"]["connected"] is True and platforms["slack"]["connected"] is False
    down.clear()  # it started: from now on it is watched like the others
    asyncio.run(watch.check_once())
    assert (
        asked == ["telegram", "telegram", "slack"] and monitor.snapshot()["platforms"]["slack"]["connected"]
    )


# -- wired into `kazkor run` ----------------------------------------------------------------------


def test_kazkor_run_serves_health_and_metrics_and_watches_the_platform(tmp_path, make_ctx):
    """The real runtime (Telegram long polling against the stand-in): /healthz and /metrics on its one
    server; the reachability watch turns the platform down when getMe fails and up again after."""
    from bot.app import serve
    from bot.bootstrap.runtime import build_runtime

    async def scenario() -> None:
        async with FakeTelegram() as tg:
            config = Config(
                db_path=tmp_path / "state.json",
                host="127.0.0.1",
                port=0,
                telegram_token=tg.token,
                telegram_api_url=tg.base_url,
            )
            runtime = build_runtime(config, make_ctx())
            stop = asyncio.Event()
            task = asyncio.create_task(serve(runtime, stop))
            try:
                await asyncio.wait_for(runtime.ready.wait(), 10)
                url = f"http://127.0.0.1:{runtime.http.bound_port}"
                async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
                    async with http.get(url + "/healthz") as response:
                        body = await response.json()
                        assert response.status == 200, body
                        assert body["platforms"]["telegram"]["connected"] is True
                    tg.push_command(4242, "/trade")  # a real command through the front end
                    await tg.wait_for_sent(1, 10)
                    async with http.get(url + "/metrics") as response:
                        text = await response.text()
                    assert 'kazkor_platform_up{platform="telegram"} 1.0' in text
                    assert 'kazkor_commands_total{command="trade",platform="telegram"} 1.0' in text
                    assert 'kazkor_reply_seconds_count{platform="telegram"} 1.0' in text

                    # the watch kazkor run itself started (its 60 s timer is not waited for: one round)
                    service = next(s for s in runtime.services if s.name == "platform-watch")
                    probe = service.start.__self__
                    calls = tg.calls["getMe"]
                    tg.fail_next("getMe", status=502, description="Bad Gateway")
                    await probe.check_once()
                    async with http.get(url + "/metrics") as response:
                        text = await response.text()
                    assert 'kazkor_platform_up{platform="telegram"} 0.0' in text
                    assert 'kazkor_platform_errors_total{kind="unreachable",platform="telegram"} 1.0' in text
                    snapshot = runtime.monitor.snapshot()["platforms"]["telegram"]
                    assert snapshot["connected"] is False and tg.token not in json.dumps(snapshot)
                    await probe.check_once()  # getMe works again
                    assert runtime.monitor.snapshot()["platforms"]["telegram"]["connected"] is True
                    assert tg.calls["getMe"] == calls + 2  # each round asked Telegram itself
            finally:
                stop.set()
                assert await asyncio.wait_for(task, 15) == 0

    asyncio.run(asyncio.wait_for(scenario(), 40))


def test_scheduler_gauge_only_moves_forward():
    metrics = Metrics(process_metrics=False)
    metrics.scheduler_ran(T0 + timedelta(hours=1))
    metrics.scheduler_ran(T0)  # an older report (e.g. the monitor's last tick) does not move it back
    text = metrics.render().decode()
    expected = (T0 + timedelta(hours=1)).timestamp()
    values = [
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("kazkor_scheduler_last_run_timestamp_seconds ")
    ]
    assert values == [expected]


def test_command_aliases_count_under_their_command():
    metrics = Metrics(process_metrics=False)
    metrics.command("telegram", "/events", 0.01)  # an alias of /timeline
    metrics.command("telegram", "/timeline", 0.01)
    assert 'kazkor_commands_total{command="timeline",platform="telegram"} 2.0' in metrics.render().decode()
