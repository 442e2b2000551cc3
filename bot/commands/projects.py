"""/projects [WORD]: joint projects with their partners, value, capacity, place and status."""

from __future__ import annotations

import itertools
from typing import Any

from bot.commands.context import Context
from bot.commands.format import MAX_ITEM_CHARS, clip, fitted, human_date, money, record_item
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.text import words

MAX_PROJECTS = 20  # newest first; a chat message is no place for thousands of lines

STATUS_WORDS = {
    "under_way": N_("under way"),
    "in_operation": N_("in operation"),
    "planned": N_("planned"),
    "proposed": N_("proposed"),
    "launched": N_("launched"),
    "completed": N_("completed"),
    "reported": N_("stage not stated"),
}
# Partners named in the data, in each language (company names stay as the companies write them).
PARTNERS = {
    "Kazakhstan": N_("Kazakhstan"),
    "Republic of Korea": N_("Republic of Korea"),
    "Korean companies": N_("Korean companies"),
    "Embassy of Kazakhstan": N_("Embassy of Kazakhstan"),
    "Korkyt Ata University": N_("Korkyt Ata University"),
}


def project_line(project: Any, tr: Translator = ENGLISH) -> str:
    """``BAKAD: SK Ecoplant; Almaty; under way as of Sep 2024`` with value and capacity where known."""
    _ = tr.gettext
    parts = []
    if project.partners:
        parts.append(", ".join(_(PARTNERS[p]) if p in PARTNERS else p for p in project.partners))
    if project.value is not None:
        parts.append(money(project.value, tr))
    if project.capacity:
        parts.append(project.capacity)
    if project.place and project.place.split()[0] not in project.name:  # "Alatau City" needs no place
        parts.append(project.text("place", tr.lang))
    parts.append(f"{_(STATUS_WORDS[project.status])}, {human_date(project.as_of, tr)}")
    return clip(f"{project.text('name', tr.lang)}: {'; '.join(parts)}", MAX_ITEM_CHARS)


def projects(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    query = words(" ".join(args))
    limit = ctx.list_limit(MAX_PROJECTS)
    every = catalogue.of_kind("project")  # kept in date order by the catalogue
    if query:
        hits = catalogue.ids_with_all(query)
        # newest first, stopping at the limit: cheap even when 100,000 records hold the word
        matching = (p for p in reversed(every) if p.id in hits)
        found = list(itertools.islice(matching, limit))
        total = len(found) if len(found) < limit else len(hits & catalogue.kind_ids["project"])
    else:
        total = len(every)
        found = every[::-1][:limit]
    tr = ctx.tr
    _ = tr.gettext
    shown_query = clip(" ".join(args), 40)
    if not found:
        builder = ReplyBuilder(_("No joint project matches “{query}”.").format(query=shown_query), tr=tr)
        names = ", ".join(p.text("name", tr.lang) for p in catalogue.of_kind("project")[:8])
        builder.section(_("Projects in the sources"), [Item(clip(names, MAX_ITEM_CHARS))])
        return builder.build()
    title = _("Joint projects matching “{query}”").format(query=shown_query) if query else _("Joint projects")
    builder = ReplyBuilder(title, tr=tr)
    builder.section(
        _("Partners; value; capacity; place; status as of"),
        [fitted(record_item(builder, catalogue, p, project_line(p, tr))) for p in found],
    )
    footer = _("Status is as of the source's date; the sources do not report later progress.")
    if total > len(found):
        footer += " " + _("{n} more, older: add a word, e.g. /projects energy.").format(n=total - len(found))
    builder.footer = footer
    return builder.build()
