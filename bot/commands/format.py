"""How answers read: one date style, source labels, short fact lines, money, ranks and citations.

Every command (and the reminders) builds its lines with these helpers, so an answer reads the same
everywhere: ``12 Jun 2024 — MoU on forestry cooperation [1] · agr-2024-06-12-forestry``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.i18n import ENGLISH, N_, Translator
from bot.reply import BULLET, Item, ReplyBuilder
from facts.model import Agreement, Anniversary, Event, Figure, PartialDate, Source
from facts.store import Catalogue

MAX_ITEM_CHARS = 160  # visible characters of one item line: bullet, date, claim, citation marks and id
ELLIPSIS = "…"
FULL_SENTENCE = N_("The full sentence behind a line: /source ID (the id after ·).")
UNATTRIBUTED = N_("unattributed article")
# How the data names an outlet a seed does not name (compared lower-case).
_UNNAMED_OUTLETS = frozenset(
    {"unnamed outlet", "outlet not named", "unknown outlet", "unattributed", UNATTRIBUTED}
)
# Every answer is about Kazakhstan and Korea: lines drop the phrase naming them ("35th anniversary of
# diplomatic relations", not "... between Kazakhstan and the Republic of Korea"); /source keeps it.
_IMPLIED_PARTIES = (
    " between Kazakhstan and the Republic of Korea",
    " between the Republic of Korea and Kazakhstan",
    " between Kazakhstan and Korea",
)
# The same phrase in the translated titles (Korean puts it first, Kazakh too, in the genitive).
_IMPLIED_PARTIES_I18N = {
    "ru": (" между Казахстаном и Республикой Корея", " Казахстана и Республики Корея"),
    "ko": ("카자흐스탄–대한민국 ",),
    "kk": ("Қазақстан мен Корея Республикасы арасындағы ", "Қазақстан мен Корея Республикасы "),
}
# How each language says a figure's qualifier around the value ({value}).
_QUALIFIERS = {
    "exact": "{value}",
    "about": N_("about {value}"),
    "more_than": N_("more than {value}"),
    "at_least": N_("at least {value}"),
}
# Kazakh says "more than X" with X in the ablative: the ending follows the last word of the number.
_KK_UNITS = {1: "ден", 2: "ден", 3: "тен", 4: "тен", 5: "тен", 6: "дан", 7: "ден", 8: "ден", 9: "дан"}
_KK_TENS = {1: "нан", 2: "дан", 3: "дан", 4: "тан", 5: "ден", 6: "тан", 7: "тен", 8: "нен", 9: "нан"}


def human_date(when: date | PartialDate, tr: Translator = ENGLISH) -> str:
    """The one date style of every answer: ``28 Jan 2027``, ``Jan 2027`` or ``2027`` (what is known),
    in ``tr``'s language (``28 января 2027 г.``, ``2027년 1월``; see bot.i18n.formatting).

    A ``date`` (or ``datetime``) is a day; a :class:`PartialDate` keeps its own precision, so a date
    known to the year is never shown as 1 January.
    """
    if not isinstance(when, PartialDate):
        when = PartialDate(when.year, when.month, when.day)
    return tr.date(when)


def source_label(source: Source, tr: Translator = ENGLISH) -> str:
    """A label a person understands: ``Diplomacy Journal, Sep 2024``; ``unattributed article, Aug 2021``
    for a seed that names no outlet. File names stay in ``/source``."""
    unnamed = source.outlet.strip().lower() in _UNNAMED_OUTLETS
    outlet = tr.gettext(UNATTRIBUTED) if unnamed else source.outlet
    return f"{outlet}, {human_date(source.published, tr)}" if source.published else outlet


def cite(builder: ReplyBuilder, catalogue: Catalogue, source_id: str) -> int:
    """Number ``source_id`` in the answer under its readable label (and count its date in the footer)."""
    src = catalogue.sources[source_id]
    return builder.cite(source_id, source_label(src, builder.tr or ENGLISH), src.published)


def latest_source_date(catalogue: Catalogue) -> PartialDate | None:
    """The newest publication date of any source: the footer of an answer that cites nothing."""
    dates = [s.published for s in catalogue.sources.values() if s.published is not None]
    return max(dates) if dates else None


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, marked with an ellipsis.

    A guard, not a style: lines are written short; this keeps a long curated title from breaking the
    160-character rule (the whole sentence stays one step away in ``/source``).
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + ELLIPSIS


def fitted(item: Item, limit: int = MAX_ITEM_CHARS) -> Item:
    """``item`` with its text clipped so that its line as a reader sees it (bullet included) fits
    ``limit`` characters."""
    excess = len(BULLET) + len(item.visible()) - limit
    if excess <= 0:
        return item
    return Item(clip(item.text, max(len(item.text) - excess, 1)), item.refs, item.record_id)


def dated_line(when: date | PartialDate | str, claim: str, tr: Translator = ENGLISH) -> str:
    """``12 Jun 2024 — claim``: one fact per line, its date first."""
    shown = when if isinstance(when, str) else human_date(when, tr)
    return f"{shown[:1].upper()}{shown[1:]} — {claim}"  # "Август 2021 г." leads the line capitalised


def short_title(title: str, lang: str = "en") -> str:
    """``title`` without the phrase naming the two countries every answer is about."""
    for phrase in _IMPLIED_PARTIES_I18N.get(lang, _IMPLIED_PARTIES):
        title = title.replace(phrase, "")
    return title


def event_title(event: Event, tr: Translator = ENGLISH) -> str:
    """An event's title with its place when the title does not already name it (decided on the
    English, shown in ``tr``'s language)."""
    suffix = place_suffix(event.title, event.place)
    if tr.lang == "en":
        return short_title(event.title) + suffix
    return event.text("title", tr.lang) + (f", {event.text('place', tr.lang)}" if suffix else "")


