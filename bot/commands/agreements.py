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
from bot.i18n import ENGLISH, N_, Translator
from bot.reply import Item, Reply, ReplyBuilder
from facts.model import Agreement

TYPE_WORDS = {
    "agreement": N_("Agreement"),
    "memorandum": N_("Memorandum"),
    "joint_statement": N_("Joint statement"),
    "programme": N_("Programme"),
    "deal": N_("Deal"),
    "declaration": N_("Declaration"),
}
# Words a title may start with that already say its type ("MoU on forestry cooperation").
_TYPE_IN_TITLE = {"memorandum": ("mou", "memorandum")}


def agreement_line(agreement: Agreement, occasion_date: object | None, tr: Translator = ENGLISH) -> str:
    """``MoU on forestry cooperation`` with the type word only where the title does not say it, the
    sector only where the title does not name it (a word's first six letters count: "petrochemical"
    names "petrochemicals") and the date only where it differs from the occasion's. What to show is
    decided on the English; it is shown in ``tr``'s language."""
    title = short_title(agreement.title)
    lowered = title.lower()
    starts = _TYPE_IN_TITLE.get(agreement.type, (TYPE_WORDS[agreement.type].lower(),))
    named = any(w in lowered for w in starts)
    sector = agreement.sector.strip()
    sector_words = [w for w in sector.lower().replace(",", " ").split() if len(w) > 3 and w != "and"]
    if tr.lang != "en":
        title, sector = agreement.text("title", tr.lang), agreement.text("sector", tr.lang)
    text = title if named else f"{tr.gettext(TYPE_WORDS[agreement.type])}: {title}"
    if sector and not all(w[:6] in lowered for w in sector_words):
        text += f" — {sector}"
    if occasion_date is None or agreement.date != occasion_date:
        return dated_line(agreement.date, text, tr)
    return text


def agreements(args: tuple[str, ...], ctx: Context) -> Reply:
    catalogue = ctx.catalogue
    tr = ctx.tr
    _ = tr.gettext
    year = optional_year(args, tr)
    years = catalogue.years("agreement")
    if not years:
        return ReplyBuilder(_("No agreements are recorded."), tr=tr).build()
    if year is None:
        year = years[-1]
    signed: list[Agreement] = catalogue.in_year("agreement", year)
    if not signed:
        builder = ReplyBuilder(_("No agreements recorded for {year}.").format(year=year), tr=tr)
        builder.section(_("Years with agreements"), [Item(", ".join(map(str, years)))])
        builder.footer = _("Example: /agreements {year}").format(year=years[-1])
        builder.dated(latest_source_date(catalogue))
        return builder.build()

    builder = ReplyBuilder(_("Agreements signed in {year} ({n})").format(year=year, n=len(signed)), tr=tr)
    groups: dict[str | None, list[Agreement]] = {}
    for agreement in signed:
        groups.setdefault(agreement.occasion, []).append(agreement)
    for occasion, members in groups.items():
        event = catalogue.by_id.get(occasion) if occasion else None
        if event:
            title = short_title(event.title) if tr.lang == "en" else event.text("title", tr.lang)
            when = human_date(event.date, tr)
            heading = f"{when[:1].upper()}{when[1:]} — {title}"
        else:
            heading = _("Other occasions")
        items = [
            record_item(builder, catalogue, a, agreement_line(a, event.date if event else None, tr))
            for a in members
        ]
        builder.section(heading, items)
    others = [y for y in years if y != year]
    other_years = _("Other years: {years}.").format(years=", ".join(map(str, others))) + " "
    builder.footer = other_years * bool(others) + _(FULL_SENTENCE)
    return builder.build()
