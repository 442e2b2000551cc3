"""Telegram end to end: kazkor's real python-telegram-bot front end against the stand-in Bot API.

The stand-in validates the HTML parse mode and the message length the way Telegram does, so a sent
message that arrives there is one Telegram would have accepted.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from bot.app import serve
from bot.bootstrap.context import COMMANDS
from bot.bootstrap.runtime import build_runtime
from bot.commands import Spec, parse
from bot.commands.controls import interactive
from bot.render.telegram import render_telegram
from bot.reply import Reply
from tests.running import TIMEOUT, base_url, free_port, loopback_config, run, running
from tests.standins.telegram_api import FakeTelegram

PRIVATE, GROUP, FORUM = 1001, -500, -1009777


def expected(ctx, text: str) -> list[str]:
    """What the shared core answers (first page, as platforms with buttons show it), rendered for
    Telegram: the bot must send exactly this."""
    return render_telegram(interactive(parse(text), ctx))


def telegram_config(tmp_path, fake: FakeTelegram, **settings):
    return loopback_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.base_url, **settings)


def test_long_polling_answers_in_private_chats_groups_and_forum_topics(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            trade = expected(ctx, "/trade")
            agreements = expected(ctx, "/agreements 2024")
            timeline = expected(ctx, "/timeline 2023")
            fake.push_command(PRIVATE, "/trade")
            fake.push_command(GROUP, "/agreements@KazkorBot 2024", chat_type="group", user_id=1002)
            fake.push_command(
                FORUM, "/timeline 2023", chat_type="supergroup", user_id=1003, thread_id=77, is_topic=True
            )
            sent = await fake.wait_for_sent(len(trade) + len(agreements) + len(timeline), TIMEOUT)

            by_chat = {chat: [m for m in sent if m.chat_id == chat] for chat in (PRIVATE, GROUP, FORUM)}
            assert [m.text for m in by_chat[PRIVATE]] == trade
            assert [m.text for m in by_chat[GROUP]] == agreements
            assert [m.text for m in by_chat[FORUM]] == timeline
            assert all(m.parse_mode == "HTML" for m in sent)
            assert "2023 (year inferred) — US$6 billion" in by_chat[PRIVATE][0].visible_text
            assert any("12 Jun 2024" in m.visible_text for m in by_chat[GROUP])
            # answers in the forum topic stay in that topic; elsewhere no thread is named
            assert {m.message_thread_id for m in by_chat[FORUM]} == {77}
            assert {m.message_thread_id for m in by_chat[PRIVATE] + by_chat[GROUP]} == {None}
            # answers are posted, not quoted at the asker
            assert all(m.reply_parameters is None for m in sent)
            assert fake.allowed_updates == ["message", "callback_query", "inline_query"]

    run(scenario())


def test_a_slow_chat_holds_up_no_other_chat_and_each_chat_keeps_its_order(tmp_path, make_ctx):
    """Telegram is slow to take one chat's answer: other chats are answered meanwhile, and the slow
    chat's later commands wait for it, so that chat still reads its answers in the order it asked."""
    ctx = make_ctx()
    slow, other = PRIVATE, PRIVATE + 1
    asked = ["/trade", "/source evt-2024-10-06-referendum", "/help", "/agreements 2021", "/timeline 2019"]

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            fake.delay_next("sendMessage", 1.5, target=slow)  # the slow chat's first answer only
            for text in asked:
                fake.push_command(slow, text)
            fake.push_command(other, "/help", user_id=1002)
            want = [part for text in asked for part in expected(ctx, text)]
            sent = await fake.wait_for_sent(len(want) + 1, TIMEOUT)
            assert [m.text for m in sent if m.chat_id == slow] == want
            # the other chat's answer was taken while the slow chat's first answer was still held
            assert sent[0].chat_id == other
            assert sent[0].text == expected(ctx, "/help")[0]

    run(scenario())


