"""Reply -> Slack messages (Block Kit plus a plain ``text`` fallback).

Slack rejects a message with more than 50 blocks or a section text over 3000 characters
(``invalid_blocks``), so the reply is first cut into blocks that each respect the per-block limits,
then the blocks are packed into as many messages as needed. Every block remembers the plain lines it
shows, so each message's ``text`` fallback (notifications, screen readers, old clients) covers exactly
its own blocks. The fallback is the plain rendering of those blocks (escaped too: Slack parses ``text``).

Only ``&``, ``<`` and ``>`` are escaped: that is all Slack needs, and it turns an injected
``<!channel>`` or ``<@U123>`` into harmless text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import ENGLISH, Translator, translator
from bot.render.plain import item_line, source_lines, sources_heading
from bot.reply import Action, Reply, Section

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_CONTEXT_TEXT = 2000
MAX_FALLBACK_TEXT = 3000
ELLIPSIS = "…"


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack treats as markup; ``&`` first so entities are not doubled."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def split_to_fit(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Split ``text`` into pieces that each satisfy ``fits``, cutting at spaces where possible.

    ``fits`` must be monotone (a prefix of a fitting piece fits too) and accept any single character.
    The space at a cut is dropped, so ``" ".join(pieces)`` restores the text when every cut found a
    space; a word too long for one piece is cut inside the word.
    """
    pieces: list[str] = []
    rest = text
    while not fits(rest):
        n = _longest_fitting_prefix(rest, fits)
        space = rest.rfind(" ", 0, n + 1)
        if space > 0:
            pieces.append(rest[:space])
            rest = rest[space + 1 :]
        else:
            pieces.append(rest[:n])
            rest = rest[n:]
    pieces.append(rest)
    return pieces


def _longest_fitting_prefix(text: str, fits: Callable[[str], bool]) -> int:
    """Binary search for the largest ``n`` with ``fits(text[:n])`` (at least 1 so progress is made)."""
    low, high = 1, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(text[:mid]):
            low = mid
        else:
            high = mid - 1
    return low


def mrkdwn_lines(
    raw: str, wrap: Callable[[str], str] = lambda s: s, limit: int = MAX_SECTION_TEXT
) -> list[str]:
    """Escape ``raw`` and wrap it (e.g. in ``*bold*``), split so that every wrapped piece fits ``limit``.

    Splitting the raw text (not the escaped one) means an entity such as ``&amp;`` is never cut.
    """
    pieces = split_to_fit(raw, lambda piece: len(wrap(mrkdwn_escape(piece))) <= limit)
    return [wrap(mrkdwn_escape(piece)) for piece in pieces]


@dataclass
class _Unit:
    """One block plus the plain-text lines it stands for in the fallback."""

    block: dict
    plain: list[str]


def _section_block(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _title_units(title: str) -> list[_Unit]:
    """A ``header`` block when the title is short and needs no escaping, else bold mrkdwn sections.

    A header is ``plain_text``, which Slack does not unescape; a title containing ``&<>`` or one longer
    than 150 characters goes into a mrkdwn section instead, so nothing is lost or shown as ``&amp;``.
    """
    if title and len(title) <= MAX_HEADER_TEXT and not any(c in title for c in "&<>"):
        header = {"type": "header", "text": {"type": "plain_text", "text": truncate(title, MAX_HEADER_TEXT)}}
        return [_Unit(header, [title])]
    lines = mrkdwn_lines(title or " ", lambda s: f"*{s}*")
    return [_Unit(_section_block(line), [title] if i == 0 else []) for i, line in enumerate(lines)]


def _pack_lines(lines: list[tuple[str, list[str]]], limit: int) -> list[tuple[list[str], list[str]]]:
    """Group ``(mrkdwn line, plain lines)`` pairs into chunks whose newline-joined mrkdwn fits ``limit``."""
    chunks: list[tuple[list[str], list[str]]] = []
    size = 0
    for text, plain in lines:
        if chunks and size + 1 + len(text) <= limit:
            chunks[-1][0].append(text)
            chunks[-1][1].extend(plain)
            size += 1 + len(text)
        else:
            chunks.append(([text], list(plain)))
            size = len(text)
    return chunks


def _section_units(section: Section) -> list[_Unit]:
    """``*heading*``, an optional ``_note_`` and one line per item, in as many section blocks as needed.

    Chunks break between items; an item longer than a whole block is split at spaces, and its plain
    line rides with the block holding its first piece.
    """
    lines: list[tuple[str, list[str]]] = []
    heading_plain = ["", section.heading] + ([f"  {section.note}"] if section.note else [])
    for i, text in enumerate(mrkdwn_lines(section.heading, lambda s: f"*{s}*")):
        lines.append((text, heading_plain if i == 0 else []))
    if section.note:
        lines.extend((text, []) for text in mrkdwn_lines(section.note, lambda s: f"_{s}_"))
    for item in section.items:
        plain = item_line(item)
        for i, text in enumerate(mrkdwn_lines(plain)):
            lines.append((text, [plain] if i == 0 else []))
    chunks = _pack_lines(lines, MAX_SECTION_TEXT)
    return [_Unit(_section_block("\n".join(texts)), plain) for texts, plain in chunks]


def _context_units(lines: list[tuple[str, list[str]]]) -> list[_Unit]:
    """``(mrkdwn line, plain lines)`` pairs as ``context`` blocks: ≤2000 chars per element, ≤10 elements."""
    elements = _pack_lines(lines, MAX_CONTEXT_TEXT)
    units = []
    for start in range(0, len(elements), MAX_CONTEXT_ELEMENTS):
        group = elements[start : start + MAX_CONTEXT_ELEMENTS]
        block = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "\n".join(texts)} for texts, _ in group],
        }
        units.append(_Unit(block, [line for _, plain in group for line in plain]))
    return units


