"""/agreements [YEAR]: what was signed in a year, grouped by occasion."""

from __future__ import annotations

from bot.commands.args import optional_year
from bot.commands.context import Context
from bot.commands.format import record_item
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
        return builder.build()

    builder = ReplyBuilder(f"Agreements signed in {year} ({len(signed)})")
    groups: dict[str | None, list[Agreement]] = {}
    for agreement in signed:
        groups.setdefault(agreement.occasion, []).append(agreement)
    for occasion, members in groups.items():
        event = catalogue.by_id.get(occasion) if occasion else None
        heading = f"{event.title} — {event.date.human()}" if event else "Other agreements"
        items = [
            record_item(
                builder,
                catalogue,
                a,
                f"{TYPE_WORDS[a.type]}: {a.title} — {a.sector}, {a.date.human()}",
            )
            for a in members
        ]
        builder.section(heading, items)
    others = [y for y in years if y != year]
    if others:
        builder.footer = f"Other years: {', '.join(map(str, others))}"
    return builder.build()
