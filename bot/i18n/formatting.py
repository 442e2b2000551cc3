"""Dates and numbers per language with Babel (CLDR data); one written form per language.

Dates keep their precision (a fact known to a month is never shown as a day):

=====  ====================  =================  ===========
lang   day                   month              year
=====  ====================  =================  ===========
en     28 Jan 2027           Jan 2027           2027
ru     28 января 2027 г.     январь 2027 г.     2027
ko     2027년 1월 28일        2027년 1월          2027년
kk     2027 ж. 28 қаңтар      2027 ж. қаңтар      2027
=====  ====================  =================  ===========

US dollars as each language's press writes them, never rounded (the figure is the fact):
``US$6.5 billion`` (en), ``US$6,5 млрд`` (ru), ``65억 달러`` (ko: 조/억/만 units, as Yonhap writes),
``6,5 млрд доллар`` (kk, as Kazinform writes).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent

# English keeps the bot's compact day-month-year order; the other languages use CLDR's own forms.
_EN_PATTERNS = {"day": "d MMM y", "month": "MMM y", "year": "y", "weekday": "EEE dd MMM y"}
_SKELETONS = {"month": "yMMMM", "year": "y", "weekday": "yMMMMEd"}

# (threshold, word) for billions and millions, largest first.
_SCALES = {
    "en": ((10**9, "billion"), (10**6, "million")),
    "ru": ((10**9, "млрд"), (10**6, "млн")),
    "kk": ((10**9, "млрд"), (10**6, "млн")),
}
_KO_UNITS = ((10**12, "조"), (10**8, "억"), (10**4, "만"))


def _exact(value: Any) -> Decimal:
    """The value as a Decimal without binary noise (6.5e9 -> 6500000000, 0.1 -> 0.1)."""
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def _precision_and_day(value: Any) -> tuple[str, date]:
    if isinstance(value, date):
        return "day", value
    precision = value.precision  # facts.model.PartialDate
    return precision, value.first_day()


def partial_date(value: Any, lang: str) -> str:
    """A ``PartialDate`` (or ``date``) in ``lang``, at the precision it is known to."""
    precision, day = _precision_and_day(value)
    if lang == "en":
        return format_date(day, _EN_PATTERNS[precision], locale="en")
    if precision == "day":
        return format_date(day, "long", locale=lang)
    return format_skeleton(_SKELETONS[precision], day, locale=lang)


def weekday_date(day: date, lang: str) -> str:
    if lang == "en":
        return format_date(day, _EN_PATTERNS["weekday"], locale="en")
    return format_skeleton(_SKELETONS["weekday"], day, locale=lang)


def number(value: Any, lang: str) -> str:
    """Grouped digits with every significant decimal: ``120,000`` / ``120 000`` / ``2,5``."""
    return format_decimal(_exact(value), locale=lang, decimal_quantization=False)


def percent(value: Any, lang: str) -> str:
    """``value`` in per cent (12.5 -> ``12.5%``, ``12,5 %`` in Russian)."""
    return format_percent(_exact(value) / 100, locale=lang, decimal_quantization=False)


def _korean_units(amount: Decimal) -> str:
    """``2억 3000만`` for 230,000,000: 조/억/만 groups, spaced between groups (Korean orthography)."""
    parts = []
    rest = int(amount)
    for size, unit in _KO_UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest or not parts:
        parts.append(str(rest))
    return " ".join(parts)


def money(value: Any, lang: str) -> str:
    """US dollars in ``lang``'s press form; the amount is exact (6.25 billion is never "6.3")."""
    amount = _exact(value)
    if lang == "ko":
        if amount == amount.to_integral_value() and amount >= 10**4:
            return f"{_korean_units(amount)} 달러"
        return f"{number(amount, lang)} 달러"
    for size, word in _SCALES[lang]:
        if amount >= size:
            scaled = number(amount / size, lang)
            return f"US${scaled} {word}" if lang != "kk" else f"{scaled} {word} доллар"
    whole = number(amount, lang)
    return f"{whole} доллар" if lang == "kk" else f"US${whole}"
