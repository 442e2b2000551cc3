"""Languages: the catalogs are complete and shipped, plural forms, dates and money per language, and
the choice of language per channel (/language, Telegram's language_code, KAZKOR_LANG, --lang)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.commands import dispatch, handle_text, parse
from bot.commands.due import due
from bot.config import Config, ConfigError
from bot.i18n import LANGUAGES, language_code, translator
from bot.platforms.inbound import RenderedReplies, with_extra
from bot.reminders.delivery import reminder_reply
from bot.render.plain import render_plain
from facts.model import PartialDate

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "bot" / "i18n" / "locale"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]


# --- the catalogs ----------------------------------------------------------------------------------


def source_messages() -> set[str]:
    """Every msgid in the code, extracted as `pybabel extract -F babel.cfg -k N_` does."""
    method_map = [("bot/**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(lang: str):
    with open(LOCALE / lang / "LC_MESSAGES" / "kazkor.po", "rb") as handle:
        return read_po(handle, locale=lang)


def test_babel_cfg_extracts_from_the_same_files_as_this_test():
    assert "[python: bot/**.py]" in (ROOT / "babel.cfg").read_text()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_in_the_code_is_translated(lang):
    """Fails when a text was wrapped but `pybabel update` was not run or the translation left empty."""
    po = catalog(lang)
    problems = []
    for msgid in sorted(source_messages()):
        message = po.get(msgid)
        if message is None:
            problems.append(f"missing: {msgid!r}")
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms):
            problems.append(f"untranslated or fuzzy: {msgid!r}")
    assert not problems, f"{lang}: run the commands in docs/languages.md\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_compiled_catalog_matches_the_po_file(lang):
    """The shipped .mo is what `pybabel compile` makes of the .po (no stale binary)."""
    po = catalog(lang)
    with open(LOCALE / lang / "LC_MESSAGES" / "kazkor.mo", "rb") as handle:
        mo = read_mo(handle)

    def table(messages):
        return {_key(m.id): _key(m.string) for m in messages if m.id}

    assert table(po) == table(mo)


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _fields(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}", text))


def _numbers(text: str) -> list[str]:
    return sorted(re.findall(r"\d+", text))


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_every_placeholder_and_number(lang):
    for message in catalog(lang):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            assert _fields(form) == _fields(ids[-1]), (lang, message.id, form)
            assert _numbers(form) == _numbers(ids[-1]), (lang, message.id, form)


def test_plural_forms_follow_each_language():
    headers = {lang: catalog(lang).plural_forms for lang in TRANSLATED}
    assert headers["ru"].startswith("nplurals=3;")
    assert headers["ko"].startswith("nplurals=1;")
    assert headers["kk"].startswith("nplurals=2;")
    ru = translator("ru")
    days = [ru.ngettext("{n} day ahead", "{n} days ahead", n).format(n=n) for n in (1, 2, 5, 11, 21, 22, 25)]
    assert days == [
        "за 1 день",
        "за 2 дня",
        "за 5 дней",
        "за 11 дней",
        "за 21 день",
        "за 22 дня",
        "за 25 дней",
    ]
    assert translator("ko").ngettext("{n} day ahead", "{n} days ahead", 7).format(n=7) == "7일 전"
    assert translator("en").ngettext("{n} day ahead", "{n} days ahead", 1).format(n=1) == "1 day ahead"


def test_the_compiled_catalogs_are_package_data():
    """`pip install .` (not editable, as CI does) copies what pyproject's package-data names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    compiled = [p.relative_to(ROOT / "bot").as_posix() for p in LOCALE.glob("*/LC_MESSAGES/*.mo")]
    assert sorted(p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/kazkor.mo")) == sorted(TRANSLATED)
    assert all(any(fnmatch.fnmatch(path, pattern) for pattern in patterns) for path in compiled)


# --- dates and numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "day", "month", "year"),
    [
        ("en", "28 Jan 2027", "Jan 2027", "2027"),
        # CLDR puts a narrow no-break space (U+202F) before "г." and "ж.": the date never breaks there
        ("ru", "28 января 2027\u202fг.", "январь 2027\u202fг.", "2027"),
        ("ko", "2027년 1월 28일", "2027년 1월", "2027년"),
        ("kk", "2027\u202fж. 28 қаңтар", "2027\u202fж. қаңтар", "2027"),
    ],
)
def test_dates_keep_their_precision_in_every_language(lang, day, month, year):
    tr = translator(lang)
    assert tr.date(PartialDate(2027, 1, 28)) == day
    assert tr.date(date(2027, 1, 28)) == day
    assert tr.date(PartialDate(2027, 1)) == month
    assert tr.date(PartialDate(2027)) == year


