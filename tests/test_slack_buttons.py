"""Slack controls end to end: kazkor's Bolt app against the stand-in Slack, in HTTP and Socket Mode.

Presses are ``block_actions`` payloads built from the blocks the app really sent, POSTed form-encoded
(``payload=<json>``) and signed like every Slack request; answers go to the ``response_url``.
"""

from __future__ import annotations

import dataclasses
import time

import aiohttp

from bot.commands import Command, dispatch, parse
from bot.commands.due import due
from bot.commands.payload import EXPIRED
from bot.commands.subscriptions import REFUSAL
from bot.frontend import Target
from bot.platforms.senders import SlackSender
from bot.platforms.slack import EVENTS_PATH, SUBSCRIBE_VIEW
from bot.reminders.delivery import reminder_reply
from bot.render.slack import render_slack
from tests.running import TIMEOUT, base_url, run, running
from tests.standins.slack_api import (
    DEFAULT_CHANNEL,
    FakeSlack,
    block_actions_payload,
    block_errors,
    controls,
    signed_event_request,
    signed_interactive_request,
    view_submission_payload,
)
from tests.test_slack_e2e import SECRET, expected, http_config, post_command

ADMIN, MEMBER = "U0ADMIN", "U0MEMBER"


def labels(blocks) -> list[str]:
    return [text for text, _, _ in controls(blocks)]


async def post_signed(http, runtime, body: bytes, headers: dict) -> tuple[int, float]:
    started = time.monotonic()
    async with http.post(base_url(runtime) + EVENTS_PATH, data=body, headers=headers) as response:
        await response.read()
        return response.status, time.monotonic() - started


async def press(http, runtime, fake: FakeSlack, blocks, label: str, name: str, **kw):
    """Press ``label`` in a message showing ``blocks``; returns the response_url post it caused."""
    before = len(fake.responses)
    payload = block_actions_payload(blocks, label, response_url=fake.response_url(name), **kw)
    status, seconds = await post_signed(http, runtime, *signed_interactive_request(SECRET, payload))
    assert status == 200 and seconds < 3.0  # acked within Slack's 3 s
    responses = await fake.wait_for_responses(before + 1, TIMEOUT)
    return responses[before]


