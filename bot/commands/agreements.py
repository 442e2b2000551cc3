"""/agreements [YEAR]: the agreements, memoranda and joint statements signed in a year, by occasion."""

from __future__ import annotations

from bot.commands.args import optional_year
from bot.commands.context import Context
from bot.commands.format import (
    FULL_SENTENCE,
    dated_line,
    human_date,
    latest_source_date,
    record_item,
    short_title,
)
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Agreement

TYPE_WORDS = {
    "agreement": "Agreement",
    "memorandum": "Memorandum",
    "joint_statement": "Joint statement",
    "programme": "Programme",
    "deal": "Deal",
    "declaration": "Declaration",
}
# Words a title may start with that already say its type ("MoU on forestry cooperation").
_TYPE_IN_TITLE = {"memorandum": ("mou", "memorandum")}


def agreement_line(agreement: Agreement, occasion_date: object | None) -> str:
    """``MoU on forestry cooperation`` with the type word only where the title does not say it, the
    sector only where the title does not name it (a word's first six letters count: "petrochemical"
    names "petrochemicals") and the date only where it differs from the occasion's."""
    title = short_title(agreement.title)
    lowered = title.lower()
    starts = _TYPE_IN_TITLE.get(agreement.type, (TYPE_WORDS[agreement.type].lower(),))
    named = any(w in lowered for w in starts)
    text = title if named else f"{TYPE_WORDS[agreement.type]}: {title}"
    sector = agreement.sector.strip()
    sector_words = [w for w in sector.lower().replace(",", " ").split() if len(w) > 3 and w != "and"]
    if sector and not all(w[:6] in lowered for w in sector_words):
        text += f" — {sector}"
    if occasion_date is None or agreement.date != occasion_date:
        return dated_line(agreement.date, text)
    return text


def agreements(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    year = optional_year(args)
    years = catalogue.years("agreement")
    if not years:
        return ReplyBuilder("No agreements are recorded.").build()
    if year is None:
        year = years[-1]
    signed: list[Agreement] = catalogue.in_year("agreement", year)
    if not signed:
        builder = ReplyBuilder(f"No agreements recorded for {year}.")
        builder.section("Years with agreements", [Item(", ".join(map(str, years)))])
        builder.footer = f"Example: /agreements {years[-1]}"
        builder.dated(latest_source_date(catalogue))
        return builder.build()

    builder = ReplyBuilder(f"Agreements signed in {year} ({len(signed)})")
    groups: dict[str | None, list[Agreement]] = {}
    for agreement in signed:
        groups.setdefault(agreement.occasion, []).append(agreement)
    for occasion, members in groups.items():
        event = catalogue.by_id.get(occasion) if occasion else None
        heading = f"{human_date(event.date)} — {short_title(event.title)}" if event else "Other occasions"
        items = [
            record_item(builder, catalogue, a, agreement_line(a, event.date if event else None))
            for a in members
        ]
        builder.section(heading, items)
    others = [y for y in years if y != year]
    builder.footer = f"Other years: {', '.join(map(str, others))}. " * bool(others) + FULL_SENTENCE
    return builder.build()
