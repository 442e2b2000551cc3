"""The fact store: curated data (read-only, indexed in memory) and facts added at run time (TinyDB).

* :class:`Catalogue` holds every record the bot can answer from: the curated files shipped in
  ``facts/data`` plus facts added later through the state file. Everything a command needs is answered
  from in-memory indexes (by id, kind, year, metric and word): no query reads a file or scans a table.
* :class:`FactStore` is the TinyDB file of facts added with ``kazkor facts add``; writes are crash-safe
  (see ``facts.storage``). Runtime state (subscriptions, the delivery ledger) is in ``bot.state``.
"""

from __future__ import annotations

import bisect
import heapq
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from facts.model import Anniversary, DataError, Event, Figure, Source, build_record
from facts.text import amounts, words

DATA_FILES = (
    ("sources.json", "source"),
    ("figures.json", "figure"),
    ("agreements.json", "agreement"),
    ("events.json", "event"),
    ("anniversaries.json", "anniversary"),
    ("people.json", "person"),
    ("organisations.json", "organisation"),
    ("projects.json", "project"),
    ("statements.json", "statement"),
)
RECORD_KINDS = (
    "figure",
    "agreement",
    "event",
    "anniversary",
    "person",
    "organisation",
    "project",
    "statement",
)
PLURALS = {
    "figure": "figures",
    "agreement": "agreements",
    "event": "events",
    "anniversary": "anniversaries",
    "person": "people",
    "organisation": "organisations",
    "project": "projects",
    "statement": "statements",
}
# Fields a reader sees in an answer; words found only elsewhere (notes, corrections, the quoted
# sentences) still find the record, but rank below a match in what is shown.
VISIBLE_FIELDS = (
    "title",
    "name",
    "role",
    "does",
    "place",
    "phrase",
    "sector",
    "metric",
    "type",
    "speaker",
    "capacity",
    "country",
)
LIST_FIELDS = ("parties", "ranked_above", "variants", "partners")


def _sort_key(record: Any) -> tuple:
    return (record.sort_date(), record.id)


