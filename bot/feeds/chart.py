"""/trade chart: trade turnover by year and Korean investment totals as a PNG (matplotlib, Agg).

:func:`chart_data` (pure) decides what is drawn: one bar per distinct statement (value and qualifier)
of a metric in a year, with every source that states it; figures that disagree for the same year stand
side by side, never averaged. :func:`render_png` draws it on a ``matplotlib.figure.Figure`` with the
Agg canvas: no ``pyplot`` (no global figure registry, nothing to leak between threads), matplotlib
imported on the first draw only. :class:`ChartCache` keeps the PNG per data version and language;
callers on the event loop run :meth:`ChartCache.png` in a worker thread.

The picture's text is in the answer's language. DejaVu Sans (matplotlib's own font) has Latin and
Cyrillic (Russian, Kazakh) but no Hangul: a Korean picture needs a CJK font matplotlib can find (the
Docker image installs fonts-noto-cjk); without one the picture is drawn in English rather than with
empty boxes (the answer's text, caption and alt text stay Korean).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from bot.commands.format import source_label
from bot.feeds.version import data_version
from bot.i18n import ENGLISH, N_, Translator, translator
from facts.model import PartialDate

PANELS = (
    (N_("Trade turnover by year"), ("trade_turnover",)),
    (N_("Korean investment in Kazakhstan"), ("investment_cumulative", "investment_annual")),
)
METRIC_NAMES = {
    "trade_turnover": N_("trade turnover"),
    "investment_cumulative": N_("invested in total (to that year)"),
    "investment_annual": N_("invested in that year"),
}
COLOURS = {"trade_turnover": "#1f77b4", "investment_cumulative": "#2ca02c", "investment_annual": "#ff7f0e"}
_BOUND_MARK = {"exact": "", "more_than": ">", "at_least": "≥", "about": "~"}
# Amounts over a year: one dated to a month was said that month for a period the source does not give
# (Aug 2021's US$4 billion), so the bar says so rather than pass it off as the year's total.
YEARLY_METRICS = ("trade_turnover", "investment_annual")
PERIOD_NOT_GIVEN = N_("period not given")
YEAR_INFERRED = N_("year inferred")
TITLE = N_("Kazakhstan–Korea trade and Korean investment (US$ billion)")
# Fonts with Hangul that matplotlib may find (Debian's fonts-noto-cjk, fonts-nanum; macOS; Windows).
HANGUL_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans CJK JP",
    "Noto Sans KR",
    "NanumGothic",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
)
WIDTH_PX, HEIGHT_PX, DPI = 1200, 720, 100


@dataclass(frozen=True)
class Bar:
    metric: str
    year: int
    value: float  # US dollars, as the figure records it
    qualifier: str  # exact, more_than, at_least, about
    refs: tuple[int, ...]  # numbers into ChartData.sources
    record_ids: tuple[str, ...]
    when: str = ""  # the date as the sources give it ("Aug 2021"); empty: the year
    caveat: str = ""  # PERIOD_NOT_GIVEN, YEAR_INFERRED or empty (English; translated where shown)
    lang: str = "en"  # the language of ``when`` and of what the bar says

    @property
    def billions(self) -> float:
        return self.value / 1e9

    def words(self, value: str, sep: str = ": ") -> str:
        """The bar in a sentence: ``Aug 2021 trade turnover: US$4 billion (period not given)``."""
        _ = translator(self.lang).gettext
        text = f"{self.when or self.year} {_(METRIC_NAMES[self.metric])}{sep}{value}"
        return f"{text} ({_(self.caveat)})" if self.caveat else text

    def amount(self) -> str:
        """``>$8bn`` in English; the other languages in their press form (``>US$8 млрд``, ``>80억 달러``)."""
        tr = translator(self.lang)
        value = f"${self.billions:g}bn" if tr.lang == "en" else tr.money(self.value)
        return _BOUND_MARK[self.qualifier] + value

    def label(self) -> str:
        """What is written on the bar: bound, value, date and sources: ``>$8bn`` / ``2023 [3]``, with
        the caveat on a third line."""
        marks = "".join(f"[{n}]" for n in self.refs)
        text = f"{self.amount()}\n{self.when or self.year} {marks}"
        return f"{text}\n({translator(self.lang).gettext(self.caveat)})" if self.caveat else text


@dataclass(frozen=True)
class ChartData:
    panels: tuple[tuple[str, tuple[Bar, ...]], ...]
    sources: tuple[tuple[int, str, str], ...]  # (number, source id, readable label)
    figures_to: PartialDate | None  # the newest figure's date
    sources_to: PartialDate | None  # the newest cited source's publication date
    conflicts: tuple[str, ...]  # "trade turnover 2023" where sources give different values
    lang: str = "en"  # the language the chart is written in

    @property
    def bars(self) -> tuple[Bar, ...]:
        return tuple(bar for _, bars in self.panels for bar in bars)

    def data_to(self) -> str:
        tr = translator(self.lang)
        parts = []
        if self.figures_to is not None:
            parts.append(tr.gettext("figures up to {date}").format(date=tr.date(self.figures_to)))
        if self.sources_to is not None:
            parts.append(tr.gettext("sources up to {date}").format(date=tr.date(self.sources_to)))
        text = "; ".join(parts)
        return text[:1].upper() + text[1:]


def chart_data(catalogue: Any, tr: Translator = ENGLISH) -> ChartData:
    """What the chart draws, worded in ``tr``'s language."""
    _ = tr.gettext
    numbers: dict[str, int] = {}
    panels = []
    conflicts = []
    newest: PartialDate | None = None
    for title, metrics in PANELS:
        bars = []
        for metric in metrics:
            statements: dict[tuple, list[Any]] = {}
            for figure in catalogue.figures(metric):
                if figure.unit != "USD":
                    continue
                statements.setdefault((figure.as_of.year, figure.value, figure.qualifier), []).append(figure)
                newest = figure.as_of if newest is None else max(newest, figure.as_of)
            years: dict[int, int] = {}
            for (year, value, qualifier), figures in sorted(statements.items()):
                sources = sorted({s for f in figures for s in f.sources}, key=lambda s: (s not in numbers, s))
                refs = tuple(sorted(numbers.setdefault(s, len(numbers) + 1) for s in sources))
                when, caveat = _dated(metric, figures, tr)
                ids = tuple(f.id for f in figures)
                bars.append(Bar(metric, year, value, qualifier, refs, ids, when, caveat, tr.lang))
                years[year] = years.get(year, 0) + 1
            conflicts += [f"{_(METRIC_NAMES[metric])} {year}" for year, n in sorted(years.items()) if n > 1]
        panels.append((_(title), tuple(sorted(bars, key=lambda b: (b.year, metrics.index(b.metric))))))
    cited = [catalogue.sources[s] for s in numbers]
    published = [s.published for s in cited if s.published is not None]
    return ChartData(
        panels=tuple(panels),
        sources=tuple((n, s, source_label(catalogue.sources[s], tr)) for s, n in numbers.items()),
        figures_to=newest,
        sources_to=max(published) if published else None,
        conflicts=tuple(conflicts),
        lang=tr.lang,
    )