_PLACE_FILLER = frozenset({"and", "the", "of", "to", "republic"})


def place_suffix(title: str, place: str) -> str:
    """``, Astana`` or nothing: no place the title already names ("Seoul Cyber University, Seoul Cyber
    University, Seoul"), no "place not stated", and not the two countries alone. A place part counts as
    named when each of its words (bar "and", "the", "of", "to", "republic") is in the title."""
    if not place or "not stated" in place.lower():
        return ""
    title_words = set(re.findall(r"\w+", title.lower()))
    if set(re.findall(r"\w+", place.lower())) - _PLACE_FILLER <= {"kazakhstan", "korea"}:
        return ""  # the two countries every answer is about
    for part in place.split(","):
        words = [w for w in re.findall(r"\w+", part.lower()) if w not in _PLACE_FILLER]
        if words and all(w in title_words for w in words):
            return ""
    return f", {place}"


def record_date(record: Any) -> PartialDate | None:
    """The date a record is about (an event's or agreement's date, a figure's as-of), if it has one."""
    for name in ("date", "as_of"):
        value = getattr(record, name, None)
        if isinstance(value, PartialDate):
            return value
    return None


def fact_claim(record: Any, tr: Translator = ENGLISH) -> str:
    """A record in a few words: the title of an event, agreement or anniversary origin, else its
    one-sentence summary."""
    if isinstance(record, Event):
        return event_title(record, tr)
    if isinstance(record, Agreement | Anniversary):
        return short_title(record.text("title", tr.lang), tr.lang)
    return record.text("summary", tr.lang).rstrip(".")


def fact_line(record: Any, tr: Translator = ENGLISH) -> str:
    """``12 Jun 2024 — MoU on forestry cooperation``: any record as one dated line."""
    when = record_date(record)
    claim = fact_claim(record, tr)
    return dated_line(when, claim, tr) if when is not None else claim


