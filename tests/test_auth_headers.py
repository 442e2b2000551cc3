"""Malformed authentication headers, oversized bodies, Slack retries and replays (issue 10, item 5),
against the real Bolt and python-telegram-bot front ends on kazkor's own server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from datetime import datetime

import aiohttp

from bot.commands import Context
from bot.platforms.slack import EVENTS_PATH
from tests.conftest import ALMATY
from tests.running import TIMEOUT, base_url, free_port, loopback_config, run, running
from tests.standins.slack_api import FakeSlack, signed_slash_request
from tests.standins.telegram_api import FakeTelegram

SLACK_SECRET = "auth-headers-signing-secret"
WEBHOOK_SECRET = "hook-secret_1"


def context(catalogue, state) -> Context:
    return Context(
        catalogue=catalogue,
        tz=ALMATY,
        clock=lambda: datetime.fromisoformat("2024-09-20T09:00:00+05:00"),
        state=state,
    )


async def raw_post(port: int, path: str, headers: bytes, body: bytes) -> int:
    """POST with header bytes exactly as given (clients refuse to send non-ASCII); the status code."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        async with asyncio.timeout(TIMEOUT):
            status_line = await reader.readline()
            await reader.read(-1)
        return int(status_line.split()[1])
    finally:
        writer.close()


def problems(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_one_warning_and_no_traceback(caplog, text: str) -> None:
    found = problems(caplog)
    assert [r.levelname for r in found] == ["WARNING"], [r.getMessage() for r in found]
    assert text in found[0].getMessage() and found[0].exc_info is None
    caplog.clear()


def slack_config(tmp_path, fake: FakeSlack):
    return loopback_config(
        tmp_path,
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SLACK_SECRET,
        slack_api_url=fake.base_url,
    )


def test_malformed_slack_signing_headers_get_401_and_one_warning(tmp_path, catalogue, state, caplog):
    async def scenario():
        async with (
            FakeSlack() as fake,
            running(slack_config(tmp_path, fake), context(catalogue, state)) as rt,
        ):
            body, headers = signed_slash_request(
                SLACK_SECRET, command="/trade", text="", response_url=fake.response_url("x")
            )
            signature = headers["X-Slack-Signature"].encode()
            caplog.clear()
            with caplog.at_level(logging.INFO):
                cases = [
                    b"X-Slack-Request-Timestamp: abc\r\nX-Slack-Signature: " + signature + b"\r\n",
                    b"X-Slack-Request-Timestamp: " + headers["X-Slack-Request-Timestamp"].encode()
                    + b"\r\nX-Slack-Signature: v0=\xd0\xb6\xff\r\n",
                    b"X-Slack-Request-Timestamp: 1e9\r\nX-Slack-Signature: " + signature + b"\r\n",
                ]  # fmt: skip
                for case in cases:
                    form = b"Content-Type: application/x-www-form-urlencoded\r\n"
                    assert await raw_post(rt.http.bound_port, EVENTS_PATH, form + case, body) == 401
                    assert_one_warning_and_no_traceback(caplog, "malformed signature or timestamp header")
            assert fake.responses == []

    run(scenario())


def test_a_slack_retry_or_replay_does_not_subscribe_twice(tmp_path, catalogue, state):
    async def scenario():
        async with (
            FakeSlack() as fake,
            running(slack_config(tmp_path, fake), context(catalogue, state)) as rt,
        ):
            fake.set_user("U0BOSS", is_admin=True)
            body, headers = signed_slash_request(
                SLACK_SECRET,
                command="/subscribe",
                text="08:30 Asia/Seoul",
                user_id="U0BOSS",
                response_url=fake.response_url("boss"),
            )
            url = base_url(rt) + EVENTS_PATH
            async with aiohttp.ClientSession() as http:
                async with http.post(url, data=body, headers=headers) as first:
                    assert first.status == 200
                (answer,) = await fake.wait_for_responses(1, TIMEOUT)
                assert answer.text.startswith("This channel will get reminders at 08:30 (Asia/Seoul)")
                # the same signed request again within the 300 s window: a replay
                async with http.post(url, data=body, headers=headers) as replay:
                    assert (replay.status, await replay.read()) == (200, b"")
                # Slack's own retry: the same body, signed anew, marked with X-Slack-Retry-Num
                ts = str(int(time.time()) + 1)
                signature = hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
                retry_headers = {
                    **headers,
                    "X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": "v0=" + signature.hexdigest(),
                    "X-Slack-Retry-Num": "1",
                    "X-Slack-Retry-Reason": "http_timeout",
                }
                async with http.post(url, data=body, headers=retry_headers) as retry:
                    assert (retry.status, await retry.read()) == (200, b"")
                # a new invocation of the same command (a new trigger_id) is handled as usual
                again, again_headers = signed_slash_request(
                    SLACK_SECRET, command="/subscriptions", text="", response_url=fake.response_url("look")
                )
                async with http.post(url, data=again, headers=again_headers) as look:
                    assert look.status == 200
                await fake.wait_for_responses(2, TIMEOUT)
                await asyncio.sleep(0.3)  # room for a wrongly handled duplicate to arrive
            assert [r.name for r in fake.responses] == ["boss", "look"]
            assert fake.calls["users.info"] == 1  # the admin check ran once: /subscribe was applied once
            (sub,) = state.subscriptions()
            assert (sub["time"], sub["tz"], sub["created_by"]) == ("08:30", "Asia/Seoul", "U0BOSS")

    run(scenario())


def test_telegram_webhook_secret_with_non_ascii_bytes_gets_403_and_a_big_body_413(
    tmp_path, catalogue, state, caplog
):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(
                tmp_path,
                port=port,
                telegram_token=fake.token,
                telegram_api_url=fake.base_url,
                telegram_webhook_url=url,
                telegram_webhook_secret=WEBHOOK_SECRET,
            )
            async with running(config, context(catalogue, state)):
                message = fake.make_message(1001, "/help", chat_type="private", user_id=1001)
                body = json.dumps({"update_id": 1, "message": message}).encode()
                as_json = b"Content-Type: application/json\r\n"
                caplog.clear()
                with caplog.at_level(logging.INFO):
                    for secret in (b"\xff\xfe\xfd", "секрет".encode(), WEBHOOK_SECRET.encode() + b"\xc3"):
                        header = b"X-Telegram-Bot-Api-Secret-Token: " + secret + b"\r\n"
                        assert await raw_post(port, "/telegram/webhook", as_json + header, body) == 403
                        assert_one_warning_and_no_traceback(caplog, "without the right secret token")
                    right = b"X-Telegram-Bot-Api-Secret-Token: " + WEBHOOK_SECRET.encode() + b"\r\n"
                    huge = b'{"update_id": 2, "message": "' + b"x" * (2 * 1024 * 1024) + b'"}'
                    assert await raw_post(port, "/telegram/webhook", as_json + right, huge) == 413
                    assert not [r for r in problems(caplog) if r.exc_info or r.levelno >= logging.ERROR]
                assert fake.sent == []

    run(scenario())