class Catalogue:
    """Every record the bot serves, indexed in memory. Adding a record updates every index in place."""

    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self.sources: dict[str, Source] = {s.id: s for s in sources}
        self.by_id: dict[str, Any] = {}
        self.by_kind: dict[str, list[Any]] = {kind: [] for kind in RECORD_KINDS}
        self.kind_ids: dict[str, set[str]] = {kind: set() for kind in RECORD_KINDS}
        self._kind_keys: dict[str, list[tuple]] = {kind: [] for kind in RECORD_KINDS}
        self.by_kind_year: dict[tuple[str, int], list[Any]] = defaultdict(list)
        self.by_metric: dict[str, list[Figure]] = defaultdict(list)
        self.by_word: dict[str, set[str]] = defaultdict(set)  # every word of a record, shown or not
        self.shown_words: dict[str, set[str]] = defaultdict(set)  # words of what an answer shows
        self.name_words: dict[str, set[str]] = defaultdict(set)  # words of a record's name or title
        self.by_amount: dict[str, set[str]] = defaultdict(set)  # numbers stated, alone and with a scale
        # people and organisations by each of their names, folded by facts.text.words
        self.by_name: dict[str, str] = {}
        # source id -> kind -> ids of the records citing it (what /source SOURCE-ID lists and counts)
        self.by_source: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        # anniversaries by (month, day) of their origin; 0 stands for "not known" (month or year precision)
        self.anniversaries_by_day: dict[tuple[int, int], list[Anniversary]] = defaultdict(list)
        # events by the first day their date can mean (what reminders observe)
        self.events_by_day: dict[date, list[Event]] = defaultdict(list)

    # -- building -------------------------------------------------------------------------------

    def check(self, record: Any, where: str = "record") -> None:
        """Refuse a record whose id is taken or that cites an unknown source, naming ``where``."""
        if record.id in self.by_id or record.id in self.sources:
            raise DataError(f"{where} (id {record.id!r}): id already used")
        for citation in record.cite:
            if citation.source not in self.sources:
                raise DataError(f"{where} (id {record.id!r}): cites unknown source {citation.source!r}")

    def add(self, record: Any, where: str = "record") -> None:
        """Check one record, then index it everywhere; raises :class:`DataError` naming ``where``."""
        self.check(record, where)
        self.by_id[record.id] = record
        self.kind_ids[record.kind].add(record.id)
        key = _sort_key(record)
        position = bisect.bisect(self._kind_keys[record.kind], key)
        self._kind_keys[record.kind].insert(position, key)
        self.by_kind[record.kind].insert(position, record)
        bisect.insort(self.by_kind_year[(record.kind, record.sort_date().year)], record, key=_sort_key)
        if isinstance(record, Figure):
            bisect.insort(self.by_metric[record.metric], record, key=_sort_key)
        self._index_extra(record)

    def add_many(self, records: Iterable[tuple[Any, str]]) -> None:
        """Check and index many ``(record, where)`` pairs, sorting once at the end (loading 100,000
        added facts one ``add`` at a time would shift the sorted lists 100,000 times)."""
        touched_years: set[tuple[str, int]] = set()
        for record, where in records:
            self.check(record, where)
            self.by_id[record.id] = record
            self.kind_ids[record.kind].add(record.id)
            self.by_kind[record.kind].append(record)
            year_key = (record.kind, record.sort_date().year)
            self.by_kind_year[year_key].append(record)
            touched_years.add(year_key)
            if isinstance(record, Figure):
                self.by_metric[record.metric].append(record)
            self._index_extra(record)
        for kind in RECORD_KINDS:
            self.by_kind[kind].sort(key=_sort_key)
            self._kind_keys[kind] = [_sort_key(r) for r in self.by_kind[kind]]
        for year_key in touched_years:
            self.by_kind_year[year_key].sort(key=_sort_key)
        for figures in self.by_metric.values():
            figures.sort(key=_sort_key)

    def _index_extra(self, record: Any) -> None:
        if isinstance(record, Anniversary):
            self.anniversaries_by_day[(record.date.month, record.date.day)].append(record)
        elif isinstance(record, Event):
            self.events_by_day[record.date.first_day()].append(record)
        shown = set(words(visible_text(record)))
        for word in shown:
            self.shown_words[word].add(record.id)
        hidden = hidden_text(record)
        for word in shown | set(words(hidden)):
            self.by_word[word].add(record.id)
        for amount in amounts(visible_text(record)) | amounts(hidden) | _value_amounts(record):
            self.by_amount[amount].add(record.id)
        for word in set(words(name_text(record))):
            self.name_words[word].add(record.id)
        for name in names_of(record):
            self.by_name.setdefault(name_key(name), record.id)
        for source_id in record.sources:
            self.by_source[source_id][record.kind].append(record.id)

    def check_references(self, where: str) -> None:
        """Agreements name their occasion and anniversaries their event: both must exist; a record
        restating another (``same_as``) and a statement's speaker (``person``) must exist too."""
        for record in self.by_id.values():
            ref = getattr(record, "occasion", None) or getattr(record, "event", None)
            if ref and not isinstance(self.by_id.get(ref), Event):
                raise DataError(f"{where} (id {record.id!r}): refers to unknown event {ref!r}")
            if record.same_as and record.same_as not in self.by_id:
                raise DataError(
                    f"{where} (id {record.id!r}): same_as names unknown record {record.same_as!r}"
                )
            person = getattr(record, "person", None)
            if person and getattr(self.by_id.get(person), "kind", None) != "person":
                raise DataError(f"{where} (id {record.id!r}): names unknown person {person!r}")

    # -- queries --------------------------------------------------------------------------------

    def of_kind(self, kind: str) -> list[Any]:
        return self.by_kind[kind]

    def in_year(self, kind: str, year: int) -> list[Any]:
        return self.by_kind_year.get((kind, year), [])

    def years(self, kind: str) -> list[int]:
        return sorted(year for (k, year), records in self.by_kind_year.items() if k == kind and records)

    def figures(self, metric: str) -> list[Figure]:
        return self.by_metric.get(metric, [])

    def matching(
        self, query_words: list[str], limit: int, query_amounts: Iterable[str] = ()
    ) -> tuple[int, list[Any]]:
        """How many records hold every query word (and state every amount, as in :meth:`search`), and
        the newest ``limit`` of them."""
        if not query_words:
            return 0, []
        hits: set[str] | None = None
        # rarest word first: the running intersection stays as small as it can
        for word in sorted(set(query_words), key=lambda w: len(self.by_word.get(w, ()))):
            ids = self.by_word.get(word)
            if not ids:
                return 0, []
            hits = ids if hits is None else hits & ids
            if not hits:
                return 0, []
        assert hits is not None
        for amount in query_amounts:
            hits = hits & self.by_amount.get(amount, set())
        newest = heapq.nlargest(limit, (self.by_id[i] for i in hits), key=_sort_key)
        return len(hits), newest

    def search(
        self, query_words: list[str], limit: int, query_amounts: Iterable[str] = ()
    ) -> tuple[int, list[tuple[Any, bool]]]:
        """Records holding every query word, as ``(record, shown)`` pairs: matches in what an answer
        shows first (newest first), then matches only in notes or quoted sentences. A record restating
        another one that also matched (``same_as``) is left out, so one fact is listed once.
        ``query_amounts`` (facts.text.amounts of the query) must each be stated as a number: "4 billion"
        is not a list's "4." beside "$6 billion"."""
        hits = self.ids_with_all(query_words)
        for amount in query_amounts:
            hits = hits & self.by_amount.get(amount, set())
        if not hits:
            return 0, []
        # an anniversary restates its founding event (``event``) as a figure may restate a deal (``same_as``)
        hits = {i for i in hits if _restates(self.by_id[i]) not in hits}
        shown: set[str] | None = None
        for word in query_words:
            ids = self.shown_words.get(word, set())
            shown = (hits & ids) if shown is None else (shown & ids)
        shown = shown or set()
        named = set(shown)  # the query names the record itself (BAKAD -> the BAKAD project): first of all
        for word in query_words:
            named &= self.name_words.get(word, set())
        # within those, a record the query names exactly ("Samsung") before one whose name holds it
        # ("Household appliance production with Samsung Electronics")
        exact = " ".join(query_words)

        def naming(record: Any) -> tuple:
            names = (
                getattr(record, "name", None),
                getattr(record, "title", None),
                *getattr(record, "variants", ()),
            )
            return (any(n and name_key(n) == exact for n in names), _sort_key(record))

        first = heapq.nlargest(limit, (self.by_id[i] for i in named), key=naming)
        first += heapq.nlargest(limit - len(first), (self.by_id[i] for i in shown - named), key=_sort_key)
        rest = heapq.nlargest(limit - len(first), (self.by_id[i] for i in hits - shown), key=_sort_key)
        return len(hits), [(r, True) for r in first] + [(r, False) for r in rest]

    def ids_with_all(self, query_words: list[str]) -> set[str]:
        hits: set[str] | None = None
        for word in sorted(set(query_words), key=lambda w: len(self.by_word.get(w, ()))):
            ids = self.by_word.get(word)
            if not ids:
                return set()
            hits = ids if hits is None else hits & ids
            if not hits:
                return set()
        return hits or set()

    def shown_match(self, record_id: str, query_words: list[str]) -> bool:
        """Whether every query word is in what an answer shows of the record (not only in its notes)."""
        return all(record_id in self.shown_words.get(w, ()) for w in query_words)

    def entity(self, name: str) -> Any | None:
        """The person or organisation called ``name`` (any spelling variant), or None."""
        rid = self.by_name.get(name_key(name))
        return self.by_id.get(rid) if rid else None

    def mentions(self, record: Any) -> set[str]:
        """Ids of the records naming a person or organisation (by any of its names), itself excluded."""
        found: set[str] = set()
        for name in names_of(record):
            found |= self.ids_with_all(words(name))
        found.discard(record.id)
        return found

    def vocabulary(self) -> Iterable[str]:
        return self.by_word.keys()

    def source_label(self, source_id: str) -> str:
        source = self.sources[source_id]
        return f"{source.label()} · {source.file}" if source.file else source.label()

    def describe(self) -> str:
        """``7 sources, 33 figures, 18 agreements, 20 events, 4 anniversaries``: what is loaded."""
        counts = ", ".join(f"{len(self.of_kind(kind))} {word}" for kind, word in PLURALS.items())
        return f"{len(self.sources)} sources, {counts}"

    def __len__(self) -> int:
        return len(self.by_id)


