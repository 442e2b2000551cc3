"""The real platform libraries against the stand-ins: if these pass, the stand-ins speak the API the
libraries expect, so tests of the bot that use them exercise real request/response handling.

Plain test functions run their coroutines with ``asyncio.run`` (no pytest-asyncio needed); every wait
is bounded.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot, BotCommand, ChatMemberAdministrator, ChatMemberMember, ChatMemberOwner, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.render.slack import render_slack
from bot.render.telegram import render_telegram
from tests.standins.slack_api import FakeSlack, signed_slash_request
from tests.standins.telegram_api import FakeTelegram
from tests.test_render import hostile_reply

TIMEOUT = 5.0


def run(coro):
    """Run one test coroutine with an overall bound, so a hang fails instead of blocking the suite."""

    async def bounded():
        return await asyncio.wait_for(coro, 20)

    return asyncio.run(bounded())


# --- Telegram: Bot ---------------------------------------------------------------------------------


def test_bot_get_me_and_send_html():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            assert bot.username == "KazkorBot"
            message = await bot.send_message(
                chat_id=42, text="<b>Hi</b> &amp; <i>welcome</i>", parse_mode="HTML", message_thread_id=7
            )
            assert message.text == "Hi & welcome"
            assert message.chat.id == 42
            (sent,) = fake.sent
            assert (sent.chat_id, sent.parse_mode, sent.message_thread_id) == (42, "HTML", 7)
            assert sent.text == "<b>Hi</b> &amp; <i>welcome</i>"
            assert fake.calls["getMe"] == 1 and fake.calls["sendMessage"] == 1

    run(scenario())


def test_rendered_telegram_messages_are_all_accepted():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            messages = render_telegram(hostile_reply())
            for text in messages:
                await bot.send_message(chat_id=42, text=text, parse_mode="HTML")
            assert [sent.text for sent in fake.sent] == messages

    run(scenario())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>open", "Can't find end tag"),
        ("<script>x</script>", "Unsupported start tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("a &nbsp; b", "Unsupported HTML entity"),
        ("x" * 4097, "message is too long"),
    ],
)
def test_bad_html_is_refused_like_telegram(text, reason):
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            with pytest.raises(BadRequest, match=f"(?i){reason}"):
                await bot.send_message(chat_id=42, text=text, parse_mode="HTML")
            assert fake.sent == []

    run(scenario())


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_injected_errors_raise_the_library_exceptions():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            fake.fail_next(
                "sendMessage",
                status=429,
                description="Too Many Requests: retry after 3",
                parameters={"retry_after": 3},
            )
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(chat_id=1, text="x")
            assert "3 seconds" in str(retry.value)  # retry_after's type changes across PTB versions

            fake.fail_next(
                "sendMessage", status=403, description="Forbidden: bot was blocked by the user", chat_id=2
            )
            await bot.send_message(chat_id=1, text="other chat is unaffected")
            with pytest.raises(Forbidden, match="blocked"):
                await bot.send_message(chat_id=2, text="x")

            fake.fail_next(
                "sendMessage",
                status=400,
                description="Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": -1001234567890},
            )
            with pytest.raises(ChatMigrated) as migrated:
                await bot.send_message(chat_id=-55, text="x")
            assert migrated.value.new_chat_id == -1001234567890

            fake.fail_next("sendMessage", status=502, description="Bad Gateway", count=2)
            for _ in range(2):
                with pytest.raises(NetworkError):
                    await bot.send_message(chat_id=1, text="x")
            await bot.send_message(chat_id=1, text="recovered")
            assert [sent.text for sent in fake.sent] == ["other chat is unaffected", "recovered"]

    run(scenario())


def test_delay_makes_the_client_time_out():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            fake.delay_next("sendMessage", 1.0)
            with pytest.raises(TimedOut):
                await bot.send_message(chat_id=1, text="slow", read_timeout=0.2)

    run(scenario())


def test_unknown_token_is_unauthorized():
    async def scenario():
        async with FakeTelegram() as fake:
            with pytest.raises(InvalidToken):
                async with Bot("999:wrong", base_url=fake.base_url):
                    pass

    run(scenario())


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_rate_limit_per_chat_answers_429():
    async def scenario():
        async with (
            FakeTelegram(rate_limit_per_chat_per_s=1) as fake,
            Bot(fake.token, base_url=fake.base_url) as bot,
        ):
            await bot.send_message(chat_id=1, text="first")
            await bot.send_message(chat_id=2, text="other chat")
            with pytest.raises(RetryAfter):
                await bot.send_message(chat_id=1, text="too soon")

    run(scenario())


def test_commands_and_chat_members():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.set_my_commands([BotCommand("agreements", "Agreements by year")])
            assert [c.command for c in await bot.get_my_commands()] == ["agreements"]
            await bot.delete_my_commands()
            assert await bot.get_my_commands() == ()

            fake.set_member_status(-100, 1, "creator")
            fake.set_member_status(-100, 2, "administrator")
            assert isinstance(await bot.get_chat_member(-100, 1), ChatMemberOwner)
            assert isinstance(await bot.get_chat_member(-100, 2), ChatMemberAdministrator)
            assert isinstance(await bot.get_chat_member(-100, 3), ChatMemberMember)
            for status in ("restricted", "left", "kicked"):
                fake.set_member_status(-100, 4, status)
                assert (await bot.get_chat_member(-100, 4)).status == status

            await bot.set_webhook("https://example.invalid/hook")
            assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
            await bot.delete_webhook()

    run(scenario())


def test_get_updates_long_polls_and_confirms_with_offset():
    async def scenario():
        async with FakeTelegram() as fake, Bot(fake.token, base_url=fake.base_url) as bot:
            started = time.monotonic()
            assert await bot.get_updates(timeout=1) == ()
            assert 0.9 <= time.monotonic() - started < 3

            asyncio.get_running_loop().call_later(0.3, fake.push_command, 5, "/start")
            started = time.monotonic()
            (update,) = await bot.get_updates(timeout=3)
            assert time.monotonic() - started < 2  # woke up on the push, not at the timeout
            assert update.message.text == "/start"

            assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet: delivered again
            fake.push_command(5, "/help")
            fake.push_command(5, "/about")
            assert [u.message.text for u in await bot.get_updates(offset=update.update_id + 1, limit=1)] == [
                "/help"
            ]
            assert [u.message.text for u in await bot.get_updates(offset=-1)] == ["/about"]

            fake.push_update(
                {"edited_message": fake.make_message(5, "edited", chat_type="private", user_id=1)}
            )
            assert (
                await bot.get_updates(offset=update.update_id + 3, allowed_updates=["message"], timeout=0)
                == ()
            )

    run(scenario())


def test_application_long_polling_runs_a_command_handler():
    """`/agreements@KazkorBot 2024` in a forum topic reaches the CommandHandler with its argument."""

    async def scenario():
        async with FakeTelegram() as fake:
            seen: list[list[str]] = []

            async def agreements(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
                seen.append(list(context.args))
                await update.effective_message.reply_text(
                    "<b>Agreements</b> 2024", parse_mode="HTML", do_quote=False
                )

            app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
            app.add_handler(CommandHandler("agreements", agreements))
            async with app:
                await app.start()
                await app.updater.start_polling(poll_interval=0, timeout=1)
                try:
                    fake.push_command(
                        -1009,
                        "/agreements@KazkorBot 2024",
                        chat_type="supergroup",
                        thread_id=77,
                        is_topic=True,
                    )
                    (sent,) = await fake.wait_for_sent(1, TIMEOUT)
                finally:
                    await app.updater.stop()
                    await app.stop()
            assert seen == [["2024"]]
            assert (sent.chat_id, sent.message_thread_id, sent.text) == (-1009, 77, "<b>Agreements</b> 2024")

    run(scenario())


def test_telegram_stand_in_runs_in_a_thread_for_sync_tests():
    with FakeTelegram.run_in_thread(username="OtherBot") as fake:

        async def send():
            async with Bot(fake.token, base_url=fake.base_url) as bot:
                assert bot.username == "OtherBot"
                await bot.send_message(chat_id=3, text="from another loop")

        asyncio.run(send())
        assert fake.wait_for_sent_sync(1, TIMEOUT)[0].text == "from another loop"


# --- Slack: Web API ------------------------------------------------------------------------------


def test_slack_web_client_auth_and_post():
    async def scenario():
        async with FakeSlack() as fake:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
            auth = await client.auth_test()
            assert (auth["team_id"], auth["user_id"], auth["bot_id"]) == ("T0KAZKOR", "U0KAZBOT", "B0KAZBOT")

            messages = render_slack(hostile_reply())
            for message in messages:
                response = await client.chat_postMessage(channel="C1", **message)
                assert response["ok"] and response["channel"] == "C1"
            assert [posted.blocks for posted in fake.posted] == [m["blocks"] for m in messages]
            assert [posted.text for posted in fake.posted] == [m["text"] for m in messages]

            fake.set_user("UADMIN", is_admin=True)
            assert (await client.users_info(user="UADMIN"))["user"]["is_admin"] is True
            assert (await client.users_info(user="UOTHER"))["user"]["is_admin"] is False
            assert (await client.conversations_info(channel="C1"))["channel"]["is_member"] is True

    run(scenario())


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_slack_errors_and_limits():
    async def scenario():
        async with FakeSlack() as fake:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)

            fake.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=7)
            with pytest.raises(SlackApiError) as limited:
                await client.chat_postMessage(channel="C1", text="x")
            assert limited.value.response.status_code == 429
            assert limited.value.response.headers["Retry-After"] == "7"

            too_many = [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}] * 51
            too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
            for blocks in (too_many, too_long):
                with pytest.raises(SlackApiError, match="invalid_blocks"):
                    await client.chat_postMessage(channel="C1", text="x", blocks=blocks)
            with pytest.raises(SlackApiError, match="no_text"):
                await client.chat_postMessage(channel="C1", blocks=too_many[:1])

            fake.set_channel("CARCH", is_archived=True)
            fake.set_channel("COUT", is_member=False)
            with pytest.raises(SlackApiError, match="is_archived"):
                await client.chat_postMessage(channel="CARCH", text="x")
            with pytest.raises(SlackApiError, match="not_in_channel"):
                await client.chat_postMessage(channel="COUT", text="x")
            fake.fail_next("chat.postMessage", "channel_not_found", channel="CGONE")
            await client.chat_postMessage(channel="C1", text="fine")
            with pytest.raises(SlackApiError, match="channel_not_found"):
                await client.chat_postMessage(channel="CGONE", text="x")

            with pytest.raises(SlackApiError, match="invalid_auth"):
                await AsyncWebClient(token="xoxb-wrong", base_url=fake.base_url).auth_test()
            assert [posted.text for posted in fake.posted] == ["fine"]

    run(scenario())


def test_slack_rate_limit_per_channel():
    async def scenario():
        async with FakeSlack(rate_limit_per_channel_per_s=1) as fake:
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
            await client.chat_postMessage(channel="C1", text="first")
            await client.chat_postMessage(channel="C2", text="other channel")
            with pytest.raises(SlackApiError) as limited:
                await client.chat_postMessage(channel="C1", text="too soon")
            assert limited.value.response.status_code == 429
            assert "Retry-After" in limited.value.response.headers

    run(scenario())


def test_signed_slash_request_verifies():
    body, headers = signed_slash_request(
        "s3cret", command="/kazkor", text="agreements 2024", response_url="http://127.0.0.1:1/respond/x"
    )
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    old_body, old_headers = signed_slash_request(
        "s3cret", command="/kazkor", text="x", response_url="http://127.0.0.1:1/respond/x", timestamp=1
    )
    assert not verifier.is_valid_request(old_body, old_headers)
    assert b"command=%2Fkazkor" in body and b"text=agreements+2024" in body


def test_slack_stand_in_runs_in_a_thread_for_sync_tests():
    with FakeSlack.run_in_thread() as fake:

        async def post():
            client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
            await client.chat_postMessage(channel="C9", text="from another loop")

        asyncio.run(post())
        assert fake.wait_for_posted_sync(1, TIMEOUT)[0].channel == "C9"
        with pytest.raises(TimeoutError):
            fake.run_sync(fake.wait_for_socket(0.1))


# --- Slack: Socket Mode --------------------------------------------------------------------------


def test_socket_mode_slash_command_is_acked_and_responded():
    async def scenario():
        async with FakeSlack() as fake:
            app = AsyncApp(client=AsyncWebClient(token=fake.bot_token, base_url=fake.base_url))
            commands: list[dict] = []

            @app.command("/kazkor")
            async def kazkor(ack, respond, command):
                await ack()
                commands.append(command)
                await respond(text="Agreements 2024", response_type="in_channel")

            handler = AsyncSocketModeHandler(app, fake.app_token)
            await handler.connect_async()
            try:
                envelope_id = await fake.push_slash_command(
                    "/kazkor", "agreements 2024", response_url=fake.response_url("one")
                )
                (ack,) = await fake.wait_for_acks(1, TIMEOUT)
                (response,) = await fake.wait_for_responses(1, TIMEOUT)
            finally:
                await handler.close_async()
            assert ack["envelope_id"] == envelope_id
            assert commands[0]["text"] == "agreements 2024"
            assert (response.name, response.response_type, response.text) == (
                "one",
                "in_channel",
                "Agreements 2024",
            )
            assert fake.calls["apps.connections.open"] == 1

    run(scenario())


def test_connections_open_needs_the_app_token():
    async def scenario():
        async with FakeSlack() as fake:
            client = AsyncWebClient(base_url=fake.base_url)
            with pytest.raises(SlackApiError, match="not_allowed_token_type"):
                await client.apps_connections_open(app_token=fake.bot_token)
            opened = await client.apps_connections_open(app_token=fake.app_token)
            assert opened["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket")

    run(scenario())