def test_flood_control_on_an_answer_is_waited_out_and_the_answer_sent_once(tmp_path, make_ctx, caplog):
    ctx = make_ctx()
    caplog.set_level(logging.WARNING, logger="bot.platforms.telegram")

    def dropped() -> bool:
        return any("could not answer an update: RetryAfter" in r.getMessage() for r in caplog.records)

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            fake.fail_next(
                "sendMessage",
                status=429,
                description="Too Many Requests: retry after 1",
                parameters={"retry_after": 1},
                chat_id=GROUP,
            )
            fake.push_command(GROUP, "/help", chat_type="group")
            (sent,) = await fake.wait_for_sent(1, TIMEOUT)
            assert sent.text == expected(ctx, "/help")[0]
            assert fake.calls["sendMessage"] == 2  # refused once, then accepted
            # a wait longer than an answer stays useful: dropped (logged), not sent late
            fake.fail_next(
                "sendMessage",
                status=429,
                description="Too Many Requests: retry after 600",
                parameters={"retry_after": 600},
                chat_id=GROUP,
            )
            fake.push_command(GROUP, "/trade", chat_type="group")
            fake.push_command(PRIVATE, "/help")
            await fake.wait_for_sent(2, TIMEOUT)
            # the /trade handler has finished (it logged the drop): no late send can follow
            await fake.wait_until(dropped, TIMEOUT, "the dropped answer to be logged")
            assert [m.chat_id for m in fake.sent] == [GROUP, PRIVATE]
            assert fake.calls["sendMessage"] == 4  # /help refused + sent, /trade refused once, /help

    run(scenario())


def test_menu_lists_every_command_at_start_per_scope(tmp_path, make_ctx):
    """Private chats and group admins see every command; other group members see no /subscribe."""

    def menu(scope: str) -> list[str]:
        key = json.dumps([{"type": scope}, ""], sort_keys=True)
        return [c["command"] for c in fake_commands[key]]

    async def scenario():
        nonlocal fake_commands
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), make_ctx()):
            fake_commands = fake.commands
            everything = list(COMMANDS)
            assert menu("default") == everything
            assert menu("all_private_chats") == everything
            assert menu("all_chat_administrators") == everything
            assert "subscribe" in everything and "unsubscribe" in everything
            admin_only = ("subscribe", "unsubscribe", "language")
            assert menu("all_group_chats") == [c for c in everything if c not in admin_only]
            assert "subscriptions" in menu("all_group_chats")
            for commands in fake.commands.values():
                assert all(1 <= len(c["description"]) <= 256 for c in commands)
            assert fake.commands[json.dumps([{"type": "default"}, ""])][0]["description"].startswith(
                "Trade and investment figures"
            )

    fake_commands: dict = {}

    run(scenario())


def test_unknown_commands_get_a_hint_only_in_private_or_when_addressed_to_us(tmp_path, make_ctx):
    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), make_ctx()):
            fake.push_command(GROUP, "/foo", chat_type="group")  # maybe another bot's: ignored
            fake.push_command(GROUP, "/foo@OtherBot", chat_type="group")  # another bot's: ignored
            fake.push_command(GROUP, "/trade@OtherBot", chat_type="group")  # even a name we know
            fake.push_command(GROUP, "/foo@KazkorBot x", chat_type="group")  # ours: hint, quoting
            fake.push_command(PRIVATE, "/foo")  # private: hint
            sent = await fake.wait_for_sent(2, TIMEOUT)
            # chats are answered side by side: find each chat's hint by its id
            (group_hint,) = [m for m in sent if m.chat_id == GROUP]
            (private_hint,) = [m for m in sent if m.chat_id == PRIVATE]
            assert "Unknown command /foo. See /help" in group_hint.visible_text
            assert "Unknown command /foo. See /help" in private_hint.visible_text
            # in a group the hint quotes the asker's message; in a private chat there is no need
            assert group_hint.reply_parameters["message_id"] > 0
            assert private_hint.reply_parameters is None
            # /start (what Telegram sends first in a private chat) is the help
            fake.push_command(PRIVATE, "/start")
            *_, start = await fake.wait_for_sent(3, TIMEOUT)
            assert start.text == expected(make_ctx(), "/help")[0]
            assert len(fake.sent) == 3

    run(scenario())


def test_usage_error_is_quoted_to_the_asker(tmp_path, make_ctx):
    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), make_ctx()):
            fake.push_command(GROUP, "/agreements 20x4", chat_type="group")
            (sent,) = await fake.wait_for_sent(1, TIMEOUT)
            assert sent.visible_text.startswith("'20x4' is not a year.")
            assert sent.reply_parameters is not None

    run(scenario())


