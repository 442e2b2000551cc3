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
from bot.commands.who import KIND_WORDS
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.store import Catalogue
from facts.text import WORD_RE, amount_spans, amounts, normalise_word, words

MAX_RESULTS = 20
MAX_BACKED = 40  # records listed under /source SOURCE-ID; the count says how many there are
KIND_HEADINGS = {
    "figure": N_("Figures"),
    "agreement": N_("Agreements"),
    "event": N_("Events"),
    "anniversary": N_("Anniversaries"),
    "person": N_("People"),
    "organisation": N_("Organisations"),
    "project": N_("Projects"),
    "statement": N_("Statements"),
}


@functools.lru_cache(maxsize=8192)
def _tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, normalised word) of each word; cached: many records quote the same sentence."""
    return tuple((m.start(), m.end(), normalise_word(m.group(0))) for m in WORD_RE.finditer(text))


def matched_text(
    record: Any, query: list[str], query_amounts: set[str] | frozenset[str] = frozenset()
) -> str | None:
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
        # a number asked for is shown where the text states it ("$1.2 billion"), not at a list's "1."
        stated = [t for t in amount_spans(text) if t[2] in query_amounts]
        if query_amounts and not stated:
            continue
        if score > best_score:
            start, end, _ = stated[0] if stated else next(t for t in found if t[2] in wanted)
            best, best_score, best_span = text, score, (start, end)
    if best and best not in quotes:
        return None
    if not best:
        return clip(quotes[0], 90) if quotes else None
    return snippet(best, *best_span, width=70)


def search(args: tuple[str, ...], ctx: Context) -> Reply:
    tr = ctx.tr
    _ = tr.gettext
    lang = tr.lang
    query = words(" ".join(args))
    if not query:
        if args:  # only words too common, or no letters at all
            raise UsageError(
                _("Nothing to search for in “{words}”: try a name or a topic.").format(
                    words=" ".join(args)[:40]
                )
            )
        raise UsageError(_("Say what to search for."))
    catalogue = ctx.catalogue
    corrected = correct(query, catalogue, catalogue.by_word)
    asked_amounts = amounts(" ".join(args))
    total, hits = catalogue.search(corrected, ctx.list_limit(MAX_RESULTS), asked_amounts)
    shown_query = " ".join(args)
    if not hits:
        builder = ReplyBuilder(_("Nothing matches “{query}”.").format(query=shown_query), tr=tr)
        builder.section(_("Try"), [Item(_("fewer or other words, e.g. /search lithium, /search Yoon visit"))])
        builder.dated(latest_source_date(catalogue))
        return builder.build()
    title = tr.ngettext("{n} result for “{query}”", "{n} results for “{query}”", total)
    builder = ReplyBuilder(title.format(n=total, query=shown_query), tr=tr)
    notes = [_("Searched for: {words}.").format(words=" ".join(corrected))] if corrected != query else []
    by_kind: dict[str, list[Item]] = {}
    mentioned: list[Item] = []
    for record, shown in hits:
        summary = record.text("summary", lang)
        if shown:
            by_kind.setdefault(record.kind, []).append(
                fitted(record_item(builder, catalogue, record, summary))
            )
        else:
            # which record (its summary, cut short) and the words of it that matched
            matched = matched_text(record, corrected, asked_amounts)
            if matched is None:
                text = _("{summary} — matched in the curator's notes (/source)").format(
                    summary=clip(summary, 80)
                )
            else:
                text = f"{clip(summary, 55)} — “{matched}”"
            mentioned.append(fitted(record_item(builder, catalogue, record, text)))
    for kind in by_kind:  # in rank order: the kind of the record the query names comes first
        builder.section(_(KIND_HEADINGS[kind]), by_kind[kind])
    if mentioned:
        note = _("Quoted as the source wrote it, untranslated.") if lang != "en" else None
        builder.section(_("Also in quoted sentences and notes"), mentioned, note)
    if total > len(hits):
        notes.append(_("{n} more: add a word to narrow the search.").format(n=total - len(hits)))
    builder.footer = " ".join([*notes, _(FULL_SENTENCE)])
    return builder.build()


def source(args: tuple[str, ...], ctx: Context) -> Reply:
    tr = ctx.tr
    _ = tr.gettext
    if len(args) != 1:
        raise UsageError(_("Give one record id or source id."))
    record_id = args[0].strip().lower()
    catalogue = ctx.catalogue
    if record_id in catalogue.sources:
        return _source_backs(catalogue, record_id, tr)
    record = catalogue.by_id.get(record_id)
    if record is None:
        # compare against ids sharing the first few characters only: a full scan of 100,000 ids is slow
        candidates = (
            [i for i in catalogue.by_id if i[:4] == record_id[:4]]
            if len(catalogue) > 5000
            else catalogue.by_id
        )
        close = difflib.get_close_matches(record_id, [*candidates, *catalogue.sources], n=1, cutoff=0.6)
        hint = _(" Did you mean {id}?").format(id=close[0]) if close else ""
        raise UsageError(
            _(
                "No record or source {id!r}.{hint} Record ids appear in /search results; "
                "source ids are {ids}."
            ).format(id=record_id, hint=hint, ids=", ".join(catalogue.sources))
        )
    builder = ReplyBuilder(record.text("summary", tr.lang), tr=tr)
    untranslated = _("Quoted as the source wrote it, untranslated.") if tr.lang != "en" else None
    builder.section(_("What the source says"), quote_items(builder, catalogue, record), untranslated)
    notes = []
    if record.correction:
        notes.append(Item(_("Correction: {text}").format(text=record.correction)))
    if record.note:
        notes.append(Item(_("Note: {text}").format(text=record.note)))
    if notes:
        in_english = _("The curator's notes are in English.") if tr.lang != "en" else None
        builder.section(_("Curator's notes"), notes, in_english)
    files = ", ".join(f for f in (catalogue.sources[s].file for s in record.sources) if f)
    footer = _("Record {id} ({kind})").format(id=record.id, kind=_(KIND_WORDS.get(record.kind, record.kind)))
    builder.footer = footer + (_("; source file {files}").format(files=files) if files else "")
    return builder.build()


def _source_backs(catalogue: Catalogue, source_id: str, tr: Translator = ENGLISH) -> Reply:
    """``/source SOURCE-ID``: what the source is and every record it backs, by kind."""
    _ = tr.gettext
    src = catalogue.sources[source_id]
    builder = ReplyBuilder(clip(f"{source_label(src, tr)}: {src.title}", MAX_ITEM_CHARS), tr=tr)
    by = _(", by {author}").format(author=src.author) if src.author else ""
    about = [Item(_("Source id {id}").format(id=src.id) + by)]
    if src.file:
        about.append(Item(_("Seed file {file}").format(file=src.file)))
    if src.reference:
        about.append(Item(clip(_("Look it up: {where}").format(where=src.reference), MAX_ITEM_CHARS)))
    if src.url:
        about.append(Item(src.url))
    builder.section(_("Source"), about)
    backed = catalogue.by_source.get(source_id, {})
    total = sum(len(ids) for ids in backed.values())
    shown = 0
    for kind, heading in KIND_HEADINGS.items():
        ids = backed.get(kind, [])
        room = MAX_BACKED - shown
        if not ids or room <= 0:
            continue
        items = [fitted(Item(catalogue.by_id[i].text("summary", tr.lang), (), i)) for i in ids[:room]]
        shown += len(items)
        builder.section(f"{_(heading)} ({len(ids)})", items)
    if not total:
        builder.section(_("Backs"), [Item(_("No record cites this source."))])
    cited = tr.ngettext("{n} record cites {id}", "{n} records cite {id}", total).format(n=total, id=source_id)
    more = (
        _("; the first {n} are listed. Narrow with /search WORDS.").format(n=shown) if shown < total else "."
    )
    builder.footer = cited + more
    return builder.build()