def ordinal(n: int, tr: Translator = ENGLISH) -> str:
    """A rank: ``4th``, ``4-й``, ``4위``, ``4-ші``."""
    if tr.lang == "ru":
        return f"{n}-й"
    if tr.lang == "ko":
        return f"{n}위"  # a rank, as the Korean press writes it (4위 교역국)
    if tr.lang == "kk":  # the ending follows the vowels of the number's last word: 4-ші, 6-шы, 30-шы
        last = n % 10 or n % 100 // 10 * 10 or (100 if n % 1000 else 1000)
        back = last in (6, 9, 10, 20, 30, 40, 60, 90, 1000)
        return f"{n}-{'шы' if back else 'ші'}"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _kazakh_ablative(n: int) -> str:
    """The ablative ending after a number written in digits: 700-ден, 550-ден, 1000-нан."""
    if n % 10:
        return _KK_UNITS[n % 10]
    if n % 100:
        return _KK_TENS[n % 100 // 10]
    if n % 1000:
        return "ден"  # жүз
    if n % 10**6:
        return "нан"  # мың
    return "нан" if n % 10**9 else "тан"  # миллион / миллиард


def money(value: float, tr: Translator = ENGLISH) -> str:
    """``US$6.5 billion``; in each language its press form, never rounded (bot.i18n.formatting)."""
    return tr.money(value)


def figure_value(figure: Figure, tr: Translator = ENGLISH) -> str:
    """``more than US$6 billion``, ``4th``, ``among the top 10``, ``120,000`` in ``tr``'s language."""
    _ = tr.gettext
    value = figure.value
    if figure.unit == "rank":
        if figure.qualifier == "at_least":
            return _("among the top {n}").format(n=tr.number(value))
        shown = ordinal(int(value), tr)
    elif figure.unit == "USD":
        shown = money(value, tr)
    elif figure.unit == "percent":
        shown = tr.percent(value)
    elif figure.unit == "ratio":
        shown = f"{tr.number(value)}×"
    elif figure.unit == "MW":
        shown = _("{n} MW").format(n=tr.number(value))
    else:
        shown = tr.number(value)
    if tr.lang == "kk" and figure.qualifier == "more_than":  # "X-тен астам": the ending follows X
        if figure.unit == "USD":
            return f"{shown}дан астам"  # ... доллар -> доллардан
        if float(value).is_integer() and figure.unit not in ("percent", "MW", "ratio"):
            return f"{shown}-{_kazakh_ablative(int(value))} астам"
    return _(_QUALIFIERS[figure.qualifier]).format(value=shown)


def cite_all(builder: ReplyBuilder, catalogue: Catalogue, record: Any) -> tuple[int, ...]:
    return tuple(sorted(cite(builder, catalogue, s) for s in record.sources))


def marks(refs: tuple[int, ...]) -> str:
    """``[1][3]``: citation marks written inside a line (where one line holds several figures)."""
    return "".join(f"[{n}]" for n in refs)


def record_item(
    builder: ReplyBuilder, catalogue: Catalogue, record: Any, text: str | None = None, *shorter: str
) -> Item:
    """An item citing every source of ``record``: the first of ``text`` and the ``shorter`` wordings that
    fits :data:`MAX_ITEM_CHARS`, else the last one clipped. The text defaults to the record's summary."""
    refs = cite_all(builder, catalogue, record)
    wordings = [text or record.text("summary", builder.tr.lang if builder.tr else "en"), *shorter]
    for wording in wordings:
        item = Item(wording, refs, record.id)
        if len(BULLET) + len(item.visible()) <= MAX_ITEM_CHARS:
            return item
    return fitted(Item(wordings[-1], refs, record.id))


def merge_refs(*groups: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted({n for group in groups for n in group}))


def quote_items(builder: ReplyBuilder, catalogue: Catalogue, record: Any) -> list[Item]:
    """One line per citation of ``record``: a seed's sentence in quotes, or what an outside source
    states (marked as not a quotation), each citing its source."""
    items = []
    for citation in record.cite:
        n = cite(builder, catalogue, citation.source)
        if catalogue.sources[citation.source].kind == "seed":
            items.append(Item(f"“{citation.quote}”", (n,)))
        else:  # an outside source's citation is a short statement of what it says, not its words
            tr = builder.tr or ENGLISH
            note = tr.gettext("(what the source states; not a quotation)")
            items.append(Item(f"{citation.quote} {note}", (n,)))
    return items


def snippet(text: str, start: int, end: int, width: int = 90) -> str:
    """About ``width`` characters of ``text`` around ``text[start:end]``, with ellipses where cut."""
    left = max(0, start - (width - (end - start)) // 2)
    right = min(len(text), left + width)
    left = max(0, right - width)
    if left > 0:
        left = text.find(" ", left) + 1 or left
    if right < len(text):
        right = text.rfind(" ", start, right) if text.rfind(" ", start, right) > end else right
    return f"{'…' if left > 0 else ''}{text[left:right].strip()}{'…' if right < len(text) else ''}"
