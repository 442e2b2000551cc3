"""/search WORDS and /source ID."""

from __future__ import annotations

import difflib

from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.format import quote_items, record_item
from bot.commands.spelling import correct
from bot.reply import Item, Reply, ReplyBuilder
from facts.text import words

MAX_RESULTS = 20
KIND_HEADINGS = {
    "figure": "Figures",
    "agreement": "Agreements",
    "event": "Events",
    "anniversary": "Anniversaries",
}


def search(args: tuple[str, ...], ctx: Context) -> Reply:
    query = words(" ".join(args))
    if not query:
        if args:  # only words too common or in a script the records are not written in
            raise UsageError(
                f"Nothing to search for in “{' '.join(args)[:40]}”: the records are in English; "
                "try a name or a topic."
            )
        raise UsageError("Say what to search for.")
    catalogue = ctx.catalogue
    corrected = correct(query, catalogue, catalogue.by_word)
    total, hits = catalogue.matching(corrected, ctx.list_limit(MAX_RESULTS))
    shown_query = " ".join(args)
    if not hits:
        builder = ReplyBuilder(f"Nothing matches “{shown_query}”.")
        builder.section("Try", [Item("fewer or other words, e.g. /search lithium, /search Yoon visit")])
        return builder.build()
    builder = ReplyBuilder(f"{total} result{'s' if total != 1 else ''} for “{shown_query}”")
    if corrected != query:
        builder.footer = f"Searched for: {' '.join(corrected)}"
    by_kind: dict[str, list[Item]] = {}
    for record in hits:
        when = record.sort_date().year
        text = f"{record.summary} ({when}) · id {record.id}"
        by_kind.setdefault(record.kind, []).append(record_item(builder, catalogue, record, text))
    for kind, items in by_kind.items():
        builder.section(KIND_HEADINGS[kind], items)
    if total > len(hits):
        more = f"{total - len(hits)} more: add a word to narrow the search."
        builder.footer = f"{builder.footer}. {more}" if builder.footer else more
    return builder.build()


def source(args: tuple[str, ...], ctx: Context) -> Reply:
    if len(args) != 1:
        raise UsageError("Give one record id.")
    record_id = args[0].strip().lower()
    catalogue = ctx.catalogue
    record = catalogue.by_id.get(record_id)
    if record is None:
        # compare against ids sharing the first few characters only: a full scan of 100,000 ids is slow
        candidates = (
            [i for i in catalogue.by_id if i[:4] == record_id[:4]]
            if len(catalogue) > 5000
            else catalogue.by_id
        )
        close = difflib.get_close_matches(record_id, candidates, n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(f"No record {record_id!r}.{hint} Record ids appear in /search results.")
    builder = ReplyBuilder(f"{record.summary}")
    builder.section("What the source says", quote_items(builder, catalogue, record))
    notes = []
    if record.correction:
        notes.append(Item(f"Correction: {record.correction}"))
    if record.note:
        notes.append(Item(f"Note: {record.note}"))
    if notes:
        builder.section("Curator's notes", notes)
    files = ", ".join(f for f in (catalogue.sources[s].file for s in record.sources) if f)
    builder.footer = f"Record {record.id} ({record.kind})" + (f"; source file {files}" if files else "")
    return builder.build()