def visible_text(record: Any) -> str:
    """What answers show of a record: its summary and descriptive fields (and its id, shown as a link)."""
    parts = [record.summary, record.id.replace("-", " ")]
    for name in VISIBLE_FIELDS:
        value = getattr(record, name, None)
        if isinstance(value, str):
            parts.append(value.replace("_", " "))
    for name in LIST_FIELDS:
        parts.extend(getattr(record, name, ()))
    parts.extend(_translated(record))
    return " ".join(parts)


def _translated(record: Any, names: tuple[str, ...] | None = None) -> list[str]:
    """The record's translations (Russian, Korean, Kazakh), so a search in any language finds it."""
    i18n = getattr(record, "i18n", {})
    return [text for name, texts in i18n.items() if names is None or name in names for text in texts.values()]


def hidden_text(record: Any) -> str:
    """What only /source shows: curator's notes, corrections and the quoted sentences."""
    parts = [record.note or "", record.correction or "", getattr(record, "derived", None) or ""]
    parts.extend(c.quote for c in record.cite)
    return " ".join(parts)


def _value_amounts(record: Any) -> set[str]:
    """A figure's value as a number query states it: a rank 4 is "4" (written "4th"), US$4 billion
    "4 billion" and "4"."""
    value = getattr(record, "value", None) if isinstance(record, Figure) else None
    if value is None:
        return set()
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if value >= scale:
            number = f"{value / scale:g}"
            return {number, f"{number} {word}"}
    return {f"{value:g}"}