@pytest.mark.parametrize(
    ("lang", "billions", "millions", "exact"),
    [
        ("en", "US$6.5 billion", "US$230 million", "US$6.25 billion"),
        ("ru", "US$6,5 млрд", "US$230 млн", "US$6,25 млрд"),
        ("ko", "65억 달러", "2억 3000만 달러", "62억 5000만 달러"),
        ("kk", "6,5 млрд доллар", "230 млн доллар", "6,25 млрд доллар"),
    ],
)
def test_money_in_each_press_form_is_never_rounded(lang, billions, millions, exact):
    tr = translator(lang)
    assert tr.money(6.5e9) == billions
    assert tr.money(230e6) == millions
    assert tr.money(6.25e9) == exact


def test_numbers_use_each_language_grouping():
    assert translator("en").number(120000) == "120,000"
    assert translator("ru").number(120000) == "120\xa0000"
    assert translator("ko").number(2.5) == "2.5"
    assert translator("kk").number(2.5) == "2,5"


def test_language_codes_from_platforms():
    assert language_code("ru-RU") == "ru"
    assert language_code("KK") == "kk"
    assert language_code("ko_KR") == "ko"
    assert language_code("de") is None
    assert language_code(None) is None


# --- choosing the language -------------------------------------------------------------------------


def _ask(ctx, text, **extra):
    command = parse(text, platform=extra.pop("platform", "telegram"), channel=extra.pop("channel", "-5"))
    return dispatch(with_extra(command, **extra), ctx)


