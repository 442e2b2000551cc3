"""The numbers, years, months and days a text states, whatever language it is written in.

Used to check that a translation states the same facts as the English it was made from: ``US$6.5 billion``,
``US$6,5 млрд``, ``65억 달러`` and ``6,5 млрд доллар`` all state 6,500,000,000; ``28 January 1992``,
``28 января 1992 г.``, ``1992년 1월 28일`` and ``1992 жылғы 28 қаңтар`` all state the day 28, the month 1
and the year 1992. Words for numbers (``ten``, ``десяти``) are not read: translations keep digits where the
English has digits.
"""

from __future__ import annotations

import re
from decimal import Decimal

_EN_MONTHS = (
    "jan feb mar apr may jun jul aug sep oct nov dec".split(),
    "january february march april may june july august september october november december".split(),
)
_RU_MONTHS = "январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр".split()
_KK_MONTHS = "қаңтар ақпан наурыз сәуір мамыр маусым шілде тамыз қыркүйек қазан қараша желтоқсан".split()

_SCALES = {
    "billion": 10**9,
    "bln": 10**9,
    "bn": 10**9,
    "million": 10**6,
    "mln": 10**6,
    "thousand": 10**3,
    "млрд": 10**9,
    "млн": 10**6,
    "тыс": 10**3,
    "мың": 10**3,
}
_KOREAN_UNITS = {"조": 10**12, "억": 10**8, "만": 10**4}

_SPACE = "[ \u00a0\u202f]"
# 120,000 / 120 000 / 6.5 / 6,5 / 1992
_NUMBER = re.compile(
    rf"(?<![\d.,])(\d{{1,3}}(?:,\d{{3}})+(?![\d])|\d{{1,3}}(?:{_SPACE}\d{{3}})+(?![\d])|\d+(?:[.,]\d+)?)"
)
_KOREAN_AMOUNT = re.compile(r"(?<!제)(?:\d+(?:\.\d+)?[조억만]\s?)+")  # "제6조" is an article, not 6 trillion
_KOREAN_MONTH = re.compile(r"(\d{1,2})월")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _month_of(word: str) -> int | None:
    lower = word.lower()
    if word[:1].isupper():  # English month names are capitalised ("may" the verb is not a month)
        for names in _EN_MONTHS:
            if lower in names:
                return names.index(lower) + 1
        if lower == "sept":
            return 9
    if lower in ("май", "мая", "мае", "маю", "маем"):
        return 5
    for i, stem in enumerate(_RU_MONTHS):
        if stem != "ма" and lower.startswith(stem):
            return i + 1
    for i, name in enumerate(_KK_MONTHS):
        if lower.startswith(name):
            return i + 1
    return None


def _value(text: str) -> Decimal:
    digits = re.sub(_SPACE, "", text)
    if re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
        return Decimal(digits.replace(",", ""))  # 120,000: digit grouping
    return Decimal(digits.replace(",", "."))  # 6,5 (Russian, Kazakh) is 6.5


def facts_in(text: str) -> set[str]:
    """The numbers (``n:6500000000``) and months (``m:1``) stated in ``text``."""
    found: set[str] = set()
    rest = text
    for match in _KOREAN_AMOUNT.finditer(text):
        total = Decimal(0)
        for amount, unit in re.findall(r"(\d+(?:\.\d+)?)([조억만])", match.group(0)):
            total += Decimal(amount) * _KOREAN_UNITS[unit]
        found.add(f"n:{total.normalize():f}")
    rest = _KOREAN_AMOUNT.sub(" ", rest)
    for match in _KOREAN_MONTH.finditer(rest):
        found.add(f"m:{int(match.group(1))}")
    rest = _KOREAN_MONTH.sub(" ", rest)
    for word in _WORD.findall(rest):
        month = _month_of(word)
        if month:
            found.add(f"m:{month}")
    for match in _NUMBER.finditer(rest):
        value = _value(match.group(1))
        after = rest[match.end() :].lstrip(" \u00a0\u202f")
        scale = re.match(r"[^\W\d_]+", after)
        if scale and scale.group(0).lower().rstrip(".") in _SCALES:
            value *= _SCALES[scale.group(0).lower().rstrip(".")]
        found.add(f"n:{value.normalize():f}")
    return found
