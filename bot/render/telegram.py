"""Reply -> Telegram messages in HTML parse mode.

Telegram refuses a message over 4096 characters (counted after entity parsing) and any HTML it cannot
parse, so every line is built from escaped text inside balanced tags, and messages are cut between
lines only. A line that alone would be too long is split at spaces, each piece wrapped in its own
tags, so no cut ever falls inside a tag or an entity.

Lengths are counted in UTF-16 code units, which is never less than the character count: a message
that fits by this measure fits by Telegram's. Both the raw HTML and the visible text must fit.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.render.plain import item_line, source_lines, sources_heading
from bot.render.slack import split_to_fit
from bot.reply import Action, Reply, Section

MAX_MESSAGE = 4096

_TAG = re.compile(r"<[^>]*>")


def tg_escape(text: str) -> str:
    """Escape ``&``, ``<``, ``>``; quotes stay as they are (they are only special inside attributes)."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(markup: str) -> str:
    """What Telegram shows for our own markup: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def fits_message(markup: str) -> bool:
    """True when both the raw HTML and the visible text are within Telegram's limit."""
    return utf16_len(markup) <= MAX_MESSAGE and utf16_len(visible_text(markup)) <= MAX_MESSAGE


def _plain(text: str) -> str:
    return text


def _bold(text: str) -> str:
    return f"<b>{text}</b>"


def _italic(text: str) -> str:
    return f"<i>{text}</i>"


def html_lines(raw: str, wrap: Callable[[str], str] = _plain) -> list[str]:
    """Escape ``raw`` and wrap it in tags, split at spaces into pieces that each fit one message.

    Each piece gets its own opening and closing tags, so every piece is valid HTML on its own.
    """
    pieces = split_to_fit(raw, lambda piece: fits_message(wrap(tg_escape(piece))))
    return [wrap(tg_escape(piece)) for piece in pieces]


def _section_lines(section: Section) -> list[str]:
    lines = [""]
    lines.extend(html_lines(section.heading, _bold))
    if section.note:
        lines.extend(html_lines(section.note, _italic))
    for item in section.items:
        lines.extend(html_lines(item_line(item)))
    return lines


def reply_lines(reply: Reply) -> list[str]:
    """The reply as HTML lines, in the order :func:`bot.render.plain.render_plain` writes it."""
    lines = html_lines(reply.title, _bold)
    for section in reply.sections:
        lines.extend(_section_lines(section))
    if reply.citations:
        lines.extend(["", _bold(tg_escape(sources_heading(reply)))])
        for raw in source_lines(reply):
            lines.extend(html_lines(raw))
    if reply.footer:
        lines.append("")
        lines.extend(html_lines(reply.footer, _italic))
    return lines


def pack_messages(lines: list[str]) -> list[str]:
    """Join lines into as few messages as fit; blank lines at a cut are dropped (Telegram trims them)."""
    messages: list[list[str]] = [[]]
    for line in lines:
        candidate = messages[-1] + [line]
        if messages[-1] and not fits_message("\n".join(candidate)):
            messages.append([line])
        else:
            messages[-1] = candidate
    texts = ("\n".join(message).strip("\n") for message in messages)
    return [text for text in texts if visible_text(text).strip()]


def render_telegram(reply: Reply) -> list[str]:
    """The reply as one or more HTML messages for ``send_message(..., parse_mode="HTML")``."""
    return pack_messages(reply_lines(reply)) or [tg_escape(reply.title) or "…"]


# --- controls: an inline keyboard, as (label, callback_data) rows ------------------------------------

KEYBOARD_ROW = 5  # buttons per row: Telegram allows 8, phones show 5 year labels comfortably


def keyboard_rows(reply: Reply, encode: Callable[[Action], str | None]) -> list[list[tuple[str, str]]]:
    """The reply's controls as rows of ``(label, callback_data)`` for an ``InlineKeyboardMarkup``.

    ``encode`` makes each control's payload (None when it does not fit in 64 bytes: that control is
    left out). Long rows wrap after :data:`KEYBOARD_ROW` buttons.
    """
    rows: list[list[tuple[str, str]]] = []
    for row in reply.actions:
        buttons = [(action.label, data) for action in row.actions if (data := encode(action)) is not None]
        rows.extend(buttons[start : start + KEYBOARD_ROW] for start in range(0, len(buttons), KEYBOARD_ROW))
    return rows
