"""Telegram buttons end to end: kazkor's python-telegram-bot front end against the stand-in Bot API.

A press is a ``callback_query`` for a button the bot really sent (the stand-in keeps each message's
keyboard); the bot must answer the query every time and edit the message in place.
"""

from __future__ import annotations

import dataclasses

from bot.commands import Command, dispatch, parse
from bot.commands.controls import interactive
from bot.commands.due import due
from bot.commands.payload import EXPIRED
from bot.commands.subscriptions import REFUSAL
from bot.frontend import Target
from bot.platforms.senders import TelegramSender
from bot.reminders.delivery import reminder_reply
from bot.render.telegram import render_telegram
from tests.running import TIMEOUT, run, running
from tests.standins.telegram_api import FakeTelegram
from tests.test_telegram_e2e import GROUP, PRIVATE, telegram_config

DEAL_SENTENCE = (
    "“The Astana Times reported that Kazakhstan and South Korea signed a deal worth USD 1.7 billion "
    "during the two day visit.”"
)


def page_text(ctx, text: str, page: int = 0, view: str = "") -> str:
    """The one message the bot shows for ``text`` at ``page`` in ``view`` (HTML)."""
    (part,) = render_telegram(interactive(parse(text), ctx, page, view))
    return part


async def ask(fake: FakeTelegram, chat: int, text: str, **kw):
    before = len(fake.sent)
    fake.push_command(chat, text, **kw)
    sent = await fake.wait_for_sent(before + 1, TIMEOUT)
    return sent[before]


async def press(fake: FakeTelegram, message, label: str, **kw) -> dict:
    """Press ``label`` under ``message``; wait for the query's answer and return it."""
    query = fake.press(message, label, **kw)
    return await fake.wait_for_callback_answer(query, TIMEOUT)


def test_year_buttons_replace_the_answer_in_place_for_any_group_member(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, GROUP, "/agreements", chat_type="group")
            assert message.text == page_text(ctx, "/agreements")
            assert message.visible_text.startswith("Agreements signed in 2024")
            labels = [label for label, _ in fake.buttons(message)]
            assert labels == ["2021", "Sources"]  # the other years with agreements, latest first
            assert all(len(data.encode()) <= 64 for _, data in fake.buttons(message))

            answer = await press(fake, message, "2021", user_id=2002)  # a member, not the asker
            assert answer.get("show_alert") is not True
            (edit,) = await fake.wait_for_edits(1, TIMEOUT)
            assert edit["text"] == page_text(ctx, "/agreements 2021")
            assert edit["message_id"] == message.message_id and edit["chat_id"] == GROUP
            assert fake.shown(message).startswith("Agreements signed in 2021")
            assert "Deal worth USD 1.7 billion signed during Tokayev's visit to Seoul" in fake.shown(message)
            assert [label for label, _ in fake.buttons(message)] == ["2024", "Sources"]
            assert len(fake.sent) == 1  # replaced, not a new message

    run(scenario())


def test_next_and_previous_page_through_the_timeline(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, PRIVATE, "/timeline")
            first = fake.shown(message)
            assert first.startswith("Kazakhstan–Korea timeline")
            assert "Page 1 of" in first and "28 Jan 1992 — Kazakhstan and the Republic of Korea" in first
            assert "Previous" not in [label for label, _ in fake.buttons(message)]

            await press(fake, message, "Next")
            await fake.wait_for_edits(1, TIMEOUT)
            second = fake.shown(message)
            assert fake.edits[0]["text"] == page_text(ctx, "/timeline", 1)
            assert "Page 2 of" in second and second != first
            assert "28 Jan 1992 — Kazakhstan and the Republic of Korea" not in second
            assert "Previous" in [label for label, _ in fake.buttons(message)]

            await press(fake, message, "Previous")
            await fake.wait_for_edits(2, TIMEOUT)
            assert fake.shown(message) == first
            assert len(fake.sent) == 1

    run(scenario())


def test_sources_show_the_cited_sentences_and_back_returns(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, PRIVATE, "/agreements 2021")
            before = fake.shown(message)
            await press(fake, message, "Sources")
            await fake.wait_for_edits(1, TIMEOUT)
            shown = fake.shown(message)
            assert shown.startswith("Sources for: Agreements signed in 2021")
            # the seed's own sentence, verbatim, and the source it comes from
            assert DEAL_SENTENCE in shown
            assert "[1] unattributed article, Aug 2021" in shown
            assert [label for label, _ in fake.buttons(message)] == ["Back"]

            await press(fake, message, "Back")
            await fake.wait_for_edits(2, TIMEOUT)
            assert fake.shown(message) == before

    run(scenario())