def test_an_admin_sets_a_groups_language_and_everyone_there_is_answered_in_it(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    done = _ask(ctx, "/language ru", chat_type="group", is_admin=True)
    assert done.title == "Язык ответов в этом канале изменён: Русский."
    assert done.kind == "answer" and done.lang == "ru"
    help_reply = _ask(ctx, "/help", chat_type="group", is_admin=False)
    assert help_reply.title.startswith("Kazkor отвечает на вопросы")
    assert help_reply.lang == "ru"
    # another channel keeps the default
    assert _ask(ctx, "/help", channel="-6", chat_type="group").title.startswith("Kazkor answers")


def test_a_member_who_is_not_an_admin_cannot_change_a_groups_language(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    refused = _ask(ctx, "/language ko", chat_type="supergroup", is_admin=False)
    assert refused.kind == "usage"
    assert refused.title == "Only channel admins can change this channel's language."
    assert _ask(ctx, "/help", chat_type="supergroup").lang == "en"


@pytest.mark.parametrize(("platform", "chat_type"), [("telegram", "private"), ("slack", "im")])
def test_anyone_may_choose_the_language_of_their_private_chat(make_ctx, state, platform, chat_type):
    ctx = make_ctx()
    ctx.state = state
    done = _ask(ctx, "/language kk", platform=platform, channel="D1", chat_type=chat_type, is_admin=False)
    assert done.title == "Бұл арнаның жауап тілі енді: Қазақша."


def test_language_without_a_word_shows_the_current_one_and_the_choices(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    reply = _ask(ctx, "/language", chat_type="group")
    assert reply.title == "This channel is answered in English."
    assert [i.text for i in reply.sections[0].items] == [
        "/language en — English",
        "/language ru — Русский",
        "/language ko — 한국어",
        "/language kk — Қазақша",
    ]


def test_an_unknown_language_gets_a_hint_in_the_current_language(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    _ask(ctx, "/language ko", chat_type="private")
    reply = _ask(ctx, "/language de", chat_type="private")
    assert reply.kind == "usage"
    assert reply.title.startswith("'de'은(는) 제가 답하는 언어가 아닙니다.")
    assert reply.sections[0].heading == "예시" and reply.sections[0].items[0].text == "/language ru"


def test_telegram_private_chat_without_a_setting_follows_the_users_language(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    private = _ask(ctx, "/help", chat_type="private", user_language="ko-KR")
    assert private.title.startswith("Kazkor는")
    # not one of the four: the default; and in a group the user's language does not apply
    assert _ask(ctx, "/help", chat_type="private", user_language="de").lang == "en"
    assert _ask(ctx, "/help", chat_type="group", user_language="ko").lang == "en"
    # a /language setting wins over the user's own language
    _ask(ctx, "/language kk", chat_type="private")
    assert _ask(ctx, "/help", chat_type="private", user_language="ko").lang == "kk"


def test_the_default_language_comes_from_kazkor_lang(make_ctx):
    assert Config.from_env({}).lang == "en"
    assert Config.from_env({"KAZKOR_LANG": "RU"}).lang == "ru"
    with pytest.raises(ConfigError, match="KAZKOR_LANG: 'fr' is not one of en, ru, ko, kk"):
        Config.from_env({"KAZKOR_LANG": "fr"})
    ctx = make_ctx().speaking("ko")
    assert handle_text("/help", ctx).title.startswith("Kazkor는")


def test_subscriptions_shows_the_channels_language(make_ctx, state):
    ctx = make_ctx()
    ctx.state = state
    _ask(ctx, "/language ru", chat_type="group", is_admin=True)
    reply = _ask(ctx, "/subscriptions", chat_type="group")
    language = next(s for s in reply.sections if s.heading == "Язык")
    assert language.items[0].text == "Русский: ответы и напоминания. Изменить: /language en|ru|ko|kk."


def test_without_state_the_language_cannot_be_saved(make_ctx):
    reply = _ask(make_ctx(), "/language ru", chat_type="private")
    assert reply.kind == "error" and "KAZKOR_DB" in reply.title


def test_cached_answers_are_kept_per_language(make_ctx, state):
    """Two channels in different languages asking the same thing get their own answers, not the
    other's from the cache."""
    ctx = make_ctx()
    ctx.state = state
    _ask(ctx, "/language ru", channel="-1", chat_type="group", is_admin=True)
    _ask(ctx, "/language ko", channel="-2", chat_type="group", is_admin=True)
    replies = RenderedReplies("console", lambda reply: [render_plain(reply)])
    answers = {}
    for round_ in range(2):
        for channel in ("-1", "-2", "-3"):
            command = parse("/help", platform="telegram", channel=channel)
            answers[(round_, channel)] = replies.answer(with_extra(command, chat_type="group"), ctx).parts[0]
    assert replies.hits == 3 and replies.misses == 3
    for round_ in range(2):
        assert answers[(round_, "-1")].startswith("Kazkor отвечает")
        assert answers[(round_, "-2")].startswith("Kazkor는")
        assert answers[(round_, "-3")].startswith("Kazkor answers")


def test_sources_heading_follows_the_reply_language(make_ctx):
    english = render_plain(handle_text("/source evt-2024-10-06-referendum", make_ctx()))
    korean = render_plain(handle_text("/source evt-2024-10-06-referendum", make_ctx().speaking("ko")))
    assert "\nSources:\n" in english and "\nSources:\n" not in korean
    assert "\n출처:\n" in korean


def test_a_reminder_is_worded_in_the_channels_language(catalogue):
    (reminder,) = [
        r for r in due(catalogue, date(2024, 9, 29), (7,)) if "referendum" in r.occurrence.record.id
    ]
    reply = reminder_reply(catalogue, reminder, translator("ru"))
    text = render_plain(reply)
    assert reply.lang == "ru"
    assert "\nСправка\n" in text and "\nИсточники:\n" in text
    assert text.endswith(
        "Напоминания этого канала: /subscriptions. Источники по состоянию на сентябрь 2024\u202fг."
    )


# --- on Telegram, through python-telegram-bot and the stand-in Bot API --------------------------------


def test_telegram_answers_chats_in_their_own_languages_at_once_and_sets_a_menu_per_language(
    tmp_path, make_ctx, state
):
    from bot.commands.language import set_channel_language
    from bot.render.telegram import render_telegram
    from tests.running import TIMEOUT, loopback_config, run, running
    from tests.standins.telegram_api import FakeTelegram

    ctx = make_ctx()
    ctx.state = state
    russian, korean, private = -501, -502, 1001
    set_channel_language(state, "telegram", str(russian), "ru")
    set_channel_language(state, "telegram", str(korean), "ko")

    def expected(lang: str, text: str) -> list[str]:
        return render_telegram(handle_text(text, ctx.speaking(lang)))

    asked = ["/help", "/source evt-2024-10-06-referendum", "/language"]

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.base_url)
            async with running(config, ctx):
                for text in asked:  # interleaved: the two groups are answered side by side
                    fake.push_command(russian, text, chat_type="group", user_id=7)
                    fake.push_command(korean, text, chat_type="group", user_id=8)
                    fake.push_command(private, text, language_code="kk")
                want = {
                    russian: [p for t in asked for p in expected("ru", t)],
                    korean: [p for t in asked for p in expected("ko", t)],
                    private: [p for t in asked for p in expected("kk", t)],
                }
                sent = await fake.wait_for_sent(sum(len(parts) for parts in want.values()), TIMEOUT)
                for chat, parts in want.items():
                    assert [m.text for m in sent if m.chat_id == chat] == parts
                assert [m.visible_text for m in sent if m.chat_id == private][-1].startswith(
                    "Бұл арнадағы жауап тілі: Қазақша."
                )
                menus = {code: fake.menu(code) for code in ("", "en", "ru", "ko", "kk")}
        assert [c["command"] for c in menus["ru"]] == [c["command"] for c in menus[""]]
        assert menus[""] == menus["en"]
        assert menus["en"][0]["description"] == "Trade and investment figures with their years and sources."
        assert menus["ru"][0]["description"] == "Данные о торговле и инвестициях с годами и источниками."
        assert menus["ko"][0]["description"] == "연도와 출처가 붙은 무역·투자 수치."
        assert menus["kk"][0]["description"].startswith("Жылдары мен дереккөздері")

    run(scenario())


def test_reminders_are_posted_in_each_channels_language(state, db, catalogue):
    from bot.clock import fixed_clock
    from bot.commands.language import set_channel_language
    from bot.reminders.delivery import post_due
    from tests.reminders_kit import FAST, REFERENDUM_7D_ALMATY, run, senders_for, subscribe
    from tests.standins.telegram_api import FakeTelegram

    subscribe(state, "telegram", "-100123")
    subscribe(state, "telegram", "-100456")
    set_channel_language(state, "telegram", "-100456", "ko")
    clock = fixed_clock(datetime.fromisoformat(REFERENDUM_7D_ALMATY))

    async def scenario():
        async with FakeTelegram() as tg, senders_for(db, tg) as senders:
            summary = await post_due(
                state, catalogue, senders, None, clock=clock, policy=FAST, default_lang="ru"
            )
            return summary, list(tg.sent)

    summary, sent = run(scenario())
    assert summary.sent == 2
    by_chat = {str(m.chat_id): m.visible_text for m in sent}
    assert "\nСправка\n" in by_chat["-100123"] and "Напоминания этого канала" in by_chat["-100123"]
    assert "\n배경\n" in by_chat["-100456"] and "이 채널의 알림: /subscriptions" in by_chat["-100456"]


def test_console_takes_lang_and_follows_a_language_chosen_in_it(tmp_path):
    from tests.test_cli import kazkor

    asked = kazkor("ask", "--lang", "ko", "/help", tmp_path=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Kazkor는 카자흐스탄–한국 관계에 관한 질문에 출처와 함께 답합니다.")
    session = kazkor("console", "--lang", "ru", stdin="/help\n/language kk\n/language\n", tmp_path=tmp_path)
    assert session.returncode == 0, session.stderr
    answers = session.stdout.split("\n\n")
    assert answers[0].startswith("Kazkor отвечает на вопросы")
    assert "Бұл арнаның жауап тілі енді: Қазақша." in session.stdout
    assert "Бұл арнадағы жауап тілі: Қазақша." in session.stdout
    bad = kazkor("ask", "--lang", "de", "/help", tmp_path=tmp_path)
    assert bad.returncode == 2 and "invalid choice: 'de'" in bad.stderr


def test_the_answers_shown_in_docs_and_readme_are_what_kazkor_answers(make_ctx, state):
    """Each ```text block of docs/languages.md and README.md that starts with `$ kazkor ask --lang X "..."`
    shows exactly the answer (as of the test clock's date), one in each language at least."""
    for doc in (ROOT / "docs" / "languages.md", ROOT / "README.md"):
        _check_shown_answers(doc.read_text(), make_ctx, state)


def _check_shown_answers(doc, make_ctx, state):
    blocks = re.findall(r'```text\n\$ kazkor ask --lang (\w+) "([^"]+)"\n(.*?)\n```', doc, flags=re.S)
    assert {lang for lang, _, _ in blocks} == set(LANGUAGES)
    ctx = make_ctx()
    ctx.state = state
    for lang, text, shown in blocks:
        assert render_plain(handle_text(text, ctx, lang=lang)) == shown, (lang, text)


def test_inline_offers_follow_the_askers_language(make_ctx):
    from bot.commands.inline import inline_offers

    korean = inline_offers("", make_ctx().speaking("ko"))
    assert [o.title.split(",")[0].split(":")[0] for o in korean] == ["교역액", "다음 기념일"]
    offers = {o.id: o for o in inline_offers("литий", make_ctx().speaking("ru"))}
    lithium = offers["agr-2024-06-lithium-rare-metals"]
    assert lithium.description.startswith("Во время визита Юн Сок Ёля в Астану в июне 2024 года")
    assert "“" in render_plain(lithium.message)  # the cited sentence, as the source wrote it


def test_slack_asks_before_an_admin_control_in_the_replys_language():
    from bot.render.slack import action_blocks
    from bot.reply import Action, ActionRow, Reply

    reply = Reply(
        title="…",
        actions=(ActionRow((Action("Приостановить напоминания", "unsubscribe", admin=True),)),),
        lang="ru",
    )
    (block,) = action_blocks(reply, lambda action: "payload")
    confirm = block["elements"][0]["confirm"]
    assert confirm["text"]["text"] == "Только для администраторов канала. Отключить напоминания этого канала?"
    assert (confirm["confirm"]["text"], confirm["deny"]["text"]) == ("Отключить", "Оставить")


# --- interface texts outside a command's answer --------------------------------------------------------


def test_an_over_long_message_is_refused_in_the_channels_language(make_ctx, state):
    from bot.commands.language import set_channel_language
    from bot.commands.parse import MAX_INPUT
    from bot.platforms.inbound import parse_text

    ctx = make_ctx()
    ctx.state = state
    set_channel_language(state, "telegram", "-5", "ru")
    text = "/search " + "x" * MAX_INPUT  # 508 characters
    hint = handle_text(text, ctx, platform="telegram", channel="-5")
    assert hint.title == "Сообщение слишком длинное (508 зн.): команда — не более 500 знаков."
    assert hint.lang == "ru" and hint.sections[0].items[0].text == "/search BAKAD"
    # the Slack and Telegram front ends: the channel's choice, else a private chat's user language
    where = {"platform": "telegram", "user": "7", "ctx": ctx}
    assert parse_text(text, channel="-5", chat_type="group", **where).title == hint.title
    private = parse_text(text, channel="7", chat_type="private", user_language="ko", **where)
    assert private.title == "메시지가 508자입니다. 명령은 최대 500자까지 입력할 수 있습니다."
    assert parse_text(text, channel="-6", chat_type="group", user_language="ko", **where).title == (
        "That message is 508 characters long; commands are at most 500."
    )


def test_an_expired_button_is_refused_in_the_pressers_language_on_telegram(tmp_path, make_ctx, state):
    from bot.commands.language import set_channel_language
    from tests.running import TIMEOUT, loopback_config, run, running
    from tests.standins.telegram_api import FakeTelegram

    ctx = make_ctx()
    ctx.state = state
    group, private = -503, 1003
    set_channel_language(state, "telegram", str(group), "ru")

    async def scenario():
        async with FakeTelegram() as fake:
            config = loopback_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.base_url)
            async with running(config, ctx):
                fake.push_command(group, "/timeline", chat_type="group", user_id=7)
                fake.push_command(private, "/timeline", user_id=private)
                sent = await fake.wait_for_sent(2, TIMEOUT)
                in_group = next(m for m in sent if m.chat_id == group)
                in_private = next(m for m in sent if m.chat_id == private)

                async def alert(message, **kw) -> dict:
                    query = fake.press(message, data="forged", **kw)
                    return await fake.wait_for_callback_answer(query, TIMEOUT)

                answer = await alert(in_group, user_id=8, language_code="ko")  # the group's choice wins
                assert answer["text"] == "Эта кнопка устарела, отправьте команду ещё раз."
                assert answer["show_alert"] is True
                answer = await alert(in_private, user_id=private, language_code="kk")
                assert answer["text"] == "Бұл түйменің мерзімі өтті, пәрменді қайта жіберіңіз."
                answer = await alert(in_private, user_id=private)
                assert answer["text"] == "This button has expired, send the command again."
                assert fake.edits == []

    run(scenario())


def test_an_expired_control_is_refused_in_the_channels_language_on_slack(tmp_path, make_ctx, state):
    import aiohttp

    from bot.commands.language import set_channel_language
    from bot.platforms.slack import EVENTS_PATH
    from tests.running import TIMEOUT, base_url, run, running
    from tests.standins.slack_api import (
        DEFAULT_CHANNEL,
        FakeSlack,
        block_actions_payload,
        signed_interactive_request,
    )
    from tests.test_slack_e2e import SECRET, expected, http_config

    ctx = make_ctx()
    ctx.state = state
    set_channel_language(state, "slack", DEFAULT_CHANNEL, "ko")
    timeline = expected(ctx, "/timeline")[0]  # any message with controls: the value is forged

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            payload = block_actions_payload(
                timeline["blocks"], "Next", response_url=fake.response_url("x"), value="forged"
            )
            body, headers = signed_interactive_request(SECRET, payload)
            async with aiohttp.ClientSession() as http:
                async with http.post(base_url(runtime) + EVENTS_PATH, data=body, headers=headers) as r:
                    assert r.status == 200
            (response,) = await fake.wait_for_responses(1, TIMEOUT)
            assert response.text == "만료된 버튼입니다. 명령을 다시 보내 주세요."
            assert response.response_type == "ephemeral"

    run(scenario())


def test_the_slack_home_tab_speaks_the_users_own_channel_language(tmp_path, make_ctx, state):
    import dataclasses

    import aiohttp

    from bot.commands import Command
    from bot.commands.language import set_channel_language
    from tests.running import TIMEOUT, run, running
    from tests.standins.slack_api import FakeSlack, signed_event_request
    from tests.test_slack_buttons import post_signed
    from tests.test_slack_e2e import SECRET, http_config

    ctx = dataclasses.replace(make_ctx("2024-09-20T09:00:00+05:00"), state=state)
    set_channel_language(state, "slack", "D0KO", "ko")  # /language ko in the user's DM with the bot

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            subscribe = Command(
                "subscribe", ("08:30", "Asia/Seoul"), "slack", "C0NEWS1", "U0A", {"is_admin": True}
            )
            dispatch(subscribe, ctx)
            async with aiohttp.ClientSession() as http:
                for user, dm in (("U0KO", "D0KO"), ("U0EN", "D0EN")):
                    event = {"type": "app_home_opened", "user": user, "channel": dm, "tab": "home"}
                    status, _ = await post_signed(http, runtime, *signed_event_request(SECRET, event))
                    assert status == 200
            await fake.wait_until(lambda: {"U0KO", "U0EN"} <= set(fake.home_views), TIMEOUT, "the views")

            def text(user: str) -> str:
                blocks = fake.home_views[user]["blocks"]
                return "\n".join(b["text"]["text"] for b in blocks if b["type"] in ("section", "header"))

            korean = text("U0KO")
            assert "Kazkor: 카자흐스탄–한국 관계, 출처와 함께" in korean
            assert "<#C0NEWS1> — 매일 08:30 (Asia/Seoul)" in korean
            # the referendum of 6 October 2024: its 7-day reminder on 29 September, Seoul time
            assert "2024년 9월 29일 (일) 08:30 (Asia/Seoul) <#C0NEWS1>" in korean
            assert "/agreements — 한 해 동안 체결된 협정과 양해각서. 예: /agreements 2024" in korean
            assert "every day" not in korean
            english = text("U0EN")  # no setting in that DM: KAZKOR_LANG
            assert "<#C0NEWS1> — every day at 08:30 (Asia/Seoul)" in english

    run(scenario())


def test_notes_about_a_file_follow_the_answers_language_on_slack(tmp_path, make_ctx, state, monkeypatch):
    import aiohttp

    import bot.feeds.chart as chart
    from bot.commands.language import set_channel_language
    from tests.running import TIMEOUT, run, running
    from tests.standins.slack_api import DEFAULT_CHANNEL, FakeSlack
    from tests.test_slack_e2e import http_config, post_command

    ctx = make_ctx()
    ctx.state = state
    set_channel_language(state, "slack", DEFAULT_CHANNEL, "ru")

    async def scenario():
        async with FakeSlack() as fake, running(http_config(tmp_path, fake), ctx) as runtime:
            async with aiohttp.ClientSession() as http:
                fake.set_channel(DEFAULT_CHANNEL, is_member=False)  # Slack refuses the upload
                await post_command(http, runtime, fake, "/trade", "chart", "c1")
                (refusal,) = await fake.wait_for_responses(1, TIMEOUT)
                assert refusal.text == (
                    "Не удалось поделиться файлом kazkor-trade-chart.png здесь "
                    "(ответ Slack: not_in_channel). "
                    "Пригласите бота в этот канал (/invite @kazkor) или воспользуйтесь ссылкой выше."
                )

                def broken(*args):
                    raise RuntimeError("no picture today")

                monkeypatch.setattr(chart.CHARTS, "png", broken)  # the picture cannot be made
                await post_command(http, runtime, fake, "/trade", "chart", "c2")
                responses = await fake.wait_for_responses(2, TIMEOUT)
                assert responses[-1].text == (
                    "Не удалось создать файл. Ошибка записана в журнал; попробуйте позже."
                )

    run(scenario())
