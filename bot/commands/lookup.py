"""/search WORDS and /source ID (a record id or a source id)."""

from __future__ import annotations

import difflib
import functools
from typing import Any

from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.format import (
    FULL_SENTENCE,
    MAX_ITEM_CHARS,
    clip,
    fitted,
    latest_source_date,
    quote_items,
    record_item,
    snippet,
    source_label,
)
from bot.commands.spelling import correct
from bot.reply import Item, Reply, ReplyBuilder
from facts.store import PLURALS, Catalogue
from facts.text import WORD_RE, normalise_word, words

MAX_RESULTS = 20
MAX_BACKED = 40  # records listed under /source SOURCE-ID; the count says how many there are
KIND_HEADINGS = {kind: plural.capitalize() for kind, plural in PLURALS.items()}


@functools.lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, normalised word) of each word; cached: many records quote the same sentence."""
    return tuple((m.start(), m.end(), normalise_word(m.group(0))) for m in WORD_RE.finditer(text))


def matched_text(record: Any, query: list[str]) -> str | None:
    """The words around the first query word in the record's quoted sentence holding the most query
    words (what made an unshown field match); None when only a curator's note, correction or derivation
    matched: those stay in ``/source``."""
    wanted = set(query)
    quotes = [c.quote for c in record.cite]
    notes = [t for t in (record.note, record.correction, getattr(record, "derived", None)) if t]
    best, best_score, best_span = "", 0, (0, 0)
    for text in quotes + notes:
        found = _tokens(text)
        score = len({w for _, _, w in found} & wanted)
        if score > best_score:
            start, end, _ = next(t for t in found if t[2] in wanted)
            best, best_score, best_span = text, score, (start, end)
    if best and best not in quotes:
        return None
    if not best:
        return clip(quotes[0], 90) if quotes else None
    return snippet(best, *best_span, width=70)


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
    total, hits = catalogue.search(corrected, ctx.list_limit(MAX_RESULTS))
    shown_query = " ".join(args)
    if not hits:
        builder = ReplyBuilder(f"Nothing matches “{shown_query}”.")
        builder.section("Try", [Item("fewer or other words, e.g. /search lithium, /search Yoon visit")])
        builder.dated(latest_source_date(catalogue))
        return builder.build()
    builder = ReplyBuilder(f"{total} result{'s' if total != 1 else ''} for “{shown_query}”")
    notes = [f"Searched for: {' '.join(corrected)}."] if corrected != query else []
    by_kind: dict[str, list[Item]] = {}
    mentioned: list[Item] = []
    for record, shown in hits:
        if shown:
            text = record.summary
            by_kind.setdefault(record.kind, []).append(fitted(record_item(builder, catalogue, record, text)))
        else:
            # which record (its summary, cut short) and the words of it that matched
            matched = matched_text(record, corrected)
            if matched is None:
                text = f"{clip(record.summary, 80)} — matched in the curator's notes (/source)"
            else:
                text = f"{clip(record.summary, 55)} — “{matched}”"
            mentioned.append(fitted(record_item(builder, catalogue, record, text)))
    for kind in by_kind:  # in rank order: the kind of the record the query names comes first
        builder.section(KIND_HEADINGS[kind], by_kind[kind])
    if mentioned:
        builder.section("Also in quoted sentences and notes", mentioned)
    if total > len(hits):
        notes.append(f"{total - len(hits)} more: add a word to narrow the search.")
    builder.footer = " ".join([*notes, FULL_SENTENCE])
    return builder.build()


def source(args: tuple[str, ...], ctx: Context) -> Reply:
    if len(args) != 1:
        raise UsageError("Give one record id or source id.")
    record_id = args[0].strip().lower()
    catalogue = ctx.catalogue
    if record_id in catalogue.sources:
        return _source_backs(catalogue, record_id)
    record = catalogue.by_id.get(record_id)
    if record is None:
        # compare against ids sharing the first few characters only: a full scan of 100,000 ids is slow
        candidates = (
            [i for i in catalogue.by_id if i[:4] == record_id[:4]]
            if len(catalogue) > 5000
            else catalogue.by_id
        )
        close = difflib.get_close_matches(record_id, [*candidates, *catalogue.sources], n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(
            f"No record or source {record_id!r}.{hint} Record ids appear in /search results; "
            f"source ids are {', '.join(catalogue.sources)}."
        )
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


def _source_backs(catalogue: Catalogue, source_id: str) -> Reply:
    """``/source SOURCE-ID``: what the source is and every record it backs, by kind."""
    src = catalogue.sources[source_id]
    builder = ReplyBuilder(clip(f"{source_label(src)}: {src.title}", MAX_ITEM_CHARS))
    about = [Item(f"Source id {src.id}" + (f", by {src.author}" if src.author else ""))]
    if src.file:
        about.append(Item(f"Seed file {src.file}"))
    if src.reference:
        about.append(Item(clip(f"Look it up: {src.reference}", MAX_ITEM_CHARS)))
    if src.url:
        about.append(Item(src.url))
    builder.section("Source", about)
    backed = catalogue.by_source.get(source_id, {})
    total = sum(len(ids) for ids in backed.values())
    shown = 0
    for kind, heading in KIND_HEADINGS.items():
        ids = backed.get(kind, [])
        room = MAX_BACKED - shown
        if not ids or room <= 0:
            continue
        items = [fitted(Item(catalogue.by_id[i].summary, (), i)) for i in ids[:room]]
        shown += len(items)
        builder.section(f"{heading} ({len(ids)})", items)
    if not total:
        builder.section("Backs", [Item("No record cites this source.")])
    builder.footer = f"{total} records cite {source_id}" + (
        f"; the first {shown} are listed. Narrow with /search WORDS." if shown < total else "."
    )
    return builder.build()