def _restates(record: Any) -> str | None:
    return record.same_as or getattr(record, "event", None)


def name_text(record: Any) -> str:
    """A record's own name: a person's, organisation's or project's names, or an event's title."""
    parts = [getattr(record, "name", None) or "", getattr(record, "title", None) or ""]
    parts.extend(getattr(record, "variants", ()))
    parts.extend(_translated(record, ("name", "title")))
    return " ".join(parts)


def names_of(record: Any) -> tuple[str, ...]:
    name = getattr(record, "name", None)
    if record.kind not in ("person", "organisation") or not name:
        return ()
    return (name, *getattr(record, "variants", ()))


def name_key(name: str) -> str:
    return " ".join(words(name))


# -- loading the curated data ------------------------------------------------------------------


def _read_json(path: Path | Any, name: str) -> list[Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{name}: file missing") from None
    except ValueError as exc:
        raise DataError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise DataError(f"{name}: must hold a JSON list of records")
    return data


def load_catalogue(data_dir: Path | None = None) -> Catalogue:
    """Load and validate the curated files (the packaged ones unless ``data_dir`` is given)."""
    base = data_dir if data_dir is not None else resources.files("facts") / "data"
    loaded: dict[str, list[Any]] = {}
    for name, kind in DATA_FILES:
        raw = _read_json(base / name, name)
        loaded[kind] = [build_record(kind, item, f"{name} record {i}") for i, item in enumerate(raw)]
    catalogue = Catalogue(loaded["source"])
    if len(catalogue.sources) != len(loaded["source"]):
        raise DataError("sources.json: two sources share an id")
    catalogue.add_many(
        (record, f"{name} record {i}")
        for name, kind in DATA_FILES[1:]
        for i, record in enumerate(loaded[kind])
    )
    catalogue.check_references("data")
    return catalogue


# -- facts added at run time (the TinyDB fact store) --------------------------------------------


class FactStore:
    """The TinyDB file holding facts added with ``kazkor facts add`` (table ``facts``): read-mostly and
    small. Runtime state (subscriptions, the delivery ledger) lives in ``bot.state``, not here.

    Writes are crash-safe (``facts.storage``) and serialised between processes by ``<file>.lock``, held
    only for the write itself: an idle process never keeps it. Each write starts from the file as it is
    then (a fresh TinyDB), never from a stale copy.
    """

    WRITE_WAIT = 10.0  # seconds a write waits for another process's write

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _open(self, writing: bool = False) -> Any:
        from tinydb import TinyDB

        from facts.storage import AtomicJSONStorage

        db = TinyDB(self.path, storage=AtomicJSONStorage)
        if writing:
            storage = db.storage
            assert isinstance(storage, AtomicJSONStorage)
            storage.remove_leftovers()
            storage.may_move_aside = True
        return db

    def _docs(self) -> list[Any]:
        if not self.path.exists():
            return []
        db = self._open()
        try:
            return list(db.table("facts").all())
        finally:
            db.close()

    def add_fact(self, kind: str, raw: dict[str, Any], catalogue: Catalogue) -> Any:
        """Validate, index and persist a fact added at run time; nothing is written if it is refused."""
        (record,) = self.add_facts(kind, [raw], catalogue, "added fact")
        return record

    def add_facts(
        self, kind: str, raws: list[Any], catalogue: Catalogue, where: str | list[str] = "added fact"
    ) -> list[Any]:
        """Validate every record first, then persist all in one write and index them: all or nothing.
        A refused record raises :class:`DataError` naming it (``where``: one name, or one per record)."""
        from filelock import FileLock

        if kind not in RECORD_KINDS:
            raise DataError(f"state facts: unknown kind {kind!r}")
        named = where if isinstance(where, list) else [where] * len(raws)
        records = [build_record(kind, raw, name) for raw, name in zip(raws, named, strict=True)]
        seen: set[str] = set()
        for record, name in zip(records, named, strict=True):
            catalogue.check(record, name)
            if record.id in seen:
                raise DataError(f"{name} (id {record.id!r}): id used twice in this file")
            seen.add(record.id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, FileLock(f"{self.path}.lock", timeout=self.WRITE_WAIT, thread_local=False):
            db = self._open(writing=True)
            try:
                db.table("facts").insert_multiple({"kind": kind, "record": raw} for raw in raws)
            finally:
                db.close()
        for record, name in zip(records, named, strict=True):
            catalogue.add(record, name)
        return records

    def add_raw(self, docs: list[dict[str, Any]]) -> int:
        """Append stored documents ({"kind", "record"}) whose ids are not here yet (the migration of an
        old state file: safe to repeat). Returns how many were added."""
        from filelock import FileLock

        if not docs:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, FileLock(f"{self.path}.lock", timeout=self.WRITE_WAIT, thread_local=False):
            db = self._open(writing=True)
            try:
                table = db.table("facts")
                have = {
                    doc.get("record", {}).get("id")
                    for doc in table.all()
                    if isinstance(doc.get("record"), dict)
                }
                new = [
                    doc for doc in docs
                    if not (isinstance(doc.get("record"), dict) and doc["record"].get("id") in have)
                ]  # fmt: skip
                if new:
                    table.insert_multiple(new)
                return len(new)
            finally:
                db.close()

    def load_facts_into(self, catalogue: Catalogue) -> int:
        docs = self._docs()

        def records() -> Iterator[tuple[Any, str]]:
            for doc in docs:
                where = f"{self.path} facts document {doc.doc_id}"
                kind = doc.get("kind")
                if kind not in RECORD_KINDS:
                    raise DataError(f"{where}: unknown kind {kind!r}")
                yield build_record(kind, doc.get("record"), where), where

        catalogue.add_many(records())
        return len(docs)
