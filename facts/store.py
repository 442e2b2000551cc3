"""The fact store: curated data (read-only, indexed in memory) and runtime state (TinyDB).

* :class:`Catalogue` holds every record the bot can answer from: the curated files shipped in
  ``facts/data`` plus facts added later through the state file. Everything a command needs is answered
  from in-memory indexes (by id, kind, year, metric and word): no query reads a file or scans a table.
* :class:`StateStore` is the TinyDB file at ``KAZKOR_DB``: subscriptions, the delivery ledger and
  added facts. Every access goes through one lock; writes are crash-safe (see ``facts.storage``).
"""

from __future__ import annotations

import bisect
import heapq
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from facts.model import Anniversary, DataError, Event, Figure, Source, build_record
from facts.text import words

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
        self._kind_keys: dict[str, list[tuple]] = {kind: [] for kind in RECORD_KINDS}
        self.by_kind_year: dict[tuple[str, int], list[Any]] = defaultdict(list)
        self.by_metric: dict[str, list[Figure]] = defaultdict(list)
        self.by_word: dict[str, set[str]] = defaultdict(set)  # every word of a record, shown or not
        self.shown_words: dict[str, set[str]] = defaultdict(set)  # words of what an answer shows
        self.name_words: dict[str, set[str]] = defaultdict(set)  # words of a record's name or title
        # people and organisations by each of their names, folded by facts.text.words
        self.by_name: dict[str, str] = {}
        self.by_source: dict[str, list[str]] = defaultdict(list)  # source id -> ids of records citing it
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
        for word in shown | set(words(hidden_text(record))):
            self.by_word[word].add(record.id)
        for word in set(words(name_text(record))):
            self.name_words[word].add(record.id)
        for name in names_of(record):
            self.by_name.setdefault(name_key(name), record.id)
        for source_id in record.sources:
            self.by_source[source_id].append(record.id)

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

    def matching(self, query_words: list[str], limit: int) -> tuple[int, list[Any]]:
        """How many records hold every query word, and the newest ``limit`` of them."""
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
        newest = heapq.nlargest(limit, (self.by_id[i] for i in hits), key=_sort_key)
        return len(hits), newest

    def search(self, query_words: list[str], limit: int) -> tuple[int, list[tuple[Any, bool]]]:
        """Records holding every query word, as ``(record, shown)`` pairs: matches in what an answer
        shows first (newest first), then matches only in notes or quoted sentences. A record restating
        another one that also matched (``same_as``) is left out, so one fact is listed once."""
        hits = self.ids_with_all(query_words)
        if not hits:
            return 0, []
        hits = {i for i in hits if self.by_id[i].same_as not in hits}
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
    return " ".join(parts)


def hidden_text(record: Any) -> str:
    """What only /source shows: curator's notes, corrections and the quoted sentences."""
    parts = [record.note or "", record.correction or "", getattr(record, "derived", None) or ""]
    parts.extend(c.quote for c in record.cite)
    return " ".join(parts)


def name_text(record: Any) -> str:
    """A record's own name: a person's, organisation's or project's names, or an event's title."""
    parts = [getattr(record, "name", None) or "", getattr(record, "title", None) or ""]
    parts.extend(getattr(record, "variants", ()))
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


# -- runtime state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StateInfo:
    path: Path
    moved_aside: Path | None
    message: str | None


