"""/trade: turnover with its year and Korea's rank, investment, and every figure by year.

Figures that disagree are never reconciled: each is shown with its own year, phrasing and source.
"""

from __future__ import annotations

from itertools import groupby

from bot.commands.context import Context
from bot.commands.format import cite_all, figure_value, merge_refs
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Figure

TITLE = "Kazakhstan–Korea trade and investment"


def _same_statement(figure: Figure) -> tuple:
    return (figure.as_of, figure.value, figure.qualifier, figure.unit)


def figure_items(builder: ReplyBuilder, ctx: Context, figures: list[Figure], lead: str = "") -> list[Item]:
    """One item per distinct statement; identical statements from several sources share one line."""
    items = []
    ordered = sorted(figures, key=lambda f: (f.as_of, f.value, f.qualifier, f.id))
    for _, group in groupby(ordered, key=_same_statement):
        same = list(group)
        first = same[0]
        phrases = " / ".join(dict.fromkeys(f"“{f.phrase}”" for f in same))
        refs_of = {f.id: cite_all(builder, ctx.catalogue, f) for f in same}
        naming = next((f for f in same if f.ranked_above), None)
        after = ""
        if naming is not None:
            after = f" (after {', '.join(naming.ranked_above)})"
            if len(same) > 1:  # only some sources name the partners above: say which
                after = after[:-1] + " per " + "".join(f"[{n}]" for n in refs_of[naming.id]) + ")"
        text = f"{lead}{figure_value(first)}{after}, {first.as_of.human()} — {phrases}"
        refs = merge_refs(*refs_of.values())
        items.append(Item(text, refs, first.id))
    return items


def _differ_note(figures: list[Figure]) -> str | None:
    """Say so when sources give different values for the same year."""
    by_year: dict[int, set] = {}
    for f in figures:
        by_year.setdefault(f.as_of.year, set()).add((f.value, f.qualifier))
    years = [str(y) for y, values in sorted(by_year.items()) if len(values) > 1]
    return f"Sources differ for {', '.join(years)}: every figure is shown with its source." if years else None


def trade(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    builder = ReplyBuilder(TITLE)
    turnover = catalogue.figures("trade_turnover")
    if turnover:
        latest_year = max(f.as_of.year for f in turnover)
        latest = [f for f in turnover if f.as_of.year == latest_year]
        items = figure_items(builder, ctx, latest, "Trade turnover: ")
        items += figure_items(
            builder, ctx, catalogue.figures("trade_rank"), "Korea's rank among trade partners: "
        )
        builder.section(f"Latest trade turnover ({latest_year})", items, _differ_note(latest))

    investment = (
        figure_items(builder, ctx, catalogue.figures("investment_annual"), "Invested in the year: ")
        + figure_items(builder, ctx, catalogue.figures("investment_cumulative"), "Invested in total: ")
        + figure_items(builder, ctx, catalogue.figures("investor_rank"), "Korea's rank among investors: ")
    )
    if investment:
        cumulative = catalogue.figures("investment_cumulative")
        note = None
        if len({(f.value, f.qualifier) for f in cumulative}) > 1:
            note = "Totals differ by source and date: each is shown with its own."
        builder.section("Korean investment in Kazakhstan", investment, note)

    if turnover:
        builder.section(
            "Trade turnover by year", figure_items(builder, ctx, turnover), _differ_note(turnover)
        )
    if not builder.sections:
        builder.section("No figures", [Item("The fact store holds no trade or investment figures.")])
    builder.footer = "The sentence behind any line: /source ID (ids appear in /search results)."
    if args:  # e.g. "/trade 2023": every year is already here, each figure with its own
        builder.footer = (
            f"/trade takes no words and shows every year; ignored: “{' '.join(args)[:40]}”. " + builder.footer
        )
    return builder.build()
