"""Reply -> plain text: the console, the CLI and the fallback text of Slack messages."""

from __future__ import annotations

from bot.i18n import translator
from bot.reply import BULLET, Item, Reply


def item_line(item: Item) -> str:
    return BULLET + item.visible()


def sources_heading(reply: Reply) -> str:
    """ "Sources" in the reply's language."""
    return translator(reply.lang or "en").gettext("Sources")


def source_lines(reply: Reply) -> list[str]:
    return [f"[{c.number}] {c.label}" for c in reply.citations]


def render_plain(reply: Reply) -> str:
    lines = [reply.title]
    for section in reply.sections:
        lines.append("")
        lines.append(section.heading)
        if section.note:
            lines.append(f"  {section.note}")
        lines.extend(item_line(item) for item in section.items)
    if reply.citations:
        lines.append("")
        lines.append(f"{sources_heading(reply)}:")
        lines.extend(source_lines(reply))
    if reply.footer:
        lines.append("")
        lines.append(reply.footer)
    return "\n".join(lines)