def test_year_menu_pages_sources_and_back_replace_the_answer(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                _, _, body = await post_command(http, runtime, fake, "/agreements", "", "a")
                (want,) = expected(ctx, "/agreements")
                assert body["blocks"] == want["blocks"] and block_errors(body["blocks"]) == []
                assert labels(body["blocks"]) == ["2021", "Sources"]
                select = [e for e in body["blocks"][-2]["elements"]]
                assert select[0]["type"] == "static_select"  # the year row is a menu in Slack

                year = await press(http, runtime, fake, body["blocks"], "2021", "y")
                assert year.body["replace_original"] is True
                assert {"text": year.text, "blocks": year.blocks} == expected(ctx, "/agreements 2021")[0]
                assert year.text.startswith("Agreements signed in 2021")
                assert "Deal worth USD 1.7 billion" in year.text

                sources = await press(http, runtime, fake, year.blocks, "Sources", "s")
                assert sources.body["replace_original"] is True
                assert sources.text.startswith("Sources for: Agreements signed in 2021")
                assert "signed a deal worth USD 1.7 billion during the two day visit.”" in sources.text
                assert labels(sources.blocks) == ["Back"]
                back = await press(http, runtime, fake, sources.blocks, "Back", "b")
                assert {"text": back.text, "blocks": back.blocks} == expected(ctx, "/agreements 2021")[0]

                _, _, timeline = await post_command(http, runtime, fake, "/timeline", "", "t")
                page2 = await press(http, runtime, fake, timeline["blocks"], "Next", "n")
                assert {"text": page2.text, "blocks": page2.blocks} == expected(ctx, "/timeline", 1)[0]
                assert "Page 2 of" in page2.text
                page1 = await press(http, runtime, fake, page2.blocks, "Previous", "p")
                assert page1.blocks == timeline["blocks"]
            metrics = runtime.metrics.render().decode()
            assert 'kazkor_commands_total{command="agreements",platform="slack"} 4.0' in metrics
            assert 'kazkor_commands_total{command="timeline",platform="slack"} 3.0' in metrics

    run(scenario())


def test_forged_payload_and_a_button_from_before_a_restart(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake:
            first = running(http_config(tmp_path, fake), ctx)
            async with first as runtime, aiohttp.ClientSession() as http:
                _, _, timeline = await post_command(http, runtime, fake, "/timeline", "", "t")
                forged = await press(
                    http, runtime, fake, timeline["blocks"], "Next", "f", value="1|timeline|1||"
                )
                assert forged.text == EXPIRED
                assert forged.response_type == "ephemeral" and forged.body["replace_original"] is False
                # an unsigned press is refused by Bolt's signature check, not answered
                payload = block_actions_payload(
                    timeline["blocks"], "Next", response_url=fake.response_url("u")
                )
                body, headers = signed_interactive_request("wrong-secret", payload)
                status, _ = await post_signed(http, runtime, body, headers)
                assert status == 401
            # a new app instance answers the old message's button
            async with (
                running(http_config(tmp_path, fake), make_ctx()) as runtime,
                aiohttp.ClientSession() as http,
            ):
                page2 = await press(http, runtime, fake, timeline["blocks"], "Next", "r")
                assert {"text": page2.text, "blocks": page2.blocks} == expected(ctx, "/timeline", 1)[0]
            assert [r.name for r in fake.responses] == ["f", "r"]

    run(scenario())


def test_socket_mode_press_is_acked_and_answered(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeSlack() as fake:
            config = http_config(tmp_path, fake, slack_app_token=fake.app_token)
            async with running(config, ctx):
                (want,) = expected(ctx, "/timeline")
                payload = block_actions_payload(
                    want["blocks"], "Next", response_url=fake.response_url("sock")
                )
                envelope = await fake.push_envelope("interactive", payload, accepts_response_payload=False)
                (ack,) = await fake.wait_for_acks(1, TIMEOUT)
                (answer,) = await fake.wait_for_responses(1, TIMEOUT)
            assert ack["envelope_id"] == envelope
            assert answer.body["replace_original"] is True
            assert {"text": answer.text, "blocks": answer.blocks} == expected(ctx, "/timeline", 1)[0]

    run(scenario())


def test_reminder_source_and_pause_refused_for_members_done_for_admins(tmp_path, make_ctx, state):
    ctx = dataclasses.replace(make_ctx("2024-09-29T09:00:00+05:00"), state=state)

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            fake.set_user(ADMIN, is_admin=True)
            ok = dispatch(Command("subscribe", (), "slack", DEFAULT_CHANNEL, ADMIN, {"is_admin": True}), ctx)
            assert ok.kind == "answer"
            (reminder,) = [r for r in due(ctx.catalogue, ctx.today()) if "referendum" in r.key]
            await SlackSender(runtime.slack.app.client).send(
                Target("slack", DEFAULT_CHANNEL), reminder_reply(ctx.catalogue, reminder)
            )
            (post,) = await fake.wait_for_posted(1, TIMEOUT)
            assert labels(post.blocks) == ["Source", "Pause reminders"]
            async with aiohttp.ClientSession() as http:
                source = await press(http, runtime, fake, post.blocks, "Source", "src", user_id=MEMBER)
                assert source.body["replace_original"] is False and source.response_type == "in_channel"
                want = render_slack(dispatch(parse("/source evt-2024-10-06-referendum"), ctx))[0]
                assert {"text": source.text, "blocks": source.blocks} == want

                refused = await press(
                    http, runtime, fake, post.blocks, "Pause reminders", "m", user_id=MEMBER
                )
                assert refused.text.startswith(REFUSAL)
                assert refused.response_type == "ephemeral" and refused.body["replace_original"] is False
                assert state.subscription("slack", DEFAULT_CHANNEL) is not None

                done = await press(http, runtime, fake, post.blocks, "Pause reminders", "a", user_id=ADMIN)
                assert done.text.startswith("This channel will no longer get reminders")
                assert state.subscription("slack", DEFAULT_CHANNEL) is None

    run(scenario())


def test_app_home_shows_subscriptions_next_reminders_and_commands(tmp_path, make_ctx, state):
    ctx = dataclasses.replace(make_ctx("2024-09-20T09:00:00+05:00"), state=state)

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            dispatch(
                Command("subscribe", ("08:30", "Asia/Seoul"), "slack", "C0NEWS1", ADMIN, {"is_admin": True}),
                ctx,
            )
            dispatch(Command("subscribe", (), "telegram", "-100", "1", {"is_admin": True}), ctx)  # not Slack
            event = {"type": "app_home_opened", "user": MEMBER, "channel": "D0HOME", "tab": "home"}
            async with aiohttp.ClientSession() as http:
                status, seconds = await post_signed(http, runtime, *signed_event_request(SECRET, event))
            assert status == 200 and seconds < 3.0
            await fake.wait_until(lambda: MEMBER in fake.home_views, TIMEOUT, "the Home view")
            view = fake.home_views[MEMBER]
            text = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] in ("section", "header"))
            assert "<#C0NEWS1> — every day at 08:30 (Asia/Seoul)" in text
            assert "-100" not in text
            # the referendum of 6 October 2024: its 7-day reminder on 29 September, Seoul time
            assert "Sun 29 Sep 2024 08:30 (Asia/Seoul) <#C0NEWS1>" in text
            assert "/agreements — agreements and memoranda signed in a year. e.g. /agreements 2024" in text

    run(scenario())


def test_subscribe_without_words_opens_a_modal_whose_submission_subscribes(tmp_path, make_ctx, state):
    ctx = dataclasses.replace(make_ctx(), state=state)

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            fake.set_user(ADMIN, is_admin=True)  # the stand-in's users.info says tz Asia/Almaty
            async with aiohttp.ClientSession() as http:
                status, seconds, body = await post_command(
                    http, runtime, fake, "/subscribe", "", "m", user_id=ADMIN
                )
                assert status == 200 and seconds < 3.0
                await fake.wait_until(lambda: fake.opened_views, TIMEOUT, "the modal")
                (modal,) = fake.opened_views
                assert modal["callback_id"] == SUBSCRIBE_VIEW and modal["private_metadata"] == DEFAULT_CHANNEL
                zone = modal["blocks"][2]["element"]
                assert zone["initial_option"]["value"] == "Asia/Almaty"
                users_info = [p for m, p in fake.requests if m == "users.info"]
                assert users_info and all(p.get("user") == ADMIN for p in users_info)
                assert state.subscription("slack", DEFAULT_CHANNEL) is None  # nothing saved yet

                values = {
                    "time": {"time": {"type": "timepicker", "selected_time": "18:30"}},
                    "zone": {"zone": {"type": "static_select", "selected_option": zone["options"][2]}},
                }
                submission = view_submission_payload(modal, values, user_id=ADMIN)
                status, _ = await post_signed(http, runtime, *signed_interactive_request(SECRET, submission))
                assert status == 200
                (posted,) = await fake.wait_for_posted(1, TIMEOUT)
            sub = state.subscription("slack", DEFAULT_CHANNEL)
            assert (sub["time"], sub["tz"], sub["created_by"]) == (
                "18:30",
                zone["options"][2]["value"],
                ADMIN,
            )
            # the same subscription and answer as the command with those words
            assert posted.text.startswith(f"This channel will get reminders at 18:30 ({sub['tz']})")

    run(scenario())


def test_subscribe_modal_is_only_for_admins(tmp_path, make_ctx, state):
    ctx = dataclasses.replace(make_ctx(), state=state)

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                await post_command(http, runtime, fake, "/subscribe", "", "m", user_id=MEMBER)
                (refusal,) = await fake.wait_for_responses(1, TIMEOUT)
            assert refusal.text.startswith(REFUSAL) and refusal.response_type == "ephemeral"
            assert fake.opened_views == [] and state.subscription("slack", DEFAULT_CHANNEL) is None

    run(scenario())


def test_manifest_enables_the_home_tab_events_and_interactivity():
    from tests.test_slack_e2e import MANIFEST

    text = MANIFEST.read_text()
    lines = [line.split("#", 1)[0].rstrip() for line in text.splitlines()]
    assert "    home_tab_enabled: true" in lines
    assert "  interactivity:" in lines and "    is_enabled: true" in lines
    assert lines.count("    request_url: https://YOUR-HOST/slack/events") == 2  # events and interactivity
    assert "      - app_home_opened" in lines


def test_socket_mode_home_tab_and_modal(tmp_path, make_ctx, state):
    """The Home tab and the /subscribe modal arrive as events_api / interactive envelopes in Socket Mode."""
    from tests.standins.slack_api import event_callback

    ctx = dataclasses.replace(make_ctx(), state=state)

    async def scenario():
        async with FakeSlack() as fake:
            async with running(http_config(tmp_path, fake, slack_app_token=fake.app_token), ctx):
                fake.set_user(ADMIN, is_admin=True)
                event = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home"}
                await fake.push_envelope("events_api", event_callback(event), accepts_response_payload=False)
                await fake.wait_until(lambda: ADMIN in fake.home_views, TIMEOUT, "the Home view")
                await fake.push_slash_command("/subscribe", "", user_id=ADMIN)
                await fake.wait_until(lambda: fake.opened_views, TIMEOUT, "the modal")
                (modal,) = fake.opened_views
                values = {
                    "time": {"time": {"type": "timepicker", "selected_time": "07:15"}},
                    "zone": {"zone": {"type": "static_select", "selected_option": {"value": "Asia/Seoul"}}},
                }
                submission = view_submission_payload(modal, values, user_id=ADMIN)
                await fake.push_envelope("interactive", submission, accepts_response_payload=True)
                await fake.wait_for_posted(1, TIMEOUT)
            home_text = str(fake.home_views[ADMIN])
            assert "None yet. An admin types /subscribe in a channel to start them." in home_text
            sub = state.subscription("slack", DEFAULT_CHANNEL)
            assert (sub["time"], sub["tz"]) == ("07:15", "Asia/Seoul")

    run(scenario())
