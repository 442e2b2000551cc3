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
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Figure

TITLE = N_("Kazakhstan–Korea trade and investment")
DIFFER = N_("Figures differ by year and source: each is shown with its own.")
# Countries ranked above Korea, as the data names them (English), in each language.
COUNTRIES = {
    "China": N_("China"),
    "Italy": N_("Italy"),
    "Russia": N_("Russia"),
    "Netherlands": N_("Netherlands"),
    "Switzerland": N_("Switzerland"),
}


def _same_statement(figure: Figure) -> tuple:
    return (figure.as_of, figure.metric, figure.value, figure.qualifier, figure.unit)


Claim = Callable[[list[Figure], str, Translator], tuple[str, str]]


def _phrases(same: list[Figure]) -> str:
    """The sources' own words (quoted, so never translated)."""
    return " / ".join(dict.fromkeys(f"“{f.phrase}”" for f in same))


def _value_claim(template: str) -> Claim:
    """``US$6 billion in total`` (the value in the bot's words) and the sources' own phrasing."""

    def claim(same: list[Figure], after: str, tr: Translator) -> tuple[str, str]:
        return tr.gettext(template).format(value=figure_value(same[0], tr)) + after, _phrases(same)

    return claim


def _rank_claim(top: str, nth: str) -> Claim:
    """``Korea 4th trade partner, after …`` or ``Korea among the top 10 investors``."""

    def claim(same: list[Figure], after: str, tr: Translator) -> tuple[str, str]:
        first = same[0]
        if first.qualifier == "at_least":
            return tr.gettext(top).format(n=tr.number(first.value)) + after, _phrases(same)
        return tr.gettext(nth).format(rank=figure_value(first, tr)) + after, _phrases(same)

    return claim


def _summary_claim(same: list[Figure], after: str, tr: Translator) -> tuple[str, str]:
    """The record's own one-sentence summary (companies, deals): it names who and what. A trailing
    "(2024)" goes: the line starts with the date."""
    first = same[0]
    summary = first.text("summary", tr.lang).rstrip(".")
    return summary.removesuffix(f" ({first.as_of.human()})").removesuffix(
        f" ({human_date(first.as_of, tr)})"
    ), ""


CLAIMS: dict[str, Claim] = {
    "trade_turnover": _value_claim("{value}"),
    "trade_rank": _rank_claim(N_("Korea among the top {n} trade partners"), N_("Korea {rank} trade partner")),
    "investor_rank": _rank_claim(N_("Korea among the top {n} investors"), N_("Korea {rank} investor")),
    "investment_cumulative": _value_claim(N_("{value} in total")),
    "investment_annual": _value_claim(N_("{value} in the year")),
}


def figure_items(builder: ReplyBuilder, ctx: Context, figures: list[Figure]) -> list[Item]:
    """One item per distinct statement, newest first; identical statements from several sources share
    one line. The sources' phrasing follows the value when the line has room for it."""
    tr = ctx.tr
    _ = tr.gettext
    items = []
    ordered = sorted(figures, key=lambda f: (f.as_of, f.metric, f.value, f.qualifier), reverse=True)
    for _key, group in groupby(ordered, key=_same_statement):
        same = sorted(group, key=lambda f: f.id)
        refs_of = {f.id: cite_all(builder, ctx.catalogue, f) for f in same}
        naming = next((f for f in same if f.ranked_above), None)
        after = ""
        if naming is not None:
            above = ", ".join(_(COUNTRIES[c]) if c in COUNTRIES else c for c in naming.ranked_above)
            after = _(", after {countries}").format(countries=above)
            if len(same) > 1:  # only some sources name the partners above: say which
                after += _(" (named by {marks})").format(marks=marks(refs_of[naming.id]))
        text, phrases = CLAIMS.get(same[0].metric, _summary_claim)(same, after, tr)
        item = Item(
            dated_line(_when(same, tr), text + _stated(same[0], tr), tr),
            merge_refs(*refs_of.values()),
            same[0].id,
        )
        with_phrases = Item(f"{item.text}: {phrases}", item.refs, item.record_id) if phrases else item
        fits = len(BULLET) + len(with_phrases.visible()) <= MAX_ITEM_CHARS
        items.append(with_phrases if fits else fitted(item))
    return items


def _when(same: list[Figure], tr: Translator = ENGLISH) -> str:
    """The figure's date, marked where the sources give no year and the year shown is the curator's."""
    shown = human_date(same[0].as_of, tr)
    if all(getattr(f, "inferred", False) for f in same):
        return tr.gettext("{date} (year inferred)").format(date=shown)
    return shown


def _stated(figure: Figure, tr: Translator = ENGLISH) -> str:
    """A turnover dated to a month is a figure stated then (at a press conference), not a year's."""
    if figure.metric == "trade_turnover" and figure.as_of.precision != "year":
        return tr.gettext(" (stated then; period not given)")
    return ""


def _differ_note(figures: list[Figure], tr: Translator = ENGLISH) -> str | None:
    """Say so when sources give different values for the same year."""
    by_year: dict[int, set] = {}
    for f in figures:
        by_year.setdefault(f.as_of.year, set()).add((f.value, f.qualifier))
    years = [str(y) for y, values in sorted(by_year.items()) if len(values) > 1]
    if not years:
        return None
    return tr.gettext("Sources differ for {years}: every figure is shown with its source.").format(
        years=", ".join(years)
    )


def trade(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    tr = ctx.tr
    _ = tr.gettext
    builder = ReplyBuilder(_(TITLE), tr=tr)

    def add(heading: str, items: list[Item], note: str | None = None) -> None:
        if items:
            builder.section(heading, items, note)

    figures = catalogue.figures
    turnover = figures("trade_turnover")
    add(_("Trade turnover, newest first"), figure_items(builder, ctx, turnover), _differ_note(turnover, tr))
    add(_("Korea's rank"), figure_items(builder, ctx, figures("trade_rank") + figures("investor_rank")))
    totals = figures("investment_cumulative")
    differ = len({(f.value, f.qualifier) for f in totals}) > 1
    add(
        _("Korean investment in Kazakhstan"),
        figure_items(builder, ctx, totals + figures("investment_annual")),
        _("Totals differ by source and date: each is shown with its own.") if differ else None,
    )
    companies = figures("companies_present") + figures("joint_ventures")
    add(_("Korean companies in Kazakhstan"), figure_items(builder, ctx, companies), _(DIFFER))
    add(_("Large deals"), figure_items(builder, ctx, figures("deal_value")))

    if not builder.sections:
        builder.section(_("No figures"), [Item(_("The fact store holds no trade or investment figures."))])
    builder.footer = _(FULL_SENTENCE)
    if args:  # e.g. "/trade 2023": every year is already here, each figure with its own
        ignored = _("/trade takes no words and shows every year; ignored: “{words}”.").format(
            words=" ".join(args)[:40]
        )
        builder.footer = f"{ignored} {_(FULL_SENTENCE)}"
    return builder.build()
