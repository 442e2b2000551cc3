"""/who NAME: a person or organisation, who they are as of when, and every record naming them."""

from __future__ import annotations

import heapq
from typing import Any

from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.format import MAX_ITEM_CHARS, clip, fitted, record_item
from bot.reply import Item, Reply, ReplyBuilder
from facts.store import Catalogue, _sort_key
from facts.text import words

MAX_APPEARANCES = 15
ENTITY_KINDS = ("person", "organisation")
TYPE_WORDS = {
    "business_association": "business association",
    "state_holding": "state holding",
    "international_body": "international body",
}


def find_entities(catalogue: Catalogue, name: str) -> list[Any]:
    """The person or organisation called ``name`` (any variant), else those whose names hold its words."""
    exact = catalogue.entity(name)
    if exact is not None:
        return [exact]
    query = words(name)
    if not query:
        return []
    _, hits = catalogue.search(query, 50)
    return [r for r, _shown in hits if r.kind in ENTITY_KINDS]


def describe(record: Any) -> str:
    """``President of Kazakhstan, as of Sep 2024`` / ``company (Republic of Korea), as of Sep 2024``."""
    when = record.as_of.human()
    if record.kind == "person":
        return f"{record.role}, as of {when}"
    kind = TYPE_WORDS.get(record.type, record.type)
    return f"{kind}, {record.country}, as of {when}"


def who(args: tuple[str, ...], ctx: Context) -> Reply:
    name = " ".join(args).strip()
    if not name:
        raise UsageError("Say whose name, e.g. a person or an organisation.")
    catalogue = ctx.catalogue
    found = find_entities(catalogue, name)
    if not found:
        builder = ReplyBuilder(f"No person or organisation named “{clip(name, 40)}” in the sources.")
        builder.section("Try", [Item(f"/search {clip(name, 40)} finds it wherever it is mentioned.")])
        return builder.build()
    if len(found) > 1:
        builder = ReplyBuilder(f"{len(found)} people and organisations match “{clip(name, 40)}”")
        choices = [fitted(Item(f"/who {r.name} — {describe(r)}", (), r.id)) for r in found[:10]]
        builder.section("Ask for one", choices)
        return builder.build()
    (entity,) = found
    builder = ReplyBuilder(clip(f"{entity.name}: {describe(entity)}", MAX_ITEM_CHARS))
    about = [record_item(builder, catalogue, entity, clip(entity.summary, MAX_ITEM_CHARS))]
    if entity.kind == "organisation":
        about.append(Item(clip(f"In the sources: {entity.does}", MAX_ITEM_CHARS)))
    if entity.variants:
        about.append(Item(clip(f"Also written: {', '.join(entity.variants)}", MAX_ITEM_CHARS)))
    builder.section("Who", about)
    named_in = catalogue.mentions(entity)
    # the newest few only: at 100,000 records a name can be in thousands
    mentions = heapq.nlargest(MAX_APPEARANCES, (catalogue.by_id[i] for i in named_in), key=_sort_key)
    items = [
        fitted(record_item(builder, catalogue, r, f"{r.sort_date().year} {r.kind}: {r.summary}"))
        for r in mentions
    ]
    if items:
        builder.section(f"Appears in {len(named_in)} record{'s' * (len(named_in) != 1)}", items)
    if len(named_in) > MAX_APPEARANCES:
        builder.footer = f"Newest {MAX_APPEARANCES} shown. Narrow them: /search {entity.name} WORD"
    return builder.build()
