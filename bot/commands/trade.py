"""/trade: turnover by year, Korea's ranks, investment, the companies present and the large deals.

Each figure appears once, newest first, with its own date and source. Figures that disagree are never
reconciled: they stand next to each other, each with its year, its source's phrasing and its source.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

from bot.commands.context import Context
from bot.commands.format import (
    BULLET,
    FULL_SENTENCE,
    MAX_ITEM_CHARS,
    cite_all,
    dated_line,
    figure_value,
    fitted,
    human_date,
    marks,
    merge_refs,
)
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Figure

TITLE = "Kazakhstan–Korea trade and investment"
DIFFER = "Figures differ by year and source: each is shown with its own."


def _same_statement(figure: Figure) -> tuple:
    return (figure.as_of, figure.metric, figure.value, figure.qualifier, figure.unit)


def _value_claim(lead: str, trail: str = "") -> Callable[[list[Figure], str], tuple[str, str]]:
    """``US$6 billion in total`` (the value in the bot's words) and the sources' own phrasing."""

    def claim(same: list[Figure], after: str) -> tuple[str, str]:
        phrases = " / ".join(dict.fromkeys(f"“{f.phrase}”" for f in same))
        return f"{lead}{figure_value(same[0])}{trail}{after}", phrases

    return claim


def _rank_claim(noun: str) -> Callable[[list[Figure], str], tuple[str, str]]:
    """``Korea 4th trade partner, after …`` or ``Korea among the top 10 investors``."""

    def claim(same: list[Figure], after: str) -> tuple[str, str]:
        first = same[0]
        phrases = " / ".join(dict.fromkeys(f"“{f.phrase}”" for f in same))
        if first.qualifier == "at_least":
            return f"Korea among the top {first.value:g} {noun}s{after}", phrases
        return f"Korea {figure_value(first)} {noun}{after}", phrases

    return claim


def _summary_claim(same: list[Figure], after: str) -> tuple[str, str]:
    """The record's own one-sentence summary (companies, deals): it names who and what. A trailing
    "(2024)" goes: the line starts with the date."""
    first = same[0]
    return first.summary.rstrip(".").removesuffix(f" ({first.as_of.human()})"), ""


CLAIMS: dict[str, Callable[[list[Figure], str], tuple[str, str]]] = {
    "trade_turnover": _value_claim(""),
    "trade_rank": _rank_claim("trade partner"),
    "investor_rank": _rank_claim("investor"),
    "investment_cumulative": _value_claim("", " in total"),
    "investment_annual": _value_claim("", " in the year"),
}


def figure_items(builder: ReplyBuilder, ctx: Context, figures: list[Figure]) -> list[Item]:
    """One item per distinct statement, newest first; identical statements from several sources share
    one line. The sources' phrasing follows the value when the line has room for it."""
    items = []
    ordered = sorted(figures, key=lambda f: (f.as_of, f.metric, f.value, f.qualifier), reverse=True)
    for _, group in groupby(ordered, key=_same_statement):
        same = sorted(group, key=lambda f: f.id)
        refs_of = {f.id: cite_all(builder, ctx.catalogue, f) for f in same}
        naming = next((f for f in same if f.ranked_above), None)
        after = ""
        if naming is not None:
            after = f", after {', '.join(naming.ranked_above)}"
            if len(same) > 1:  # only some sources name the partners above: say which
                after += f" (named by {marks(refs_of[naming.id])})"
        text, phrases = CLAIMS.get(same[0].metric, _summary_claim)(same, after)
        item = Item(
            dated_line(_when(same), text + _stated(same[0])), merge_refs(*refs_of.values()), same[0].id
        )
        with_phrases = Item(f"{item.text}: {phrases}", item.refs, item.record_id) if phrases else item
        fits = len(BULLET) + len(with_phrases.visible()) <= MAX_ITEM_CHARS
        items.append(with_phrases if fits else fitted(item))
    return items


def _when(same: list[Figure]) -> str:
    """The figure's date, marked where the sources give no year and the year shown is the curator's."""
    shown = human_date(same[0].as_of)
    return f"{shown} (year inferred)" if all(getattr(f, "inferred", False) for f in same) else shown


def _stated(figure: Figure) -> str:
    """A turnover dated to a month is a figure stated then (at a press conference), not a year's."""
    if figure.metric == "trade_turnover" and figure.as_of.precision != "year":
        return " (stated then; period not given)"
    return ""


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

    def add(heading: str, items: list[Item], note: str | None = None) -> None:
        if items:
            builder.section(heading, items, note)

    figures = catalogue.figures
    turnover = figures("trade_turnover")
    add("Trade turnover, newest first", figure_items(builder, ctx, turnover), _differ_note(turnover))
    add("Korea's rank", figure_items(builder, ctx, figures("trade_rank") + figures("investor_rank")))
    totals = figures("investment_cumulative")
    differ = len({(f.value, f.qualifier) for f in totals}) > 1
    add(
        "Korean investment in Kazakhstan",
        figure_items(builder, ctx, totals + figures("investment_annual")),
        "Totals differ by source and date: each is shown with its own." if differ else None,
    )
    companies = figures("companies_present") + figures("joint_ventures")
    add("Korean companies in Kazakhstan", figure_items(builder, ctx, companies), DIFFER)
    add("Large deals", figure_items(builder, ctx, figures("deal_value")))

    if not builder.sections:
        builder.section("No figures", [Item("The fact store holds no trade or investment figures.")])
    builder.footer = FULL_SENTENCE
    if args:  # e.g. "/trade 2023": every year is already here, each figure with its own
        builder.footer = (
            f"/trade takes no words and shows every year; ignored: “{' '.join(args)[:40]}”. " + FULL_SENTENCE
        )
    return builder.build()
