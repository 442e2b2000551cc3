"""The Slack and Telegram renderers keep to each platform's limits and never let data become markup.

The Telegram output is checked with the same HTML parser the Telegram stand-in uses, which follows
the Bot API's rules (allowed tags, balance, entities, 4096 characters after parsing).
"""

from __future__ import annotations

import html
import re

import pytest

from bot.render.plain import render_plain
from bot.render.slack import mrkdwn_escape, render_slack, split_to_fit
from bot.render.telegram import render_telegram
from bot.reply import Item, Reply, Section, SourceRef
from tests.standins.slack_api import block_errors
from tests.standins.telegram_api import ALLOWED_TAGS, parse_html, utf16_len

HOSTILE = ["<b>bold?</b>", "&amp; already escaped", "<!channel> wake up", "<@U123> ping", "a < b > c & d"]
LONG_WORDS = " ".join(["Қазақстан–한국"] * 900)  # ~11k chars, Cyrillic + Hangul, spaces to split at
LONG_UNBROKEN = "x" * 9000  # no space at all: must still be cut


def hostile_reply(n_items: int = 200):
    items = [Item(f"item {i:03d} {HOSTILE[i % len(HOSTILE)]}", refs=(1 + i % 3,)) for i in range(n_items)]
    return Reply(
        title="Kazakhstan & Korea <b>agreements</b> <!channel>",
        sections=(
            Section("Agreements <i>2024</i>", tuple(items), note="figures disagree & <both> shown"),
            Section("Long", (Item(LONG_WORDS, (2,)), Item(LONG_UNBROKEN))),
        ),
        citations=tuple(SourceRef(n, f"00{n}.txt", f"Source {n} <script> & co") for n in (1, 2, 3)),
        footer="Footer <@U999> & more",
    )


def small_reply():
    return Reply(
        title="Trade <b>2023</b>",
        sections=(Section("Figures", (Item("Turnover $6.4bn & rising", (1,)), Item("<!here>")), "a note"),),
        citations=(SourceRef(1, "001.txt", "The Astana Times, Jun 2024"),),
        footer="kazkor",
    )


def squash(text: str) -> str:
    """Whitespace-free text, so pieces split at spaces compare equal to the original."""
    return re.sub(r"\s+", "", text)


# --- shared splitting ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a b c", LONG_WORDS, LONG_UNBROKEN, "short"])
def test_split_to_fit_respects_limit_and_keeps_text(text):
    pieces = split_to_fit(text, lambda piece: len(piece) <= 100)
    assert all(1 <= len(piece) <= 100 for piece in pieces)
    assert squash("".join(pieces)) == squash(text)


# --- Telegram ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def telegram_messages():
    return render_telegram(hostile_reply())


def test_telegram_messages_parse_and_fit(telegram_messages):
    assert len(telegram_messages) > 1
    for message in telegram_messages:
        visible = parse_html(message)  # raises on a bad tag, unbalanced markup or unknown entity
        assert 0 < utf16_len(visible) <= 4096
        assert utf16_len(message) <= 4096


def test_telegram_uses_only_allowed_tags(telegram_messages):
    for message in telegram_messages:
        tags = set(re.findall(r"</?([a-zA-Z-]+)", message))
        assert tags <= ALLOWED_TAGS
        assert tags <= {"b", "i"}


def test_telegram_hostile_text_is_escaped_and_round_trips(telegram_messages):
    visible = "\n".join(parse_html(message) for message in telegram_messages)
    reply = hostile_reply()
    for section in reply.sections:
        for item in section.items[:50]:
            assert item.text in visible or squash(item.text) in squash(visible)
    assert reply.title in visible
    assert "Footer <@U999> & more" in visible
    assert "&lt;b&gt;bold?&lt;/b&gt;" in "".join(telegram_messages)
    assert "&amp;amp; already escaped" in "".join(telegram_messages)


def test_telegram_every_item_once_in_order(telegram_messages):
    visible = "\n".join(parse_html(message) for message in telegram_messages)
    positions = [visible.index(f"item {i:03d} ") for i in range(200)]
    assert positions == sorted(positions)
    assert all(visible.count(f"item {i:03d} ") == 1 for i in range(200))
    assert squash(LONG_WORDS) in squash(visible)
    assert squash(LONG_UNBROKEN) in squash(visible)


