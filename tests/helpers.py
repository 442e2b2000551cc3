"""Small helpers for reading replies the way a user reads them."""

from __future__ import annotations

from bot.reply import Reply


def lines(reply: Reply) -> list[str]:
    return [item.text for section in reply.sections for item in section.items]


def section(reply: Reply, heading_start: str):
    for s in reply.sections:
        if s.heading.startswith(heading_start):
            return s
    raise AssertionError(f"no section starting {heading_start!r} in {[s.heading for s in reply.sections]}")


def cited_outlets(reply: Reply, item) -> list[str]:
    """The source labels an item points at, through its [n] marks."""
    by_number = {c.number: c.label for c in reply.citations}
    return [by_number[n] for n in item.refs]