def test_pressing_the_same_year_twice_is_harmless_and_always_answered(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, PRIVATE, "/agreements 2024")
            (_, data_2021) = [b for b in fake.buttons(message) if b[0] == "2021"][0]
            first = fake.press(message, data=data_2021)
            second = fake.press(message, data=data_2021)  # a double tap: the second edit changes nothing
            await fake.wait_for_callback_answer(first, TIMEOUT)
            await fake.wait_for_callback_answer(second, TIMEOUT)
            # the second edit is refused as "message is not modified", which the bot takes calmly
            await fake.wait_until(lambda: fake.calls["editMessageText"] == 2, TIMEOUT, "two edits")
            assert len(fake.edits) == 1
            assert len(fake.sent) == 1

    run(scenario())


def test_a_message_that_cannot_be_edited_gets_a_new_message(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, PRIVATE, "/timeline")
            fake.make_uneditable(message)
            await press(fake, message, "Next")
            sent = await fake.wait_for_sent(2, TIMEOUT)
            assert sent[1].text == page_text(ctx, "/timeline", 1)
            assert "Previous" in [label for label, _ in fake.buttons(sent[1])]
            assert fake.edits == []

    run(scenario())


def test_a_press_on_a_message_too_old_to_see_gets_a_new_message(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            message = await ask(fake, GROUP, "/timeline", chat_type="group")
            _, data = [b for b in fake.buttons(message) if b[0] == "Next"][0]
            query = fake.press(message, data=data, inaccessible=True)
            answer = await fake.wait_for_callback_answer(query, TIMEOUT)
            assert answer.get("show_alert") is not True
            _, new = await fake.wait_for_sent(2, TIMEOUT)
            assert new.chat_id == GROUP and new.text == page_text(ctx, "/timeline", 1)
            assert fake.edits == []

    run(scenario())


def test_a_button_from_before_a_restart_still_works(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake:
            async with running(telegram_config(tmp_path, fake), ctx):
                message = await ask(fake, PRIVATE, "/timeline")
            # a new process (new Application, new caches) answers the old button the same way
            async with running(telegram_config(tmp_path, fake), make_ctx()):
                answer = await press(fake, message, "Next")
                await fake.wait_for_edits(1, TIMEOUT)
                assert answer.get("show_alert") is not True
                assert fake.edits[0]["text"] == page_text(ctx, "/timeline", 1)

    run(scenario())


def test_a_forged_or_tampered_payload_is_expired_and_changes_nothing(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx) as runtime:
            message = await ask(fake, PRIVATE, "/timeline")
            (_, data) = [b for b in fake.buttons(message) if b[0] == "Next"][0]
            tampered = data.replace("|1|", "|2|")
            assert tampered != data
            for forged in ("forged", tampered, "x" * 64, data + "2024"):
                answer = await fake.wait_for_callback_answer(fake.press(message, data=forged), TIMEOUT)
                assert answer["text"] == EXPIRED and answer["show_alert"] is True
            assert fake.edits == [] and len(fake.sent) == 1
            # a button signed with another bot's token is not ours either
            other = TelegramSender(type("B", (), {"token": "999:other"})()).controls
            foreign = other.encode(interactive(parse("/timeline"), ctx).actions[-1].actions[0])
            answer = await fake.wait_for_callback_answer(fake.press(message, data=foreign), TIMEOUT)
            assert answer["text"] == EXPIRED
            assert fake.edits == []
            counted = 'kazkor_commands_total{command="other",platform="telegram"} 5.0'
            # a press is counted just after it is answered: wait for it rather than race it
            await fake.wait_until(lambda: counted in runtime.metrics.render().decode(), TIMEOUT, counted)

    run(scenario())


def test_presses_are_counted_like_commands(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx) as runtime:
            message = await ask(fake, PRIVATE, "/timeline")
            await press(fake, message, "Next")
            await press(fake, message, "Sources")
            await fake.wait_for_edits(2, TIMEOUT)
            counted = 'kazkor_commands_total{command="timeline",platform="telegram"} 3.0'
            # a press is counted just after its edit is sent: wait for it rather than race it
            await fake.wait_until(lambda: counted in runtime.metrics.render().decode(), TIMEOUT, counted)

    run(scenario())


def test_reminder_post_source_and_pause_refused_for_members_allowed_for_admins(tmp_path, make_ctx, state):
    ctx = dataclasses.replace(make_ctx("2024-09-29T08:00:00+05:00"), state=state)
    admin, member = 3003, 3004

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx) as runtime:
            if runtime.reminders is not None and runtime.reminders.catch_up_task is not None:
                await runtime.reminders.catch_up_task  # the start's catch-up must not see the subscription
            fake.set_member_status(GROUP, admin, "administrator")
            subscribed = dispatch(
                Command("subscribe", (), "telegram", str(GROUP), str(admin), {"is_admin": True}), ctx
            )
            assert subscribed.kind == "answer"
            (reminder,) = [r for r in due(ctx.catalogue, ctx.today()) if "referendum" in r.key]
            sender = TelegramSender(runtime.telegram.application.bot)
            await sender.send(Target("telegram", str(GROUP)), reminder_reply(ctx.catalogue, reminder))
            (post,) = await fake.wait_for_sent(1, TIMEOUT)
            assert [label for label, _ in fake.buttons(post)] == ["Source", "Pause reminders"]

            # "Source": the sentence behind the reminder, as a new message; the reminder stays
            await press(fake, post, "Source", user_id=member)
            _, source = await fake.wait_for_sent(2, TIMEOUT)
            assert (
                source.text == render_telegram(dispatch(parse("/source evt-2024-10-06-referendum"), ctx))[0]
            )
            assert "“" in source.visible_text

            # a member who is not an admin: the /unsubscribe refusal, privately; nothing changes
            answer = await press(fake, post, "Pause reminders", user_id=member)
            assert answer["text"] == REFUSAL and answer["show_alert"] is True
            assert state.subscription("telegram", str(GROUP)) is not None
            assert len(fake.sent) == 2 and fake.edits == []

            # an admin: the same as /unsubscribe
            answer = await press(fake, post, "Pause reminders", user_id=admin)
            assert answer.get("show_alert") is not True
            _, _, done = await fake.wait_for_sent(3, TIMEOUT)
            assert done.visible_text.startswith("This channel will no longer get reminders")
            assert state.subscription("telegram", str(GROUP)) is None

    run(scenario())


def test_inline_mode_offers_sourced_facts_and_headlines_when_empty(tmp_path, make_ctx):
    ctx = make_ctx()

    async def scenario():
        async with FakeTelegram() as fake, running(telegram_config(tmp_path, fake), ctx):
            answer = await fake.wait_for_inline_answer(fake.push_inline_query("lithium"), TIMEOUT)
            # the agreement, the joint-mining project and the 2023 statement all name lithium
            (result,) = [r for r in answer["results"] if r["id"] == "agr-2024-06-lithium-rare-metals"]
            assert result["type"] == "article"
            assert result["title"].startswith("During Yoon Suk Yeol's June 2024 visit to Astana")
            sent = result["input_message_content"]
            assert sent["parse_mode"] == "HTML"
            # the claim, the sentence it rests on and the source travel with the fact
            assert (
                "joint mining for lithium deposits and technology cooperation for rare metals"
                in sent["message_text"]
            )
            assert "“Yoon and Tokayev signed a series of memoranda of understanding" in sent["message_text"]
            assert "[1] Korea JoongAng Daily, Sep 2024" in sent["message_text"]

            headlines = await fake.wait_for_inline_answer(fake.push_inline_query(""), TIMEOUT)
            titles = [r["title"] for r in headlines["results"]]
            assert titles[0] == "Trade turnover, 2023"
            # 001 gives "$6 billion" with no year: the headline says the year is inferred
            assert "$6 billion" in headlines["results"][0]["description"]
            assert "(2023 inferred)" in headlines["results"][0]["description"]
            # the year-only 2009 partnership has no day, so it is not "next": diplomatic relations are
            assert titles[1] == "Next anniversary: 28 Jan 2025"
            assert 1 <= len(titles) <= 10

            many = await fake.wait_for_inline_answer(fake.push_inline_query("korea"), TIMEOUT)
            assert len(many["results"]) == 10  # at most ten offers, though more records match
            nothing = await fake.wait_for_inline_answer(fake.push_inline_query("zzzqqq"), TIMEOUT)
            assert nothing["results"] == []

    run(scenario())