def test_telegram_small_reply_is_one_message_matching_plain():
    messages = render_telegram(small_reply())
    assert len(messages) == 1
    assert messages[0].startswith("<b>Trade &lt;b&gt;2023&lt;/b&gt;</b>\n")
    assert "<b>Sources</b>\n[1] The Astana Times, Jun 2024" in messages[0]
    assert squash(parse_html(messages[0])) == squash(
        render_plain(small_reply()).replace("Sources:", "Sources")
    )


def test_telegram_long_line_pieces_keep_their_tags():
    reply = Reply(title=LONG_WORDS, sections=(Section(LONG_UNBROKEN, note=LONG_WORDS),))
    messages = render_telegram(reply)
    assert len(messages) >= 6
    for message in messages:
        parse_html(message)
        assert utf16_len(message) <= 4096
        for line in message.split("\n"):
            if line:
                assert re.fullmatch(r"<(b|i)>[^<>]*</\1>", line)


def test_telegram_escapes_with_html_escape():
    (message,) = render_telegram(Reply(title='"quotes" & <tags>'))
    assert message == "<b>" + html.escape('"quotes" & <tags>', quote=False) + "</b>"


# --- Slack ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slack_messages():
    return render_slack(hostile_reply())


def all_texts(message: dict) -> list[str]:
    texts = []
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", []))
    return texts


def test_slack_messages_respect_block_kit_limits(slack_messages):
    assert len(slack_messages) >= 1
    for message in slack_messages:
        assert 1 <= len(message["blocks"]) <= 50
        assert block_errors(message["blocks"]) == []
        for block in message["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "context":
                assert len(block["elements"]) <= 10
                assert all(len(element["text"]) <= 2000 for element in block["elements"])


def test_slack_splits_into_several_messages_beyond_50_blocks():
    sections = tuple(Section(f"Section {i}", (Item(f"fact {i}"),)) for i in range(120))
    messages = render_slack(Reply(title="Many", sections=sections))
    assert [len(m["blocks"]) for m in messages] == [50, 50, 21]
    joined = "\n".join(text for m in messages for text in all_texts(m))
    assert all(joined.count(f"• fact {i}\n") + joined.endswith(f"• fact {i}") == 1 for i in range(120))
    for message in messages:
        assert message["text"].strip()
        for heading in re.findall(r"\*(Section \d+)\*", "\n".join(all_texts(message))):
            assert f"\n{heading}\n" in f"\n{message['text']}\n"  # each fallback covers its own blocks


def test_slack_escapes_mentions_and_markup(slack_messages):
    everything = "\n".join(text for message in slack_messages for text in all_texts(message))
    fallbacks = "\n".join(message["text"] for message in slack_messages)
    for text in (everything, fallbacks):
        assert "<!channel>" not in text
        assert "<@U123>" not in text
        assert "<@U999>" not in text
        assert "&lt;!channel&gt;" in text
        assert "&amp;amp; already escaped" in text
        assert re.search(r"<[!@#]", text) is None


def test_slack_every_item_exactly_once(slack_messages):
    everything = "\n".join(text for message in slack_messages for text in all_texts(message))
    for i in range(200):
        assert everything.count(f"item {i:03d} ") == 1
    expected = squash(mrkdwn_escape(LONG_WORDS))
    assert squash(everything).count(expected) == 1
    assert squash(everything).count(LONG_UNBROKEN) == 1


def test_slack_fallback_text_present_and_capped(slack_messages):
    for message in slack_messages:
        assert message["text"].strip()
        assert len(message["text"]) <= 3000
    assert any(message["text"].endswith("…") for message in slack_messages)


def test_slack_small_reply_is_one_message_with_plain_fallback():
    (message,) = render_slack(small_reply())
    assert message["text"] == mrkdwn_escape(render_plain(small_reply()))
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["section", "section", "context", "context"]
    assert message["blocks"][0]["text"]["text"] == "*Trade &lt;b&gt;2023&lt;/b&gt;*"
    assert (
        message["blocks"][1]["text"]["text"]
        == "*Figures*\n_a note_\n• Turnover $6.4bn &amp; rising [1]\n• &lt;!here&gt;"
    )
    assert message["blocks"][2]["elements"][0]["text"] == "*Sources*\n[1] The Astana Times, Jun 2024"


def test_slack_plain_title_becomes_header():
    (message,) = render_slack(Reply(title="Kazakhstan–Korea agreements"))
    assert message["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "Kazakhstan–Korea agreements"}}
    ]
    assert message["text"] == "Kazakhstan–Korea agreements"
