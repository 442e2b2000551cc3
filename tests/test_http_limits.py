"""The HTTP server's limits (issue 10, item 1): a flood of idle connections against the real
``kazkor run`` at a 1,024 file limit, and each limit on its own against the same ``WebServer``."""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import time

import aiohttp
from aiohttp import web

from bot.http import WebServer
from bot.http_limits import HttpLimits, ThrottledLoopErrors
from tests.flood import close_all, open_idle, raise_own_file_limit, still_open
from tests.running import TIMEOUT, clean_env, free_port, run, start_kazkor, wait_sync
from tests.standins.slack_api import FakeSlack, signed_slash_request

SECRET = "flood-signing-secret"
FLOOD = 2000
FILE_LIMIT = 1024  # the usual default soft limit, which the flood once exhausted
IDLE_TIMEOUT = 1.0  # injected short: the flood is closed after it; the wait below is bounded by it
ANSWER_WITHIN = 1.0


def _low_file_limit() -> None:  # runs in the child before exec
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, hard))


async def _get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(5)) as r:
        await r.read()
        return r.status, time.monotonic() - started


async def _slash(url: str, slack: FakeSlack, text: str) -> tuple[int, dict, float]:
    body, headers = signed_slash_request(
        SECRET, command="/trade", text=text, response_url=slack.response_url("flood")
    )
    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(5)) as r,
    ):
        answer = await r.json()
        return r.status, answer, time.monotonic() - started


def test_2000_idle_connections_leave_kazkor_run_answering_and_are_all_closed(tmp_path):
    raise_own_file_limit(FLOOD + 500)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with FakeSlack.run_in_thread() as slack:
        env = clean_env(
            KAZKOR_DB=str(tmp_path / "state.json"),
            KAZKOR_HOST="127.0.0.1",
            PORT=str(port),
            SLACK_BOT_TOKEN=slack.bot_token,
            SLACK_API_URL=slack.base_url,
            SLACK_SIGNING_SECRET=SECRET,
            KAZKOR_HTTP_IDLE_TIMEOUT=str(IDLE_TIMEOUT),
        )
        proc = start_kazkor("run", env=env, preexec_fn=_low_file_limit)
        try:
            wait_sync(lambda: slack.calls["auth.test"] >= 1, 20, "Slack start", proc)

            async def flood() -> None:
                for _ in range(100):  # until the server listens (bounded)
                    try:
                        await _get(f"{base}/healthz")
                        break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.1)
                conns = await open_idle(port, FLOOD)
                try:
                    assert len(conns) == FLOOD  # every connect got through (kazkor never stopped accepting)
                    status, seconds = await _get(f"{base}/healthz")
                    assert status == 200 and seconds < ANSWER_WITHIN
                    status, answer, seconds = await _slash(f"{base}/slack/events", slack, "")
                    assert status == 200 and seconds < ANSWER_WITHIN
                    assert "2023 (year inferred) — US$6 billion" in answer["text"]
                    # what the server holds stays far from the file limit
                    assert len(os.listdir(f"/proc/{proc.pid}/fd")) < FILE_LIMIT - 200
                    assert await still_open(conns, IDLE_TIMEOUT + 4) == 0
                finally:
                    close_all(conns)

            run(flood(), limit=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=15)
            except Exception:
                proc.kill()
                proc.communicate(timeout=TIMEOUT)
                raise
    assert proc.returncode == 0, err
    assert "Traceback" not in err and " ERROR " not in err, err[-3000:]
    # the cap's warning is written once per interval, not once per connection
    assert err.count("the cap (500) reached") == 1, err[-3000:]


# --- each limit on its own, in-process ---------------------------------------------------------------


def _server(limits: HttpLimits, release: asyncio.Event | None = None) -> WebServer:
    server = WebServer("127.0.0.1", 0, limits)

    async def echo(request: web.Request) -> web.Response:
        if release is not None:
            await release.wait()
        return web.Response(text=f"{len(await request.read())} bytes")

    server.route_setups.append(lambda app: app.router.add_route("*", "/echo", echo))
    return server


