"""/who NAME: a person or organisation, who they are as of when, and every record naming them."""

from __future__ import annotations

import heapq
from typing import Any

from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.format import MAX_ITEM_CHARS, clip, fitted, human_date, record_item
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.store import Catalogue, _sort_key
from facts.text import words

MAX_APPEARANCES = 15
ENTITY_KINDS = ("person", "organisation")
TYPE_WORDS = {
    "business_association": N_("business association"),
    "state_holding": N_("state holding"),
    "institute": N_("institute"),
    "university": N_("university"),
    "international_body": N_("international body"),
    "government": N_("government"),
    "company": N_("company"),
    "media": N_("media"),
    "forum": N_("forum"),
}
KIND_WORDS = {
    "figure": N_("figure"),
    "agreement": N_("agreement"),
    "event": N_("event"),
    "anniversary": N_("anniversary"),
    "person": N_("person"),
    "organisation": N_("organisation"),
    "project": N_("project"),
    "statement": N_("statement"),
}
COUNTRIES = {
    "Kazakhstan": N_("Kazakhstan"),
    "Republic of Korea": N_("Republic of Korea"),
    "international": N_("international"),
    "Kazakhstan and Republic of Korea": N_("Kazakhstan and Republic of Korea"),
    "Central Asia and Republic of Korea": N_("Central Asia and Republic of Korea"),
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


def describe(record: Any, tr: Translator = ENGLISH) -> str:
    """``President of Kazakhstan, as of Sep 2024`` / ``company, Republic of Korea, as of Sep 2024``."""
    _ = tr.gettext
    when = human_date(record.as_of, tr)
    if record.kind == "person":
        return _("{role}, as of {date}").format(role=record.text("role", tr.lang), date=when)
    kind = _(TYPE_WORDS.get(record.type, record.type))
    country = _(COUNTRIES[record.country]) if record.country in COUNTRIES else record.country
    return _("{kind}, {country}, as of {date}").format(kind=kind, country=country, date=when)


def who(args: tuple[str, ...], ctx: Context) -> Reply:
    tr = ctx.tr
    _ = tr.gettext
    lang = tr.lang
    name = " ".join(args).strip()
    if not name:
        raise UsageError(_("Say whose name, e.g. a person or an organisation."))
    catalogue = ctx.catalogue
    found = find_entities(catalogue, name)
    shown = clip(name, 40)
    if not found:
        builder = ReplyBuilder(
            _("No person or organisation named “{name}” in the sources.").format(name=shown), tr=tr
        )
        builder.section(
            _("Try"), [Item(_("/search {name} finds it wherever it is mentioned.").format(name=shown))]
        )
        return builder.build()
    if len(found) > 1:
        title = tr.ngettext(
            "{n} person or organisation matches “{name}”",
            "{n} people and organisations match “{name}”",
            len(found),
        )
        builder = ReplyBuilder(title.format(n=len(found), name=shown), tr=tr)
        choices = [fitted(Item(f"/who {r.name} — {describe(r, tr)}", (), r.id)) for r in found[:10]]
        builder.section(_("Ask for one"), choices)
        return builder.build()
    (entity,) = found
    builder = ReplyBuilder(
        clip(f"{entity.text('name', lang)}: {describe(entity, tr)}", MAX_ITEM_CHARS), tr=tr
    )
    about = [record_item(builder, catalogue, entity, clip(entity.text("summary", lang), MAX_ITEM_CHARS))]
    if entity.kind == "organisation" and lang == "en":  # "does" is told in English only
        about.append(Item(clip(f"In the sources: {entity.does}", MAX_ITEM_CHARS)))
    variants = list(entity.variants)
    if lang != "en":  # the English spelling too, then the others
        shown_name = entity.text("name", lang)
        variants = [v for v in dict.fromkeys([entity.name, *variants]) if v != shown_name]
    if variants:
        about.append(Item(clip(_("Also written: {names}").format(names=", ".join(variants)), MAX_ITEM_CHARS)))
    builder.section(_("Who"), about)
    named_in = catalogue.mentions(entity)
    # the newest few only: at 100,000 records a name can be in thousands
    mentions = heapq.nlargest(MAX_APPEARANCES, (catalogue.by_id[i] for i in named_in), key=_sort_key)
    items = [
        fitted(
            record_item(
                builder,
                catalogue,
                r,
                f"{r.sort_date().year} {_(KIND_WORDS[r.kind])}: {r.text('summary', lang)}",
            )
        )
        for r in mentions
    ]
    if items:
        heading = tr.ngettext("Appears in {n} record", "Appears in {n} records", len(named_in))
        builder.section(heading.format(n=len(named_in)), items)
    if len(named_in) > MAX_APPEARANCES:
        builder.footer = _("Newest {n} shown. Narrow them: /search {name} WORD").format(
            n=MAX_APPEARANCES, name=entity.name
        )
    return builder.build()