def _context_lines(raw: str, plain: list[str]) -> list[tuple[str, list[str]]]:
    """One raw line as escaped context-sized pieces; ``plain`` rides with the first piece."""
    pieces = mrkdwn_lines(raw, limit=MAX_CONTEXT_TEXT)
    return [(text, plain if i == 0 else []) for i, text in enumerate(pieces)]


def _sources_units(reply: Reply) -> list[_Unit]:
    heading = sources_heading(reply)
    lines = [(f"*{mrkdwn_escape(heading)}*", ["", f"{heading}:"])]
    for raw in source_lines(reply):
        lines.extend(_context_lines(raw, [raw]))
    return _context_units(lines)


def _units(reply: Reply) -> list[_Unit]:
    """The whole reply as blocks, in the order :func:`bot.render.plain.render_plain` writes it."""
    units = _title_units(reply.title)
    for section in reply.sections:
        units.extend(_section_units(section))
    if reply.citations:
        units.extend(_sources_units(reply))
    if reply.footer:
        units.extend(_context_units(_context_lines(reply.footer, ["", reply.footer])))
    return units


def _fallback(plain: list[str]) -> str:
    """The message's plain lines, escaped and capped at 3000 characters.

    ``text`` is parsed as mrkdwn too (and drives notifications), so it is escaped like the blocks; the cut
    is made on the raw text so that no entity is broken.
    """
    text = "\n".join(plain).strip("\n") or ELLIPSIS  # only continuation pieces of a huge item
    if len(mrkdwn_escape(text)) <= MAX_FALLBACK_TEXT:
        return mrkdwn_escape(text)
    keep = _longest_fitting_prefix(text, lambda s: len(mrkdwn_escape(s)) < MAX_FALLBACK_TEXT)
    return mrkdwn_escape(text[:keep]) + ELLIPSIS


def render_slack(reply: Reply) -> list[dict]:
    """One ``{"text", "blocks"}`` dict per Slack message, ready for ``chat.postMessage`` or ``respond``."""
    units = _units(reply)
    messages = []
    for start in range(0, len(units), MAX_BLOCKS):
        group = units[start : start + MAX_BLOCKS]
        messages.append(
            {
                "text": _fallback([line for unit in group for line in unit.plain]),
                "blocks": [unit.block for unit in group],
            }
        )
    return messages


# --- controls: Block Kit ``actions`` blocks --------------------------------------------------------

ACTION_PREFIX = "kazkor_press"  # every control's action_id starts with this; one Bolt handler takes them
MAX_BUTTON_TEXT = 75
MAX_ACTION_ELEMENTS = 25
YEARS_PLACEHOLDER = "Other years"


def _plain_text(text: str) -> dict:
    return {"type": "plain_text", "text": truncate(text, MAX_BUTTON_TEXT)}


def action_blocks(reply: Reply, encode: Callable[[Action], str | None]) -> list[dict]:
    """The reply's controls as ``actions`` blocks: buttons, and a ``static_select`` for a year row.

    ``encode`` makes each control's ``value`` (None: the control is left out). Controls for admins
    ask for confirmation first, as Slack recommends for actions that change something.
    """
    blocks = []
    for number, row in enumerate(reply.actions):
        pairs = [(action, value) for action in row.actions if (value := encode(action)) is not None]
        if not pairs:
            continue
        if row.kind == "years":
            options = [{"text": _plain_text(action.label), "value": value} for action, value in pairs]
            elements: list[dict] = [
                {
                    "type": "static_select",
                    "action_id": f"{ACTION_PREFIX}_{number}_years",
                    "placeholder": _plain_text(YEARS_PLACEHOLDER),
                    "options": options[:100],
                }
            ]
        else:
            elements = [
                _button(action, value, f"{ACTION_PREFIX}_{number}_{i}", translator(reply.lang or "en"))
                for i, (action, value) in enumerate(pairs)
            ]
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{ACTION_PREFIX}_{number}",
                "elements": elements[:MAX_ACTION_ELEMENTS],
            }
        )
    return blocks


def _button(action: Action, value: str, action_id: str, tr: Translator = ENGLISH) -> dict:
    """A button; an admin's control asks first, in the reply's language."""
    _ = tr.gettext
    button = {"type": "button", "action_id": action_id, "text": _plain_text(action.label), "value": value}
    if action.admin:
        button["confirm"] = {
            "title": _plain_text(action.label),
            "text": {"type": "plain_text", "text": _("Channel admins only. Stop this channel's reminders?")},
            "confirm": _plain_text(_("Stop them")),
            "deny": _plain_text(_("Keep them")),
        }
    return button


def render_slack_with_controls(reply: Reply, encode: Callable[[Action], str | None]) -> list[dict]:
    """:func:`render_slack`, with the controls under the last message (or in one more message when
    the last is full)."""
    messages = render_slack(reply)
    controls = action_blocks(reply, encode)
    if not controls:
        return messages
    last = messages[-1]
    if len(last["blocks"]) + len(controls) <= MAX_BLOCKS:
        messages[-1] = {**last, "blocks": [*last["blocks"], *controls]}
    else:
        messages.append({"text": ELLIPSIS, "blocks": controls})
    return messages
