"""Slack end to end: kazkor's real slack-bolt front end against the stand-in Slack.

HTTP mode: slash commands signed for real and POSTed to ``/slack/events`` on kazkor's own server; the
answer arrives in the HTTP 200 body (Slack's immediate response), checked against Block Kit limits;
further messages of a long answer, and answers that need Slack calls first (/subscribe), arrive at the
stand-in's ``response_url`` sink. Socket Mode: the stand-in pushes an envelope through its websocket
and records the client's ack, whose payload carries the answer.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import aiohttp

from bot.bootstrap.context import COMMANDS
from bot.commands import Spec, parse
from bot.commands.controls import interactive
from bot.platforms.inbound import Controls
from bot.platforms.slack import EVENTS_PATH, SLASH_COMMANDS
from bot.render.slack import render_slack, render_slack_with_controls
from bot.reply import Item, Reply, Section
from facts.model import build_record
from facts.store import load_catalogue
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


def expected(ctx, text: str, page: int = 0, view: str = "") -> list[dict]:
    """What the shared core answers (one page with its controls, as the app shows it), for Slack."""
    controls = Controls(FakeSlack().bot_token)  # signed with the stand-in's bot token, as the app signs
    return render_slack_with_controls(interactive(parse(text), ctx, page, view), controls.encode)


async def post_command(
    http: aiohttp.ClientSession, runtime, fake: FakeSlack, command: str, text: str, name: str, **signing
) -> tuple[int, float, dict | None]:
    """POST one signed slash command; returns (HTTP status, seconds until the response, JSON body or
    None when the body is empty or not JSON)."""
    body, headers = signed_slash_request(
        signing.pop("secret", SECRET),
        command=command,
        text=text,
        response_url=fake.response_url(name),
        **signing,
    )
    started = time.monotonic()
    async with http.post(base_url(runtime) + EVENTS_PATH, data=body, headers=headers) as response:
        raw = await response.read()
        seconds = time.monotonic() - started
        is_json = response.content_type == "application/json" and raw
        return response.status, seconds, json.loads(raw) if is_json else None


def message_of(body: dict) -> dict:
    return {"text": body.get("text"), "blocks": body.get("blocks")}


def assert_valid_body(body: dict | None) -> None:
    """An immediate response as Slack wants it: a plain fallback and blocks within the limits."""
    assert body is not None, "the answer belongs in the ack's body"
    assert body["text"] and body["text"].strip(), "every message needs its plain fallback"
    assert block_errors(body["blocks"]) == []


def assert_valid_messages(responses) -> None:
    for response in responses:
        assert response.text and response.text.strip(), "every message needs its plain fallback"
        assert block_errors(response.blocks) == []


def test_http_mode_answers_in_the_ack_in_channel(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                status, seconds, body = await post_command(http, runtime, fake, "/trade", "", "trade")
                assert status == 200 and seconds < 3.0
                (want,) = expected(ctx, "/trade")  # one message: all of it in the ack
                assert_valid_body(body)
                assert body["response_type"] == "in_channel"
                assert message_of(body) == want
                assert "2023 (year inferred) — US$6 billion" in body["text"]
                # asked again (now from the cache): the same answer
                _, _, again = await post_command(http, runtime, fake, "/trade", "", "trade2")
                assert again == body
            assert fake.responses == []  # nothing left for response_url

    run(scenario())


def test_umbrella_command_and_usage_errors(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                status, _, umbrella = await post_command(
                    http, runtime, fake, "/kazkor", "agreements 2024", "umbrella"
                )
                assert status == 200
                (want,) = expected(ctx, "/agreements 2024")
                assert_valid_body(umbrella)
                assert message_of(umbrella) == want and umbrella["response_type"] == "in_channel"
                assert "12 Jun 2024" in umbrella["text"]

                status, _, hint = await post_command(http, runtime, fake, "/agreements", "20x4", "usage")
                assert status == 200
                assert_valid_body(hint)
                assert hint["response_type"] == "ephemeral"
                assert hint["text"].startswith("'20x4' is not a year.")

                status, _, unknown = await post_command(http, runtime, fake, "/kazkor", "frobnicate", "u")
                assert status == 200 and unknown["response_type"] == "ephemeral"
                assert unknown["text"].startswith("Unknown command /frobnicate.")

                status, _, bare = await post_command(http, runtime, fake, "/kazkor", "", "bare")
                assert_valid_body(bare)
                assert bare["text"].startswith("Kazkor answers questions")

                # Slack sends "&", "<", ">" in command text as entities: the search sees what was typed
                _, _, amp = await post_command(http, runtime, fake, "/search", "lithium &amp; rare", "amp")
                (want,) = expected(ctx, "/search lithium & rare")
                assert message_of(amp) == want and "&amp;amp;" not in amp["text"]
                # escaped once, for mrkdwn
                assert amp["text"].startswith("3 results for “lithium &amp; rare”")

                # the issue-8 commands are slash commands of their own, and work under /kazkor too
                _, _, who = await post_command(http, runtime, fake, "/who", "Baik Joohyeon", "who")
                (want,) = expected(ctx, "/who Baik Joohyeon")
                assert message_of(who) == want and who["response_type"] == "in_channel"
                assert who["text"].startswith("Baik Joohyeon: Former Ambassador of the Republic of Korea")
                _, _, projects = await post_command(http, runtime, fake, "/kazkor", "projects energy", "prj")
                (want,) = expected(ctx, "/projects energy")
                assert (
                    message_of(projects) == want
                    and "Turkistan combined cycle power plant" in projects["text"]
                )
            assert fake.responses == []

    run(scenario())


def test_a_long_answer_sends_its_further_parts_to_response_url_in_order(tmp_path, make_ctx, monkeypatch):
    long_reply = Reply(
        title="A long answer",
        sections=tuple(Section(f"Part {n}", (Item(f"line {n} " + "x" * 200),)) for n in range(120)),
    )
    # a command that is not paged (/search is: its pages would not be this long)
    monkeypatch.setitem(COMMANDS, "help", Spec("help", lambda c, ctx: long_reply, "help.", "/help"))
    want = render_slack(long_reply)
    assert len(want) >= 3

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), make_ctx()) as runtime:
            async with aiohttp.ClientSession() as http:
                status, seconds, body = await post_command(http, runtime, fake, "/help", "x", "long")
                assert status == 200 and seconds < 3.0
                assert_valid_body(body)
                assert body["response_type"] == "in_channel" and message_of(body) == want[0]
                rest = await fake.wait_for_responses(len(want) - 1, TIMEOUT)
            assert [r.name for r in rest] == ["long"] * (len(want) - 1)
            assert [{"text": r.text, "blocks": r.blocks} for r in rest] == want[1:]
            assert {r.response_type for r in rest} == {"in_channel"}
            assert_valid_messages(rest)

    run(scenario())


def test_an_added_fact_changes_the_cached_answer(tmp_path, make_ctx):
    """The rendered-answer cache must not serve a stale /timeline once a fact is added."""
    ctx = make_ctx()
    ctx.catalogue = load_catalogue()  # our own copy: this test adds to it
    event = build_record(
        "event",
        {
            "id": "evt-2030-consulate-almaty",
            "summary": "Korea opened a consulate in Almaty.",
            "cite": [{"source": "mofa-rok", "quote": "A consulate opened."}],
            "title": "Consulate opens",
            "type": "other",
            "date": "2030-05-01",
            "place": "Almaty",
        },
        "test event",
    )

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                _, _, before = await post_command(http, runtime, fake, "/timeline", "2030", "t1")
                _, _, cached = await post_command(http, runtime, fake, "/timeline", "2030", "t2")
                assert cached == before and "Consulate opens" not in before["text"]
                assert before["response_type"] == "in_channel"  # "no events for 2030" is an answer
                hits = runtime.slack.replies.hits
                assert hits >= 1
                ctx.catalogue.add(event, "test event")
                _, _, after = await post_command(http, runtime, fake, "/timeline", "2030", "t3")
                assert runtime.slack.replies.hits == hits  # recomputed, not served from the cache
                assert "Consulate opens" in after["text"]
                assert message_of(after) == expected(ctx, "/timeline 2030")[0]

    run(scenario())


def test_forged_and_stale_requests_are_refused(tmp_path, make_ctx):
    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), make_ctx()) as runtime:
            async with aiohttp.ClientSession() as http:
                forged, _, _ = await post_command(http, runtime, fake, "/trade", "", "forged", secret="guess")
                stale, _, _ = await post_command(
                    http, runtime, fake, "/trade", "", "stale", timestamp=int(time.time()) - 6 * 60
                )
                async with http.post(base_url(runtime) + EVENTS_PATH, data=b"command=%2Ftrade") as unsigned:
                    assert unsigned.status == 401
                assert (forged, stale) == (401, 401)
                # a correct one still works afterwards, and only it is answered
                ok, _, body = await post_command(http, runtime, fake, "/help", "", "ok")
                assert ok == 200 and body["text"].startswith("Kazkor answers questions")
            assert fake.responses == [] and fake.calls["response_url"] == 0

    run(scenario())


def test_socket_mode_answers_in_the_ack_payload(tmp_path, make_ctx):
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
                (want,) = expected(ctx, "/agreements 2024")
                hint_envelope = await fake.push_slash_command("/agreements", "20x4")
                _, hint = await fake.wait_for_acks(2, TIMEOUT)
            assert ack["envelope_id"] == envelope
            assert_valid_body(ack["payload"])
            assert ack["payload"]["response_type"] == "in_channel"
            assert message_of(ack["payload"]) == want
            assert hint["envelope_id"] == hint_envelope
            assert hint["payload"]["response_type"] == "ephemeral"
            assert hint["payload"]["text"].startswith("'20x4' is not a year.")
            assert fake.responses == []
            assert fake.calls["apps.connections.open"] >= 1

    run(scenario())


def test_socket_mode_long_answer_follows_the_ack(tmp_path, make_ctx, monkeypatch):
    long_reply = Reply(
        title="A long answer",
        sections=tuple(Section(f"Part {n}", (Item(f"line {n} " + "x" * 200),)) for n in range(120)),
    )
    # a command that is not paged (/search is: its pages would not be this long)
    monkeypatch.setitem(COMMANDS, "help", Spec("help", lambda c, ctx: long_reply, "help.", "/help"))
    want = render_slack(long_reply)

    async def scenario():
        async with FakeSlack() as fake:
            config = http_config(tmp_path, fake, slack_app_token=fake.app_token)
            async with running(config, make_ctx()):
                await fake.push_slash_command("/help", "x", response_url=fake.response_url("sock"))
                (ack,) = await fake.wait_for_acks(1, TIMEOUT)
                rest = await fake.wait_for_responses(len(want) - 1, TIMEOUT)
            assert message_of(ack["payload"]) == want[0]
            assert [{"text": r.text, "blocks": r.blocks} for r in rest] == want[1:]

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
                # acked empty at once (users.info comes first), answered through response_url
                status, _, body = await post_command(http, runtime, fake, "/subscribe", "", "member")
                assert (status, body) == (200, None)
                (answer,) = await fake.wait_for_responses(1, TIMEOUT)
                assert (answer.name, answer.text) == ("member", "Subscribed.")
                body, headers = signed_slash_request(
                    SECRET,
                    command="/kazkor",
                    text="subscribe 09:00",  # without words an admin gets the modal instead
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


def test_building_the_slack_app_leaves_kazkor_loggers_alone(tmp_path):
    """Bolt copies the root logger's level onto a logger named after the app: named "kazkor", it would
    silence INFO lines of every "kazkor.*" logger once Slack is configured."""
    import asyncio
    import logging

    from slack_bolt.request.async_request import AsyncBoltRequest

    from bot.platforms.slack import build_bolt_app

    ours = logging.getLogger("kazkor")
    before = ours.level
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.WARNING)

    async def dispatch_one() -> None:
        # the stand-in answers Bolt's auth.test: no test traffic leaves 127.0.0.1
        async with FakeSlack() as fake:
            app = build_bolt_app(http_config(tmp_path, fake))
            # Bolt configures the app-named logger when it handles a request (here one it cannot match)
            request = AsyncBoltRequest(body="command=%2Fnone&text=", mode="socket_mode")
            await app.async_dispatch(request)
            assert fake.calls["auth.test"] >= 1  # the request reached Bolt's authorization step

    try:
        asyncio.run(dispatch_one())
    finally:
        root.setLevel(saved)
    assert ours.level == before