def _dated(metric: str, figures: list[Any], tr: Translator = ENGLISH) -> tuple[str, str]:
    """The date the bar shows when it is not just the year, and what the sources leave open."""
    dates = {f.as_of for f in figures}
    (only,) = dates if len(dates) == 1 else (None,)
    if metric in YEARLY_METRICS and only is not None and only.month:
        return tr.date(only), PERIOD_NOT_GIVEN
    if all(f.inferred for f in figures):
        return "", YEAR_INFERRED
    return "", ""


def alt_text(data: ChartData) -> str:
    """The chart in words, for screen readers (Slack alt text) and captions."""
    _ = translator(data.lang).gettext
    parts = []
    for title, bars in data.panels:
        said = ", ".join(
            b.words(b.amount().replace("$", "US$", 1) if data.lang == "en" else b.amount(), " ") for b in bars
        )
        parts.append(f"{title}: {said or _('no figures')}.")
    return " ".join(parts)


@cache
def hangul_font() -> str | None:
    """A font with Hangul that matplotlib can find, or None (then Korean charts are drawn in English)."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in HANGUL_FONTS if name in installed), None)


def drawn_language(lang: str) -> str:
    """The language a chart asked for in ``lang`` is drawn in: Korean only with a Hangul font."""
    return "en" if lang == "ko" and hangul_font() is None else lang


def render_png(data: ChartData) -> bytes:
    """Draw ``data`` (two bar panels, sources and dates under them) and return PNG bytes."""
    from matplotlib import rc_context

    # DejaVu Sans first (Latin, Cyrillic); a Hangul font after it for the glyphs DejaVu lacks
    fonts = ["DejaVu Sans", *([hangul_font()] if data.lang == "ko" and hangul_font() else [])]
    with rc_context({"font.family": fonts}):
        return _draw(data, translator(data.lang).gettext)


def _draw(data: ChartData, _: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    lines = [_("Sources") + ":", *(f"[{n}] {label}" for n, _n, label in data.sources)]
    # the date ends a sentence unless it ends in an abbreviation's dot ("2024 г.")
    lines.append(data.data_to().rstrip(".") + ".")
    lines.append(_("Each bar: value, year and its sources. The sentences: /trade, /source ID."))
    if data.conflicts:
        lines.append(
            _("Sources differ for {which}: both drawn side by side.").format(which=", ".join(data.conflicts))
        )
    # The footer is sized in lines of 9-point text, 1.5 apart (about 19 px each).
    footer = len(lines) * 19 / HEIGHT_PX
    bottom = 0.03 + footer + 0.07  # room for the year labels under the bars
    grid = {"left": 0.06, "right": 0.98, "top": 0.83, "bottom": bottom, "wspace": 0.15}
    axes_row = figure.subplots(1, 2, gridspec_kw=grid)
    figure.suptitle(_(TITLE), fontsize=15, y=0.985)
    for axes, (title, bars) in zip(axes_row, data.panels, strict=True):
        _panel(axes, title, bars, _)
    legend = [Patch(facecolor=c, label=_(METRIC_NAMES[m]).capitalize()) for m, c in COLOURS.items()]
    legend.append(
        Patch(facecolor="white", edgecolor="#444444", hatch="//", label=_("A lower bound (“more than”)"))
    )
    figure.legend(
        handles=legend, loc="upper center", ncol=4, frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.945)
    )
    figure.text(0.06, 0.03 + footer, "\n".join(lines), va="top", ha="left", fontsize=9, linespacing=1.5)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    figure.clear()  # free the drawing now, not whenever the collector gets to it
    return buffer.getvalue()


def _panel(axes: Any, title: str, bars: tuple[Bar, ...], _: Any) -> None:
    axes.set_title(title, fontsize=12, y=1.02)  # a fixed place: no layout pass to find one
    axes.spines[["top", "right"]].set_visible(False)
    if not bars:
        axes.text(
            0.5, 0.5, _("No figures in the fact store"), ha="center", va="center", transform=axes.transAxes
        )
        axes.set_xticks([])
        return
    years = sorted({b.year for b in bars})
    width = 0.8 / max(sum(1 for b in bars if b.year == y) for y in years)
    positions = []
    for year_index, year in enumerate(years):
        in_year = [b for b in bars if b.year == year]
        for i, bar in enumerate(in_year):  # side by side, centred on the year
            positions.append((year_index + (i - (len(in_year) - 1) / 2) * width, bar))
    top = max(b.billions for b in bars)
    for x, bar in positions:
        hatch = "//" if bar.qualifier in ("more_than", "at_least") else None
        axes.bar(x, bar.billions, width * 0.92, color=COLOURS[bar.metric], hatch=hatch, edgecolor="white")
        # parse_math=False: "$" is a dollar here, not the start of a formula
        axes.text(
            x, bar.billions + top * 0.02, bar.label(), ha="center", va="bottom", fontsize=9, parse_math=False
        )
    ticks = []
    for year in years:  # a year whose bars are all dated to a month ("Aug 2021") is named so
        whens = {b.when for b in bars if b.year == year}
        ticks.append(whens.pop() if len(whens) == 1 and "" not in whens else str(year))
    axes.set_xticks(range(len(years)), ticks)
    axes.set_ylim(0, top * 1.3)
    axes.set_ylabel(_("US$ billion"))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)


class ChartCache:
    """The rendered PNG per data version and language; one render at a time (the first takes the
    import). A new data version drops the pictures of the old one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: Any = None
        self._pngs: dict[str, bytes] = {}

    def png(self, catalogue: Any, lang: str = "en") -> bytes:
        version = data_version(catalogue)
        with self._lock:
            lang = drawn_language(lang)
            if self._version != version:
                self._version, self._pngs = version, {}
            if lang not in self._pngs:
                self._pngs[lang] = render_png(chart_data(catalogue, translator(lang)))
            return self._pngs[lang]


CHARTS = ChartCache()  # one per process
