"""Slack end to end: kazkor's real slack-bolt front end against the stand-in Slack.

HTTP mode: slash commands signed for real and POSTed to ``/slack/events`` on kazkor's own server; the
answers arrive at the stand-in's ``response_url`` sink, which checks Block Kit limits. Socket Mode:
the stand-in pushes an envelope through its websocket and records the client's ack.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import aiohttp

from bot.commands import COMMANDS, Spec, handle_text
from bot.platforms.slack import EVENTS_PATH, SLASH_COMMANDS
from bot.render.slack import render_slack
from bot.reply import Reply
from tests.running import TIMEOUT, base_url, loopback_config, run, running
from tests.standins.slack_api import (
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    FakeSlack,
    block_errors,
    signed_slash_request,
)

SECRET = "8f2b-signing-secret-for-tests"
MANIFEST = Path(__file__).resolve().parents[1] / "deploy" / "slack-manifest.yml"


def http_config(tmp_path, fake: FakeSlack, **settings):
    return loopback_config(
        tmp_path,
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SECRET,
        slack_api_url=fake.base_url,
        **settings,
    )


def expected(ctx, text: str) -> list[dict]:
    return render_slack(handle_text(text, ctx))


async def post_command(
    http: aiohttp.ClientSession, runtime, fake: FakeSlack, command: str, text: str, name: str, **signing
) -> tuple[int, float]:
    """POST one signed slash command; returns (HTTP status, seconds until the response)."""
    body, headers = signed_slash_request(
        signing.pop("secret", SECRET),
        command=command,
        text=text,
        response_url=fake.response_url(name),
        **signing,
    )
    started = time.monotonic()
    async with http.post(base_url(runtime) + EVENTS_PATH, data=body, headers=headers) as response:
        await response.read()
        return response.status, time.monotonic() - started


def assert_valid_messages(responses) -> None:
    for response in responses:
        assert response.text and response.text.strip(), "every message needs its plain fallback"
        assert block_errors(response.blocks) == []


def test_http_mode_acks_at_once_and_answers_in_channel(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                status, seconds = await post_command(http, runtime, fake, "/trade", "", "trade")
                assert status == 200 and seconds < 3.0
                want = expected(ctx, "/trade")
                responses = await fake.wait_for_responses(len(want), TIMEOUT)
            assert [r.name for r in responses] == ["trade"] * len(want)
            assert [r.response_type for r in responses] == ["in_channel"] * len(want)
            assert [{"text": r.text, "blocks": r.blocks} for r in responses] == want
            assert_valid_messages(responses)
            assert "US$6 billion, 2023" in responses[0].text

    run(scenario())


def test_umbrella_command_and_usage_errors(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                status, _ = await post_command(http, runtime, fake, "/kazkor", "agreements 2024", "umbrella")
                assert status == 200
                want = expected(ctx, "/agreements 2024")
                umbrella = await fake.wait_for_responses(len(want), TIMEOUT)
                assert [{"text": r.text, "blocks": r.blocks} for r in umbrella] == want
                assert {r.response_type for r in umbrella} == {"in_channel"}
                assert any("12 Jun 2024" in r.text for r in umbrella)

                status, _ = await post_command(http, runtime, fake, "/agreements", "20x4", "usage")
                assert status == 200
                *_, hint = await fake.wait_for_responses(len(want) + 1, TIMEOUT)
                assert (hint.name, hint.response_type) == ("usage", "ephemeral")
                assert hint.text.startswith("'20x4' is not a year.")

                status, _ = await post_command(http, runtime, fake, "/kazkor", "", "bare")
                *_, bare = await fake.wait_for_responses(len(want) + 2, TIMEOUT)
                assert bare.name == "bare" and bare.text.startswith("Kazkor answers questions")
            assert_valid_messages(fake.responses)

    run(scenario())


def test_forged_and_stale_requests_are_refused(tmp_path, make_ctx):
    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), make_ctx()) as runtime:
            async with aiohttp.ClientSession() as http:
                forged, _ = await post_command(http, runtime, fake, "/trade", "", "forged", secret="guess")
                stale, _ = await post_command(
                    http, runtime, fake, "/trade", "", "stale", timestamp=int(time.time()) - 6 * 60
                )
                async with http.post(base_url(runtime) + EVENTS_PATH, data=b"command=%2Ftrade") as unsigned:
                    assert unsigned.status == 401
                assert (forged, stale) == (401, 401)
                # a correct one still works afterwards, and only it is answered
                ok, _ = await post_command(http, runtime, fake, "/help", "", "ok")
                assert ok == 200
                await fake.wait_for_responses(1, TIMEOUT)
            assert [r.name for r in fake.responses] == ["ok"]

    run(scenario())


def test_socket_mode_acks_and_answers(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake:
            config = http_config(tmp_path, fake, slack_app_token=fake.app_token)
            async with running(config, ctx) as runtime:
                assert runtime.slack.socket_mode
                # Socket Mode needs no inbound Slack route (the port serves only /healthz and /metrics)
                assert EVENTS_PATH not in {r.resource.canonical for r in runtime.http.app.router.routes()}
                envelope = await fake.push_slash_command(
                    "/agreements", "2024", response_url=fake.response_url("sock")
                )
                (ack,) = await fake.wait_for_acks(1, TIMEOUT)
                want = expected(ctx, "/agreements 2024")
                responses = await fake.wait_for_responses(len(want), TIMEOUT)
            assert ack["envelope_id"] == envelope
            assert [{"text": r.text, "blocks": r.blocks} for r in responses] == want
            assert {r.response_type for r in responses} == {"in_channel"}
            assert fake.calls["apps.connections.open"] >= 1

    run(scenario())


def test_subscribe_gets_the_admin_flag(tmp_path, make_ctx, monkeypatch):
    seen = []

    def fake_subscribe(command, ctx):
        seen.append(command)
        return Reply(title="Subscribed.")

    monkeypatch.setitem(COMMANDS, "subscribe", Spec("subscribe", fake_subscribe, "subscribe.", "/subscribe"))

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), make_ctx()) as runtime:
            fake.set_user("U0BOSS", is_admin=True)
            async with aiohttp.ClientSession() as http:
                await post_command(http, runtime, fake, "/subscribe", "", "member")
                await fake.wait_for_responses(1, TIMEOUT)
                body, headers = signed_slash_request(
                    SECRET,
                    command="/kazkor",
                    text="subscribe",
                    user_id="U0BOSS",
                    response_url=fake.response_url("boss"),
                )
                async with http.post(base_url(runtime) + EVENTS_PATH, data=body, headers=headers) as response:
                    assert response.status == 200
                await fake.wait_for_responses(2, TIMEOUT)
        member, boss = seen
        assert (member.platform, member.channel, member.user) == ("slack", DEFAULT_CHANNEL, DEFAULT_USER)
        assert member.extra == {"chat_type": "channel", "thread": None, "is_admin": False}
        assert boss.extra["is_admin"] is True

    run(scenario())


def manifest_commands(text: str) -> list[dict[str, str]]:
    """The ``slash_commands`` entries of the manifest, read line by line (no YAML library needed)."""
    commands: list[dict[str, str]] = []
    for line in text.splitlines():
        match = re.match(r"\s*(-\s+)?(command|url|description|usage_hint):\s*(.*?)\s*$", line)
        if not match:
            continue
        if match.group(2) == "command":
            commands.append({})
        if commands:
            commands[-1][match.group(2)] = match.group(3).strip('"')
    return commands


def test_manifest_declares_every_slash_command():
    text = MANIFEST.read_text()
    declared = manifest_commands(text)
    assert [c["command"] for c in declared] == [f"/{name}" for name in SLASH_COMMANDS]
    for command in declared:
        assert command["url"] == "https://YOUR-HOST/slack/events"
        assert 0 < len(command["description"]) <= 100
    scopes = re.findall(r"^\s+- ([a-z:.]+)", text.split("scopes:", 1)[1].split("settings:", 1)[0], re.M)
    assert {"commands", "chat:write", "users:read"} <= set(scopes)
    assert re.search(r"^\s+socket_mode_enabled: false$", text, re.M)
