"""Answers in English, Russian, Korean and Kazakh: gettext catalogs (managed with Babel) and Babel's
date and number formatting, one immutable :class:`Translator` per language.

There is no current-language global: every answer is built with the translator its command context
carries (``Context.tr``), so two channels in different languages answered at the same time never mix.
The catalogs live in ``bot/i18n/locale/<lang>/LC_MESSAGES/kazkor.po`` (compiled ``.mo`` beside them,
shipped as package data); English is the source language and has no catalog. See docs/languages.md.
"""

from __future__ import annotations

import gettext as _gettext
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale

from bot.i18n import formatting

Day = date  # Translator has a method named ``date``, which shadows the type inside its body

LANGUAGES = ("en", "ru", "ko", "kk")  # the order /language lists them in
SOURCE_LANGUAGE = "en"
DOMAIN = "kazkor"
# What each language calls itself (shown by /language and /subscriptions).
NATIVE_NAMES = {"en": "English", "ru": "Русский", "ko": "한국어", "kk": "Қазақша"}


def N_(message: str) -> str:
    """Mark a module-level text for extraction; it is translated where it is shown (``tr.gettext``)."""
    return message


def language_code(text: str | None) -> str | None:
    """One of :data:`LANGUAGES` for a user's or platform's code (``ru``, ``ru-RU``, ``KK``, ``ko_KR``),
    or None when the code names another language."""
    if not text:
        return None
    code = text.strip().replace("_", "-").split("-", 1)[0].lower()
    return code if code in LANGUAGES else None


def locale_dir() -> Any:
    return resources.files("bot.i18n") / "locale"


class Translator:
    """Messages, plural forms, dates and numbers in one language. Immutable once built; share freely."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self.locale = Locale.parse(lang)
        self._messages: _gettext.NullTranslations
        if lang == SOURCE_LANGUAGE:
            self._messages = _gettext.NullTranslations()
        else:
            mo = locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
            with mo.open("rb") as handle:  # a missing catalog is a packaging bug: fail loudly
                self._messages = _gettext.GNUTranslations(handle)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    # -- messages ---------------------------------------------------------------------------------

    def gettext(self, message: str) -> str:
        return self._messages.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for ``n`` (Russian has three: 1 день, 2 дня, 5 дней)."""
        return self._messages.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self._messages.pgettext(context, message)

    # -- dates and numbers (Babel, this language's CLDR data) ---------------------------------------

    def date(self, value: Any) -> str:
        """A day, month or year (``PartialDate`` or ``datetime.date``) as this language writes it."""
        return formatting.partial_date(value, self.lang)

    def day(self, value: Day) -> str:
        """A weekday and a day: ``Mon 28 Jan 2027``, ``пн, 28 января 2027 г.``, ``2027년 1월 28일 (월)``."""
        return formatting.weekday_date(value, self.lang)

    def number(self, value: float) -> str:
        return formatting.number(value, self.lang)

    def money(self, value: float) -> str:
        """US dollars in the form this language's press uses (see docs/languages.md)."""
        return formatting.money(value, self.lang)

    def percent(self, value: float) -> str:
        return formatting.percent(value, self.lang)

    @property
    def native_name(self) -> str:
        return NATIVE_NAMES[self.lang]


@cache
def translator(lang: str) -> Translator:
    """The shared translator of ``lang`` (catalogs are read once per process)."""
    return Translator(lang)


ENGLISH = translator(SOURCE_LANGUAGE)

__all__ = [
    "DOMAIN",
    "ENGLISH",
    "LANGUAGES",
    "NATIVE_NAMES",
    "N_",
    "SOURCE_LANGUAGE",
    "Translator",
    "language_code",
    "translator",
]