def test_subscribe_gets_admin_flag_chat_type_and_topic(tmp_path, make_ctx, monkeypatch):
    """The adapter tells the subscription command who asks, where, and in which forum topic."""
    seen = []

    def fake_subscribe(command, ctx):
        seen.append(command)
        return Reply(title="Subscribed.")

    monkeypatch.setitem(COMMANDS, "subscribe", Spec("subscribe", fake_subscribe, "subscribe.", "/subscribe"))

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), make_ctx()):
            fake.push_command(FORUM, "/subscribe", chat_type="supergroup", thread_id=9, is_topic=True)
            fake.push_command(PRIVATE, "/subscribe@KazkorBot")
            await fake.wait_for_sent(2, TIMEOUT)
        # chats are answered side by side: the order across chats is not fixed
        by_channel = {command.channel: command for command in seen}
        topic, private = by_channel[str(FORUM)], by_channel[str(PRIVATE)]
        assert (topic.name, topic.platform, topic.channel) == ("subscribe", "telegram", str(FORUM))
        # user_language: the sender's Telegram language (the stand-in sends none unless asked)
        assert topic.extra == {
            "chat_type": "supergroup",
            "thread": 9,
            "user_language": None,
            "is_admin": False,
        }
        assert private.extra == {
            "chat_type": "private",
            "thread": None,
            "user_language": None,
            "is_admin": True,
        }

    run(scenario())


def update_json(
    fake: FakeTelegram, chat_id: int, text: str, update_id: int, chat_type: str = "private"
) -> bytes:
    message = fake.make_message(chat_id, text, chat_type=chat_type, user_id=1001)
    message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return json.dumps({"update_id": update_id, "message": message}).encode()


def test_webhook_mode_accepts_only_the_secret_token(tmp_path, make_ctx):
    ctx = make_ctx()
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"

    async def scenario():
        async with FakeTelegram() as fake:
            config = telegram_config(
                tmp_path, fake, port=port, telegram_webhook_url=url, telegram_webhook_secret="s3cret-token_1"
            )
            async with running(config, ctx) as runtime, aiohttp.ClientSession() as http:
                assert fake.webhook_url == url
                assert runtime.http.bound_port == port
                endpoint = base_url(runtime) + "/telegram/webhook"
                headers = {"Content-Type": "application/json"}
                body = update_json(fake, PRIVATE, "/agreements 2024", 1)

                async with http.post(endpoint, data=body, headers=headers) as missing:
                    assert missing.status == 403
                wrong = {**headers, "X-Telegram-Bot-Api-Secret-Token": "not-it"}
                async with http.post(endpoint, data=body, headers=wrong) as refused:
                    assert refused.status == 403
                right = {**headers, "X-Telegram-Bot-Api-Secret-Token": "s3cret-token_1"}
                async with http.post(endpoint, data=b"{not json", headers=right) as bad:
                    assert bad.status == 400
                async with http.post(endpoint, data=body, headers=right) as accepted:
                    assert accepted.status == 200

                parts = expected(ctx, "/agreements 2024")
                sent = await fake.wait_for_sent(len(parts), TIMEOUT)
                assert [m.text for m in sent] == parts
                assert fake.calls["getUpdates"] == 0  # no polling in webhook mode
                assert fake.calls["setWebhook"] == 1
            # the refused requests were not answered
            assert len(fake.sent) == len(parts)

    run(scenario())


def test_a_refused_token_stops_start_cleanly(tmp_path, make_ctx):
    """A token Telegram refuses: the runtime does not start and reports failure (kazkor run exits 1)."""

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(tmp_path, telegram_token="1:wrong", telegram_api_url=fake.base_url)
            runtime = build_runtime(config, make_ctx())
            status = await asyncio.wait_for(serve(runtime, asyncio.Event()), 15)
            assert status == 1
            assert fake.calls["getUpdates"] == 0
            assert not runtime.ready.is_set()

    run(scenario())


def test_who_and_projects_are_answered_on_telegram(tmp_path, make_ctx):
    """The issue-8 commands go through the shared core: Telegram sends exactly what the core answers."""
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            who = expected(ctx, "/who Toqayev")
            projects = expected(ctx, "/projects Busan")
            fake.push_command(PRIVATE, "/who Toqayev")
            fake.push_command(GROUP, "/projects@KazkorBot Busan", chat_type="group", user_id=1002)
            sent = await fake.wait_for_sent(len(who) + len(projects), TIMEOUT)
            assert [m.text for m in sent if m.chat_id == PRIVATE] == who
            assert [m.text for m in sent if m.chat_id == GROUP] == projects
            assert sent[0].visible_text.startswith(
                "Kassym-Jomart Tokayev: President of Kazakhstan, as of Sep 2024"
            )
            assert any("Cargo flights Almaty–Seoul and Almaty–Busan" in m.visible_text for m in sent)

    run(scenario())