class StateBusy(Exception):
    """Another process is the state file's writer (``kazkor run``, ``post-due``...)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the state file {path} is in use by another kazkor process (kazkor run or post-due). "
            f"Only one process may change it: stop that one first, or change subscriptions in the chat."
        )
        self.path = path


class StateStore:
    """The TinyDB state file. One lock serialises every access, from threads and the event loop alike.

    Tables: ``subscriptions``, ``ledger`` (what was delivered), ``facts`` (records added at run time) and
    ``settings`` (per channel, e.g. the answer language).
    The ledger's keys are also kept in a set in memory so "was this sent?" never scans the table.

    One process at a time may write the file: the writer holds ``<state file>.lock`` (an OS file lock,
    released by the kernel even when the process is killed). ``exclusive=True`` takes it at open and
    raises :class:`StateBusy` if another process has it (``kazkor run``, ``post-due``). Otherwise it is
    taken at the first write, after re-reading the file so that write starts from the writer's last
    state, never from a stale copy; if another process has it, the write raises :class:`StateBusy`
    and nothing is written. Reading never needs the lock (writes are atomic renames).
    """

    def __init__(self, path: str | Path, *, exclusive: bool = False) -> None:
        from filelock import FileLock  # imported here so `kazkor ask` without state stays light

        self.path = Path(path)
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # thread_local=False: methods run on worker threads too, and the lock belongs to the process.
        self._writer = FileLock(f"{self.path}.lock", timeout=0, thread_local=False)
        if exclusive:
            self._become_writer()
        self._open()

    def _open(self) -> None:
        from tinydb import TinyDB

        from facts.storage import AtomicJSONStorage

        self.db = TinyDB(self.path, storage=AtomicJSONStorage)
        storage = self.db.storage
        assert isinstance(storage, AtomicJSONStorage)
        if self._writer.is_locked:
            storage.remove_leftovers()
            storage.may_move_aside = True
        self.db.tables()  # first read: a corrupt file is moved aside now, not in the middle of a command
        self.info = StateInfo(self.path, storage.moved_aside, storage.corruption_message)
        self._ledger_keys: set[str] = {doc["key"] for doc in self.db.table("ledger").all()}
        self._claims: set[str] | None = None
        # (platform, channel) -> settings; every command reads its channel's language, so in memory
        self._settings: dict[tuple[str, str], dict[str, Any]] = {
            (doc["platform"], doc["channel"]): dict(doc.get("values") or {})
            for doc in self.db.table("settings").all()
        }

    def _become_writer(self) -> None:
        from filelock import Timeout

        try:
            self._writer.acquire()
        except Timeout:
            raise StateBusy(self.path) from None

    def _writing(self) -> None:
        """Called (under ``_lock``) before every write: make this process the writer if it is not."""
        if self._writer.is_locked:
            return
        self._become_writer()
        # Another process may have written since we read: start again from the file. TinyDB caches
        # query results and id counters per table, so a fresh TinyDB, not just a fresh read.
        self.db.close()
        self._open()

    @property
    def is_writer(self) -> bool:
        return self._writer.is_locked

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def close(self) -> None:
        with self._lock:
            self.db.close()
            if self._writer.is_locked:
                self._writer.release()

    # -- added facts ----------------------------------------------------------------------------

    def add_fact(self, kind: str, raw: dict[str, Any], catalogue: Catalogue) -> Any:
        """Validate, index and persist a fact added at run time; nothing is written if it is refused."""
        (record,) = self.add_facts(kind, [raw], catalogue, "added fact")
        return record

    def add_facts(
        self, kind: str, raws: list[Any], catalogue: Catalogue, where: str | list[str] = "added fact"
    ) -> list[Any]:
        """Validate every record first, then persist all in one write and index them: all or nothing.
        A refused record raises :class:`DataError` naming it (``where``: one name, or one per record)."""
        if kind not in RECORD_KINDS:
            raise DataError(f"state facts: unknown kind {kind!r}")
        named = where if isinstance(where, list) else [where] * len(raws)
        records = [build_record(kind, raw, name) for raw, name in zip(raws, named, strict=True)]
        with self._lock:
            self._writing()
            seen: set[str] = set()
            for record, name in zip(records, named, strict=True):
                catalogue.check(record, name)
                if record.id in seen:
                    raise DataError(f"{name} (id {record.id!r}): id used twice in this file")
                seen.add(record.id)
            self.db.table("facts").insert_multiple({"kind": kind, "record": raw} for raw in raws)
            for record, name in zip(records, named, strict=True):
                catalogue.add(record, name)
        return records

    def load_facts_into(self, catalogue: Catalogue) -> int:
        with self._lock:
            docs = self.db.table("facts").all()

        def records() -> Iterator[tuple[Any, str]]:
            for doc in docs:
                where = f"{self.path} facts document {doc.doc_id}"
                kind = doc.get("kind")
                if kind not in RECORD_KINDS:
                    raise DataError(f"{where}: unknown kind {kind!r}")
                yield build_record(kind, doc.get("record"), where), where

        catalogue.add_many(records())
        return len(docs)

    # -- subscriptions ----------------------------------------------------------------------------

    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(doc) for doc in self.db.table("subscriptions").all()]

    def subscription(self, platform: str, channel: str) -> dict[str, Any] | None:
        with self._lock:
            for doc in self.db.table("subscriptions").all():
                if doc["platform"] == platform and doc["channel"] == channel:
                    return dict(doc)
        return None

    def save_subscription(self, sub: dict[str, Any]) -> None:
        from tinydb import where

        with self._lock:
            self._writing()
            table = self.db.table("subscriptions")
            cond = (where("platform") == sub["platform"]) & (where("channel") == sub["channel"])
            table.upsert(dict(sub), cond)

    def remove_subscription(self, platform: str, channel: str) -> bool:
        from tinydb import where

        with self._lock:
            self._writing()
            table = self.db.table("subscriptions")
            removed = table.remove((where("platform") == platform) & (where("channel") == channel))
        return bool(removed)

    # -- per-channel settings (e.g. the answer language) -------------------------------------------

    def channel_setting(self, platform: str, channel: str, name: str) -> Any:
        with self._lock:
            return self._settings.get((platform, channel), {}).get(name)

    def save_channel_setting(self, platform: str, channel: str, name: str, value: Any) -> None:
        from tinydb import where

        with self._lock:
            self._writing()
            values = {**self._settings.get((platform, channel), {}), name: value}
            cond = (where("platform") == platform) & (where("channel") == channel)
            self.db.table("settings").upsert(
                {"platform": platform, "channel": channel, "values": values}, cond
            )
            self._settings[(platform, channel)] = values

    # -- delivery ledger ----------------------------------------------------------------------------

    def delivered(self, key: str) -> bool:
        with self._lock:
            return key in self._ledger_keys

    def record_delivery(self, key: str, **details: Any) -> None:
        with self._lock:
            self._writing()
            if key in self._ledger_keys:
                return
            self.db.table("ledger").insert({"key": key, **details})
            self._ledger_keys.add(key)

    def ledger(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(doc) for doc in self.db.table("ledger").all()]

    # -- delivery claims (issue 4: a "pending" mark written before each send) ------------------------

    def _claim_keys(self) -> set[str]:
        keys = self._claims
        if keys is None:
            keys = self._claims = {doc["key"] for doc in self.db.table("pending").all()}
        return keys

    def claim_delivery(self, key: str, **details: Any) -> str:
        """Write a "pending" mark for ``key`` before sending it, unless it is already sent or claimed.

        Returns "claimed" (go ahead and send), "delivered" (in the ledger) or "pending" (a mark is
        already there: a send of this key started earlier and was never confirmed nor released).
        """
        with self._lock:
            self._writing()
            if key in self._ledger_keys:
                return "delivered"
            claims = self._claim_keys()
            if key in claims:
                return "pending"
            self.db.table("pending").insert({"key": key, **details})
            claims.add(key)
            return "claimed"

    def release_claim(self, key: str) -> None:
        """Drop the pending mark of a send known not to have reached the platform."""
        from tinydb import where

        with self._lock:
            self._writing()
            claims = self._claim_keys()
            if key in claims:
                self.db.table("pending").remove(where("key") == key)
                claims.discard(key)

    def unconfirmed_claims(self) -> list[dict[str, Any]]:
        """Pending marks with no ledger entry: sends interrupted by a crash (never re-sent)."""
        with self._lock:
            return [dict(d) for d in self.db.table("pending").all() if d["key"] not in self._ledger_keys]

    def prune_claims(self) -> int:
        """Remove the pending marks of keys that reached the ledger (they are no longer needed)."""
        from tinydb import where

        with self._lock:
            self._writing()
            claims = self._claim_keys()
            done = claims & self._ledger_keys
            if done:
                self.db.table("pending").remove(where("key").one_of(sorted(done)))
                claims -= done
            return len(done)

    def move_subscription(self, platform: str, old: str, new: str) -> dict[str, Any] | None:
        """Move a subscription to a new channel id, with its ledger keys, pending marks and settings.

        Keys have the form ``{platform}:{channel}:{rest}``. If a subscription already exists at the
        new id, it is kept and the old one is removed. Returns the subscription now at ``new``.
        """
        from tinydb import where

        old_prefix, new_prefix = f"{platform}:{old}:", f"{platform}:{new}:"

        def rekey(doc: dict) -> None:
            doc["key"] = new_prefix + doc["key"][len(old_prefix) :]

        moved = where("key").test(lambda k: isinstance(k, str) and k.startswith(old_prefix))
        with self._lock:
            self._writing()
            subs = self.db.table("subscriptions")
            at_old = (where("platform") == platform) & (where("channel") == old)
            at_new = (where("platform") == platform) & (where("channel") == new)
            if subs.get(at_new) is not None:
                subs.remove(at_old)
            else:
                subs.update({"channel": new}, at_old)
            for name, keys in (("ledger", self._ledger_keys), ("pending", self._claim_keys())):
                table = self.db.table(name)
                if any(k.startswith(old_prefix) for k in keys):
                    table.update(rekey, moved)
                    for k in [k for k in keys if k.startswith(old_prefix)]:
                        keys.discard(k)
                        keys.add(new_prefix + k[len(old_prefix) :])
            # the channel's settings (its language) move with it unless the new id has its own
            if (platform, old) in self._settings and (platform, new) not in self._settings:
                self.db.table("settings").update({"channel": new}, at_old)
                self._settings[(platform, new)] = self._settings.pop((platform, old))
            doc = subs.get(at_new)
            return dict(doc) if doc is not None else None

    def apply_ledger_batch(
        self,
        releases: list[str],
        claims: list[tuple[str, dict[str, Any]]],
        records: list[tuple[str, dict[str, Any]]],
    ) -> list[str]:
        """Group commit for the delivery writer: releases, claims and records in one file write.

        A recorded key's pending mark is dropped in the same write (the ledger entry supersedes it).
        Returns the status of each claim, as :meth:`claim_delivery` would (checked in order).

        TinyDB writes the whole file on every table operation, so this edits the two tables' raw data
        and writes once; the tables' id counters and query caches are reset afterwards.
        """
        with self._lock:
            self._writing()
            pending = self._claim_keys()
            released = set(releases)
            statuses: list[str] = []
            new_claims: dict[str, dict[str, Any]] = {}
            for key, details in claims:
                if key in self._ledger_keys:
                    statuses.append("delivered")
                elif (key in pending and key not in released) or key in new_claims:
                    statuses.append("pending")
                else:
                    statuses.append("claimed")
                    new_claims[key] = {"key": key, **details}
            new_records: dict[str, dict[str, Any]] = {}
            for key, details in records:
                if key not in self._ledger_keys and key not in new_records:
                    new_records[key] = {"key": key, **details}
            # releases come first (a key released and claimed again in one batch keeps its new mark);
            # a recorded key's mark goes (the ledger entry supersedes it)
            drop = (released & pending) | set(new_records)
            added = [doc for key, doc in new_claims.items() if key not in new_records]
            if not (drop & pending or added or new_records):
                return statuses
            data = self.db.storage.read() or {}
            pending_table = {k: v for k, v in data.get("pending", {}).items() if v.get("key") not in drop}
            next_id = _next_doc_id(pending_table)
            for doc in added:
                pending_table[str(next_id)] = doc
                next_id += 1
            ledger_table = dict(data.get("ledger", {}))
            next_id = _next_doc_id(ledger_table)
            for doc in new_records.values():
                ledger_table[str(next_id)] = doc
                next_id += 1
            data = {**data, "pending": pending_table, "ledger": ledger_table}
            self.db.storage.write(data)  # one atomic, fsynced write; raises before anything below
            for name in ("pending", "ledger"):
                table = self.db.table(name)
                table._next_id = None  # TinyDB 4.x: recount ids on the next insert
                table.clear_cache()
            pending.difference_update(drop)
            pending.update(doc["key"] for doc in added)
            self._ledger_keys.update(new_records)
            return statuses


def _next_doc_id(table: dict[str, Any]) -> int:
    return max((int(k) for k in table), default=0) + 1
