"""Curated records and their validation.

The curated data lives in ``facts/data/*.json``: one JSON list of records per file
(``sources.json``, ``figures.json``, ``agreements.json``, ``events.json``, ``anniversaries.json``,
``people.json``, ``organisations.json``, ``projects.json``, ``statements.json``).
Every record is checked here against a small schema when it is loaded; a bad record is refused
with :class:`DataError` naming the file, the record's position and its id.

Validation is hand-written on purpose: ``kazkor ask`` must answer from a cold start in well under
half a second, and a schema library would cost more to import than the whole data set costs to check.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# The record classes with a field named ``date`` shadow the type inside their bodies: annotate with Day.
Day = date

PRECISIONS = ("day", "month", "year")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class DataError(ValueError):
    """A curated record (or a record added at run time) does not match the schema."""


@dataclass(frozen=True, order=True)
class PartialDate:
    """A date known to a day, a month or only a year: ``2024-06-12``, ``2024-06`` or ``2024``.

    The precision is part of the fact: "next year" in a 2024 article is ``2025`` and must never be shown
    as 1 January 2025.
    """

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE_RE.match(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(g) if g else 0 for g in match.groups())
        if month and not 1 <= month <= 12:
            raise ValueError(f"{text!r} has no month {month}")
        if day:
            date(year, month, day)  # raises ValueError for 2023-02-29 and the like
        return cls(year, month, day)

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def first_day(self) -> date:
        """The first calendar day the date can mean (what reminders and ordering use)."""
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        if self.day:
            return date(self.year, self.month, self.day)
        if self.month:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return date(self.year, 12, 31)

    def iso(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def human(self) -> str:
        """``12 Jun 2024``, ``Jun 2024`` or ``2024``: readable on every platform."""
        if self.day:
            return f"{self.day} {_MONTHS[self.month - 1]} {self.year}"
        if self.month:
            return f"{_MONTHS[self.month - 1]} {self.year}"
        return str(self.year)

    def __str__(self) -> str:
        return self.iso()


@dataclass(frozen=True)
class Citation:
    """Where a record comes from: a source id and the sentence (verbatim for a seed) it rests on."""

    source: str
    quote: str


@dataclass(frozen=True)
class Source:
    id: str
    outlet: str
    title: str
    kind: str  # "seed" (one of the shared source articles) or "outside" (a named outside source)
    published: PartialDate | None = None
    file: str | None = None
    author: str | None = None
    url: str | None = None
    note: str | None = None
    reference: str | None = None  # for an outside source: where a reader can look it up

    def label(self) -> str:
        """A compact citation label: ``The Astana Times, Jun 2024``."""
        when = f", {self.published.human()}" if self.published else ""
        return f"{self.outlet}{when}"


@dataclass(frozen=True)
class Record:
    """Fields every fact shares: an id, a one-line summary and at least one citation."""

    id: str
    summary: str
    cite: tuple[Citation, ...]
    note: str | None = None
    correction: str | None = None  # set where a seed is wrong or garbled: what it said and what is right
    same_as: str | None = None  # the record telling the same fact under another kind (search lists one)
    # Translations of the texts answers show: {"summary": {"ru": ..., "ko": ..., "kk": ...}, ...}, made
    # from the English, which was written in ``written_in``. Facts (numbers, dates) never differ.
    i18n: dict[str, dict[str, str]] = field(default_factory=dict, compare=False)
    written_in: str = "en"

    kind = "record"

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.source for c in self.cite))

    def text(self, name: str, lang: str = "en") -> str:
        """Field ``name`` (``summary``, ``title``...) in ``lang``; the English where no translation is."""
        return self.i18n.get(name, {}).get(lang) or getattr(self, name)

    def sort_date(self) -> date:
        return date.min


@dataclass(frozen=True)
class Figure(Record):
    metric: str = ""
    value: float = 0.0
    unit: str = ""
    qualifier: str = "exact"
    as_of: PartialDate = field(default_factory=lambda: PartialDate(1900))
    phrase: str = ""
    ranked_above: tuple[str, ...] = ()
    inferred: bool = False  # the source gives no year: ``as_of`` is the curator's inference

    kind = "figure"

    def sort_date(self) -> date:
        return self.as_of.first_day()


@dataclass(frozen=True)
class Agreement(Record):
    title: str = ""
    type: str = ""
    date: PartialDate = field(default_factory=lambda: PartialDate(1900))
    occasion: str | None = None
    parties: tuple[str, ...] = ()
    sector: str = ""

    kind = "agreement"

    def sort_date(self) -> Day:
        return self.date.first_day()


@dataclass(frozen=True)
class Event(Record):
    title: str = ""
    type: str = ""
    date: PartialDate = field(default_factory=lambda: PartialDate(1900))
    place: str = ""
    announced: bool = False  # an announced future milestone rather than something that happened
    derived: str | None = None  # a milestone no source dates: how its date follows from one that does

    kind = "event"

    def sort_date(self) -> Day:
        return self.date.first_day()


@dataclass(frozen=True)
class Anniversary(Record):
    title: str = ""  # "diplomatic relations between Kazakhstan and the Republic of Korea"
    date: PartialDate = field(default_factory=lambda: PartialDate(1900))
    event: str | None = None

    kind = "anniversary"

    def sort_date(self) -> Day:
        return self.date.first_day()


@dataclass(frozen=True)
class Person(Record):
    """Someone the sources name, with the role they held as of ``as_of`` (the source's date)."""

    name: str = ""
    variants: tuple[str, ...] = ()  # other spellings the sources or readers use (Toqayev, Yoon Suk-yeol)
    role: str = ""
    country: str = ""
    as_of: PartialDate = field(default_factory=lambda: PartialDate(1900))

    kind = "person"

    def sort_date(self) -> date:
        return self.as_of.first_day()


@dataclass(frozen=True)
class Organisation(Record):
    """An association, state holding, institute, international body, ministry or company."""

    name: str = ""
    variants: tuple[str, ...] = ()
    type: str = ""
    country: str = ""
    does: str = ""  # what the sources say it does in the relationship
    as_of: PartialDate = field(default_factory=lambda: PartialDate(1900))

    kind = "organisation"

    def sort_date(self) -> date:
        return self.as_of.first_day()


@dataclass(frozen=True)
class Project(Record):
    """A joint project with its partners, value, capacity, place and status as of the source's date."""

    name: str = ""
    variants: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    sector: str = ""
    status: str = ""
    as_of: PartialDate = field(default_factory=lambda: PartialDate(1900))
    place: str | None = None
    value: float | None = None  # US dollars, where a source gives one
    capacity: str | None = None

    kind = "project"

    def sort_date(self) -> date:
        return self.as_of.first_day()


@dataclass(frozen=True)
class Statement(Record):
    """Who said what and when, as a source reports it (the summary says it; the citation has the words)."""

    speaker: str = ""
    date: PartialDate = field(default_factory=lambda: PartialDate(1900))
    topic: str = ""
    person: str | None = None  # the speaker's person record, where there is one

    kind = "statement"

    def sort_date(self) -> Day:
        return self.date.first_day()


# --- the schema ---------------------------------------------------------------------------------

FIGURE_METRICS = (
    "trade_turnover",
    "trade_rank",
    "investment_annual",
    "investment_cumulative",
    "investor_rank",
    "joint_ventures",
    "companies_present",
    "ethnic_koreans",
    "students",
    "weekly_flights",
    "visitors",
    "deal_value",
    "projects",
    "other",
)
FIGURE_UNITS = ("USD", "count", "rank", "percent", "MW", "ratio")
QUALIFIERS = ("exact", "about", "more_than", "at_least")
AGREEMENT_TYPES = ("agreement", "memorandum", "joint_statement", "programme", "deal", "declaration")
EVENT_TYPES = (
    "state_visit",
    "working_visit",
    "official_visit",
    "summit",
    "meeting",
    "address",
    "roundtable",
    "referendum",
    "milestone",
    "ministerial",
    "conference",
    "announcement",
    "other",
)
SOURCE_KINDS = ("seed", "outside")
ORGANISATION_TYPES = (
    "business_association",
    "state_holding",
    "institute",
    "university",
    "international_body",
    "government",
    "company",
    "media",
    "forum",
)
PROJECT_STATUSES = ("under_way", "in_operation", "planned", "proposed", "launched", "completed", "reported")
STATEMENT_TOPICS = (
    "areas",  # areas for cooperation a leader or official names
    "interest",
    "proposal",
    "assessment",
    "people_to_people",
    "policy",
    "plan",
    "report",
)


@dataclass(frozen=True)
class _Field:
    name: str
    check: Callable[[Any], Any]
    required: bool = True


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _ident(value: Any) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ValueError("must be lower-case letters, digits and dashes, e.g. 'trade-2023-astana-times'")
    return value


def _opt_ident(value: Any) -> str | None:
    return None if value is None else _ident(value)


def _pdate(value: Any) -> PartialDate:
    return PartialDate.parse(value)


def _opt_pdate(value: Any) -> PartialDate | None:
    return None if value is None else PartialDate.parse(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _opt_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError("must be a list of strings")
    return tuple(_text(v) for v in value)


def _citations(value: Any) -> tuple[Citation, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of {source, quote}")
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"source", "quote"}:
            raise ValueError("each citation must be an object with exactly 'source' and 'quote'")
        out.append(Citation(_ident(item["source"]), _text(item["quote"])))
    return tuple(out)


_COMMON = (
    _Field("id", _ident),
    _Field("summary", _text),
    _Field("cite", _citations),
    _Field("note", _opt_text, False),
    _Field("correction", _opt_text, False),
    _Field("same_as", _opt_ident, False),
)

SCHEMAS: dict[str, tuple[type, tuple[_Field, ...]]] = {
    "source": (
        Source,
        (
            _Field("id", _ident),
            _Field("outlet", _text),
            _Field("title", _text),
            _Field("kind", _one_of(SOURCE_KINDS)),
            _Field("published", _opt_pdate, False),
            _Field("file", _opt_text, False),
            _Field("author", _opt_text, False),
            _Field("url", _opt_text, False),
            _Field("note", _opt_text, False),
            _Field("reference", _opt_text, False),
        ),
    ),
    "figure": (
        Figure,
        _COMMON
        + (
            _Field("metric", _one_of(FIGURE_METRICS)),
            _Field("value", _number),
            _Field("unit", _one_of(FIGURE_UNITS)),
            _Field("qualifier", _one_of(QUALIFIERS)),
            _Field("as_of", _pdate),
            _Field("phrase", _text),
            _Field("ranked_above", _texts, False),
            _Field("inferred", _bool, False),
        ),
    ),
    "agreement": (
        Agreement,
        _COMMON
        + (
            _Field("title", _text),
            _Field("type", _one_of(AGREEMENT_TYPES)),
            _Field("date", _pdate),
            _Field("occasion", _opt_ident, False),
            _Field("parties", _texts),
            _Field("sector", _text),
        ),
    ),
    "event": (
        Event,
        _COMMON
        + (
            _Field("title", _text),
            _Field("type", _one_of(EVENT_TYPES)),
            _Field("date", _pdate),
            _Field("place", _text),
            _Field("announced", _bool, False),
            _Field("derived", _opt_text, False),
        ),
    ),
    "anniversary": (
        Anniversary,
        _COMMON
        + (
            _Field("title", _text),
            _Field("date", _pdate),
            _Field("event", _opt_ident, False),
        ),
    ),
    "person": (
        Person,
        _COMMON
        + (
            _Field("name", _text),
            _Field("variants", _texts, False),
            _Field("role", _text),
            _Field("country", _text),
            _Field("as_of", _pdate),
        ),
    ),
    "organisation": (
        Organisation,
        _COMMON
        + (
            _Field("name", _text),
            _Field("variants", _texts, False),
            _Field("type", _one_of(ORGANISATION_TYPES)),
            _Field("country", _text),
            _Field("does", _text),
            _Field("as_of", _pdate),
        ),
    ),
    "project": (
        Project,
        _COMMON
        + (
            _Field("name", _text),
            _Field("variants", _texts, False),
            _Field("partners", _texts),
            _Field("sector", _text),
            _Field("status", _one_of(PROJECT_STATUSES)),
            _Field("as_of", _pdate),
            _Field("place", _opt_text, False),
            _Field("value", _opt_number, False),
            _Field("capacity", _opt_text, False),
        ),
    ),
    "statement": (
        Statement,
        _COMMON
        + (
            _Field("speaker", _text),
            _Field("date", _pdate),
            _Field("topic", _one_of(STATEMENT_TOPICS)),
            _Field("person", _opt_ident, False),
        ),
    ),
}


# The texts answers show, per kind: each may carry "<name>_i18n": {"ru": ..., "ko": ..., "kk": ...}
# beside its English (docs/languages.md). Quotes are never translated here: they stay verbatim.
TRANSLATABLE: dict[str, tuple[str, ...]] = {
    "figure": ("summary",),
    "agreement": ("title", "summary", "sector"),
    "event": ("title", "summary", "place"),
    "anniversary": ("title", "summary"),
    "person": ("name", "role", "summary"),
    "organisation": ("name", "summary"),
    "project": ("name", "summary", "place", "sector"),
    "statement": ("summary",),
}
TRANSLATIONS = ("ru", "ko", "kk")  # the languages a text is translated into (English is the original)
LANGUAGES = ("en", *TRANSLATIONS)


def _translations(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"must be an object of translations by language ({', '.join(TRANSLATIONS)})")
    unknown = sorted(set(value) - set(TRANSLATIONS))
    if unknown:
        raise ValueError(f"has unknown language(s) {', '.join(unknown)}; use {', '.join(TRANSLATIONS)}")
    return {lang: _text(text) for lang, text in value.items()}


def _split_translations(kind: str, raw: Mapping[str, Any], label: str) -> tuple[dict, dict[str, Any]]:
    """``(i18n, the other fields)``: "<name>_i18n" objects and "written_in" taken out of ``raw``."""
    allowed = TRANSLATABLE.get(kind, ())
    i18n: dict[str, dict[str, str]] = {}
    rest: dict[str, Any] = {}
    for key, value in raw.items():
        if key.endswith("_i18n") and key.removesuffix("_i18n") in allowed:
            try:
                i18n[key.removesuffix("_i18n")] = _translations(value)
            except ValueError as exc:
                raise DataError(f"{label}: field '{key}' {exc}") from None
        elif key == "written_in" and kind in TRANSLATABLE:
            if value not in LANGUAGES:
                raise DataError(f"{label}: field 'written_in' must be one of {', '.join(LANGUAGES)}")
            rest[key] = value
        else:
            rest[key] = value
    return i18n, rest


def build_record(kind: str, raw: Any, where: str) -> Any:
    """Turn one raw JSON object into a record, or raise :class:`DataError` naming ``where``."""
    cls, fields = SCHEMAS[kind]
    rid = raw.get("id") if isinstance(raw, Mapping) else None
    label = f"{where} (id {rid!r})" if rid else where
    if not isinstance(raw, Mapping):
        raise DataError(f"{label}: a {kind} record must be a JSON object")
    i18n, raw = _split_translations(kind, raw, label)
    known = {f.name for f in fields} | ({"written_in"} if kind in TRANSLATABLE else set())
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DataError(f"{label}: unknown field(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for f in fields:
        if f.name not in raw:
            if f.required:
                raise DataError(f"{label}: missing field '{f.name}'")
            continue
        try:
            values[f.name] = f.check(raw[f.name])
        except ValueError as exc:
            raise DataError(f"{label}: field '{f.name}' {exc}") from None
    if kind in TRANSLATABLE:
        values["i18n"] = i18n
        if "written_in" in raw:
            values["written_in"] = raw["written_in"]
    return cls(**values)
