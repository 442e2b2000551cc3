"""Facts offered while someone types ``@bot words`` in any chat (Telegram inline mode).

Each offer is one record: a title, a one-line claim, and the message it sends (the claim, the cited
sentence and its source), so what lands in a chat carries its evidence. An empty query offers the
headline facts: the latest trade turnover and the next anniversary. Platform-neutral; the Telegram
front end turns offers into ``InlineQueryResultArticle`` results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.commands.context import Context
from bot.commands.due import occurrences_between
from bot.commands.format import quote_items
from bot.reply import Reply, ReplyBuilder
from facts.text import amounts, words

MAX_OFFERS = 10
MAX_TITLE = 64
MAX_DESCRIPTION = 160


@dataclass(frozen=True)
class Offer:
    id: str  # the record id: unique per answer, at most 64 bytes as Telegram wants
    title: str
    description: str
    message: Reply


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def offer(record: Any, ctx: Context, title: str | None = None, claim: str | None = None) -> Offer:
    """One record as an offer, in ``ctx``'s language; ``claim`` (default: the record's summary) heads
    the message sent. The cited sentence stays as the source wrote it."""
    claim = claim or record.text("summary", ctx.tr.lang)
    builder = ReplyBuilder(claim, tr=ctx.tr)
    builder.section(ctx.tr.gettext("Source"), quote_items(builder, ctx.catalogue, record))
    return Offer(
        record.id[:64], _cut(title or claim, MAX_TITLE), _cut(claim, MAX_DESCRIPTION), builder.build()
    )


def headline_offers(ctx: Context) -> list[Offer]:
    """The latest trade turnover and the next anniversary, with titles saying what they are."""
    catalogue = ctx.catalogue
    tr = ctx.tr
    found: list[Offer] = []
    turnover = catalogue.figures("trade_turnover")
    if turnover:
        latest = max(turnover, key=lambda f: (f.as_of.year, f.as_of.month or 0))
        found.append(offer(latest, ctx, tr.gettext("Trade turnover, {year}").format(year=latest.as_of.year)))
    today = ctx.today()
    for occurrence in occurrences_between(catalogue, today, today + timedelta(days=366)):
        if occurrence.ordinal is not None:  # an anniversary
            when = occurrence.when(tr)
            claim = f"{when}: {occurrence.describe(tr=tr)}"
            title = tr.gettext("Next anniversary: {date}").format(date=when)
            found.append(offer(occurrence.record, ctx, title, claim))
            break
    return found


def inline_offers(query: str, ctx: Context) -> list[Offer]:
    """Up to :data:`MAX_OFFERS` sourced facts matching ``query`` (newest first); headlines when empty."""
    wanted = words(query)
    if not wanted:
        return headline_offers(ctx) if not query.strip() else []
    _, records = ctx.catalogue.matching(wanted, MAX_OFFERS, amounts(query))  # "4 billion" as /search reads it
    return [offer(record, ctx) for record in records]
