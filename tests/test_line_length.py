"""Every item of every answer is at most 160 visible characters, on all three renderers.

The walk covers every command over every argument that has data: each year with agreements or events
(and one without), /upcoming from the first of every month of 2024–2029 for short and long windows,
/search for every word the records hold, and every reminder post due on any day of 2024–2029. A command
registered later (e.g. /who, /projects) is walked with no argument and with the records' words.

Only ``/source`` is left out: it is the one step away that shows the whole sentence.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta

import pytest

from bot.clock import fixed_clock
from bot.commands import COMMANDS, Context, handle_text
from bot.commands.due import due
from bot.commands.format import MAX_ITEM_CHARS
from bot.reminders.delivery import reminder_reply
from bot.render.plain import render_plain
from bot.render.slack import render_slack
from bot.render.telegram import render_telegram, visible_text
from bot.reply import BULLET, Reply
from tests.conftest import ALMATY

FULL_VIEW = {"source"}  # the full sentence is allowed to be long there
MONTH_STARTS = [date(y, m, 1) for y in range(2024, 2030) for m in range(1, 13)]


def _plain_items(reply: Reply) -> list[str]:
    return [line for line in render_plain(reply).splitlines() if line.startswith(BULLET)]


def _slack_items(reply: Reply) -> list[str]:
    lines = []
    for message in render_slack(reply):
        for block in message["blocks"]:
            if block["type"] == "section":
                lines += block["text"]["text"].split("\n")
    # what Slack shows: the three escaped characters back as themselves
    return [html.unescape(line) for line in lines if line.startswith(BULLET)]


def _telegram_items(reply: Reply) -> list[str]:
    lines = [line for message in render_telegram(reply) for line in visible_text(message).split("\n")]
    return [line for line in lines if line.startswith(BULLET)]


RENDERERS = {"plain": _plain_items, "slack": _slack_items, "telegram": _telegram_items}


def _arguments(catalogue) -> dict[str, list[tuple[str, ...]]]:
    words = sorted(catalogue.vocabulary())
    return {
        "trade": [()],
        "agreements": [(), ("1995",)] + [(str(y),) for y in catalogue.years("agreement")],
        "timeline": [(), ("1995",)] + [(str(y),) for y in catalogue.years("event")],
        "upcoming": [(), ("7",), ("366",), ("400",)],
        "search": [(w,) for w in words],
        "help": [()],
        "subscribe": [()],
        "unsubscribe": [()],
        "subscriptions": [()],
        None: [()] + [(w,) for w in words],  # a command this walk does not know yet
    }


def _replies(catalogue):
    """(label, reply) for every command and argument, and every reminder post of 2024–2029."""
    table = _arguments(catalogue)
    ctx = Context(catalogue=catalogue, tz=ALMATY, clock=fixed_clock(datetime(2024, 9, 20, 9, tzinfo=ALMATY)))
    for name in COMMANDS:
        if name in FULL_VIEW:
            continue
        for args in table.get(name, table[None]):
            text = " ".join((f"/{name}", *args))
            if name == "upcoming":  # the window moves with the clock: walk it over six years
                for day in MONTH_STARTS:
                    at = datetime(day.year, day.month, day.day, 9, tzinfo=ALMATY)
                    yield f"{text} on {day}", handle_text(text, Context(catalogue, ALMATY, fixed_clock(at)))
            else:
                yield text, handle_text(text, ctx, platform="console", channel="console", user="console")
    day = date(2024, 1, 1)
    while day.year < 2030:
        for reminder in due(catalogue, day):
            yield f"reminder {reminder.key}", reminder_reply(catalogue, reminder)
        day += timedelta(days=1)


@pytest.fixture(scope="module")
def replies(catalogue):
    return list(_replies(catalogue))


def test_the_walk_covers_every_command_and_the_data(replies, catalogue):
    walked = {label.split()[0].lstrip("/") for label, _ in replies}
    assert walked >= (set(COMMANDS) - FULL_VIEW) | {"reminder"}
    # every event, agreement and trade figure was shown somewhere in the walk
    shown = {i.record_id for _, r in replies for s in r.sections for i in s.items}
    for kind in ("event", "agreement"):
        assert {r.id for r in catalogue.of_kind(kind)} <= shown


@pytest.mark.parametrize("renderer", sorted(RENDERERS))
def test_every_item_is_at_most_160_visible_characters(replies, renderer):
    too_long = []
    for label, reply in replies:
        for line in RENDERERS[renderer](reply):
            if len(line) > MAX_ITEM_CHARS:
                too_long.append(f"{label}: {len(line)}: {line}")
    assert too_long == [], "\n".join(too_long[:10])


def test_lines_say_no_place_twice_and_never_place_not_stated(replies):
    for label, reply in replies:
        for line in _plain_items(reply):
            assert "place not stated" not in line, label
            assert "Seoul Cyber University, Seoul Cyber University" not in line, label


def test_no_curator_notes_outside_source(replies, catalogue):
    notes = {r.note for r in catalogue.by_id.values() if getattr(r, "note", None)}
    corrections = {r.correction for r in catalogue.by_id.values() if getattr(r, "correction", None)}
    for label, reply in replies:
        text = render_plain(reply)
        assert "Curator" not in text, label
        leaked = [n for n in notes | corrections if n[:60] in text]
        assert leaked == [], label