async def _exchange(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send ``request`` on a new connection; everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        async with asyncio.timeout(timeout):
            return await reader.read(-1)
    finally:
        writer.close()


def test_a_body_that_never_arrives_gets_408_and_the_connection_is_closed():
    async def scenario() -> None:
        server = _server(HttpLimits(body_timeout=0.5))
        await server.start()
        try:
            started = time.monotonic()
            head = b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
            answer = await _exchange(server.bound_port, head)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
            assert 0.4 < time.monotonic() - started < 3
            # a whole body in time is answered as before
            whole = await _exchange(
                server.bound_port, b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                b"Content-Length: 3\r\n\r\nabc"
            )  # fmt: skip
            assert whole.startswith(b"HTTP/1.1 200 OK") and whole.endswith(b"3 bytes")
        finally:
            await server.stop()

    run(scenario())


def test_an_oversized_body_gets_413_before_any_handler_runs():
    async def scenario() -> None:
        server = _server(HttpLimits(max_body=1000))
        await server.start()
        try:
            answer = await _exchange(
                server.bound_port,
                b"POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5000\r\n\r\n"
                + b"x" * 5000,
            )
            assert answer.startswith(b"HTTP/1.1 413 Request Entity Too Large")
        finally:
            await server.stop()

    run(scenario())


def test_a_keep_alive_connection_closes_after_its_last_allowed_request():
    async def scenario() -> None:
        server = _server(HttpLimits(max_requests_per_connection=2))
        await server.start()
        try:
            one = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"
            answer = await _exchange(server.bound_port, one * 3)  # pipelined: the third is never answered
            assert answer.count(b"HTTP/1.1 200 OK") == 2
            first, second = answer.split(b"HTTP/1.1 200 OK")[1:]
            assert b"Connection: close" not in first and b"Connection: close" in second
        finally:
            await server.stop()

    run(scenario())


GET_AND_CLOSE = b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def test_at_the_cap_the_oldest_idle_connection_makes_room_and_busy_ones_are_kept():
    async def scenario() -> None:
        release = asyncio.Event()
        server = _server(HttpLimits(max_connections=2), release)
        await server.start()
        port = server.bound_port
        try:
            idle = await open_idle(port, 1)
            await asyncio.sleep(0.1)
            busy = [asyncio.create_task(_exchange(port, GET_AND_CLOSE))]
            await asyncio.sleep(0.2)
            # a third connection: the idle one is closed to make room, the busy one is kept
            third = asyncio.create_task(_exchange(port, GET_AND_CLOSE))
            assert await still_open(idle, 2) == 0
            assert not busy[0].done()
            # now both connections are busy: a fourth is refused at once with 503
            refused = await _exchange(port, GET_AND_CLOSE, timeout=2)
            assert refused.startswith(b"HTTP/1.1 503 Service Unavailable")
            release.set()
            for task in (*busy, third):
                assert (await asyncio.wait_for(task, 5)).startswith(b"HTTP/1.1 200 OK")
            assert server.guard is not None and (server.guard.closed_idle, server.guard.refused) == (1, 1)
        finally:
            release.set()
            await server.stop()

    run(scenario())


def test_a_storm_of_identical_loop_errors_is_logged_once_per_interval(caplog):
    """asyncio reports every failed accept() (e.g. EMFILE at the file limit) through the loop's
    exception handler: 147,000 ERROR lines in 35 s before."""
    now = [100.0]
    throttle = ThrottledLoopErrors(interval=60, clock=lambda: now[0])
    loop = asyncio.new_event_loop()
    try:
        throttle.install(loop)
        emfile = OSError(24, "Too many open files")
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            for _ in range(1000):
                loop.call_exception_handler(
                    {"message": "socket.accept() out of system resource", "exception": emfile}
                )
            loop.call_exception_handler({"message": "something else", "exception": ValueError()})
            now[0] += 61
            loop.call_exception_handler(
                {"message": "socket.accept() out of system resource", "exception": emfile}
            )
        messages = [r.getMessage() for r in caplog.records]
        assert messages == [
            "socket.accept() out of system resource",
            "something else",
            "socket.accept() out of system resource (999 more like it held back in the last 60 s)",
        ]
        throttle.uninstall(loop)
        assert loop.get_exception_handler() is None
    finally:
        loop.close()


def test_malformed_requests_get_400_and_one_warning_line_not_a_traceback_each(caplog):
    """aiohttp logs a traceback at ERROR for every malformed request: a client could fill the log."""

    async def scenario() -> None:
        server = _server(HttpLimits())
        await server.start()
        try:
            with caplog.at_level(logging.INFO, logger="aiohttp.server"):
                for n in range(30):
                    oversized = b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (9000 + n) + b"\r\n\r\n"
                    assert (await _exchange(server.bound_port, oversized)).startswith(b"HTTP/1.0 400")
        finally:
            await server.stop()

    run(scenario())
    logged = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)]
    assert (
        logged[0].getMessage().startswith("HTTP: a malformed request refused (400): Got more than 8190 bytes")
    )
