"""/projects [WORD]: joint projects with their partners, value, capacity, place and status."""

from __future__ import annotations

import itertools
from typing import Any

from bot.commands.context import Context
from bot.commands.format import MAX_ITEM_CHARS, clip, fitted, money, record_item
from bot.reply import Item, Reply, ReplyBuilder
from facts.text import words

MAX_PROJECTS = 20  # newest first; a chat message is no place for thousands of lines

STATUS_WORDS = {
    "under_way": "under way",
    "in_operation": "in operation",
    "planned": "planned",
    "proposed": "proposed",
    "launched": "launched",
    "completed": "completed",
    "reported": "stage not stated",
}


def project_line(project: Any) -> str:
    """``BAKAD: SK Ecoplant; Almaty; under way as of Sep 2024`` with value and capacity where known."""
    parts = []
    if project.partners:
        parts.append(", ".join(project.partners))
    if project.value is not None:
        parts.append(money(project.value))
    if project.capacity:
        parts.append(project.capacity)
    if project.place and project.place.split()[0] not in project.name:  # "Alatau City" needs no place
        parts.append(project.place)
    parts.append(f"{STATUS_WORDS[project.status]}, {project.as_of.human()}")
    return clip(f"{project.name}: {'; '.join(parts)}", MAX_ITEM_CHARS)


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
    shown_query = clip(" ".join(args), 40)
    if not found:
        builder = ReplyBuilder(f"No joint project matches “{shown_query}”.")
        names = ", ".join(p.name for p in catalogue.of_kind("project")[:8])
        builder.section("Projects in the sources", [Item(clip(names, MAX_ITEM_CHARS))])
        return builder.build()
    title = "Joint projects" + (f" matching “{shown_query}”" if query else "")
    builder = ReplyBuilder(title)
    builder.section(
        "Partners; value; capacity; place; status as of",
        [fitted(record_item(builder, catalogue, p, project_line(p))) for p in found],
    )
    more = (
        f" {total - len(found)} more, older: add a word, e.g. /projects energy." if total > len(found) else ""
    )
    builder.footer = "Status is as of the source's date; the sources do not report later progress." + more
    return builder.build()
