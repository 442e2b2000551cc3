"""Moving an older kazkor's TinyDB state file (``KAZKOR_DB``, JSON) into the state database, once.

What moves: subscriptions, delivery ledger entries and pending marks into the database in one
transaction (all or nothing), added facts into the TinyDB fact store. The transaction also notes the
file as migrated, so a second start (or a second replica racing this one) moves nothing twice; then the
file is renamed ``<name>.migrated-<UTC stamp>`` and kept. A record that cannot be used is skipped and
named in the log line (it stays readable in the kept file).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bot.state.records import BadRecord, Subscription, encode
from bot.state.schema import channel_settings, ledger, meta, subscriptions
from bot.state.store import CHUNK, PENDING, SCHEMA_LOCK, SENT, StateStore, _split_key

log = logging.getLogger(__name__)


class LegacyUnreadable(Exception):
    """The old state file does not parse: nothing was migrated and it was left in place."""


def _table(data: dict[str, Any], name: str, skipped: list[str]) -> list[tuple[str, Any]]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        skipped.append(f"table {name!r} is a {type(table).__name__}, not a table")
        return []
    return list(table.items())


def _epoch(text: Any) -> float:
    try:
        moment = datetime.fromisoformat(str(text))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        return time.time()


def _ledger_row(key: str, doc: dict[str, Any], status: str) -> dict[str, Any]:
    details = {k: v for k, v in doc.items() if k != "key"}
    platform, channel = _split_key(key)
    return {
        "key": key,
        "status": status,
        "platform": platform,
        "channel": channel,
        "day": str(doc.get("day")) if doc.get("day") else None,
        "created": _epoch(doc.get("sent_at") or doc.get("at")),
        "sent_at": str(doc.get("sent_at")) if doc.get("sent_at") else None,
        "details": encode(details),
    }


@dataclass(frozen=True)
class Legacy:
    """What an old state file holds, ready to insert; ``skipped`` names each record that cannot be used."""

    subscriptions: list[Subscription]
    sent: list[dict]
    pending: list[dict]
    facts: list[dict]
    settings: list[dict]
    skipped: list[str]


def read_legacy(path: Path) -> Legacy:
    """What an old state file holds (:class:`Legacy`)."""
    try:
        data = json.loads(path.read_bytes() or b"{}")
    except (ValueError, RecursionError) as exc:
        raise LegacyUnreadable(f"{path} does not parse ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LegacyUnreadable(f"{path} is not a kazkor state file (not a JSON object)")
    skipped: list[str] = []
    subs: dict[tuple[str, str], Subscription] = {}
    for doc_id, doc in _table(data, "subscriptions", skipped):
        try:
            sub = Subscription.from_dict(doc, f"subscriptions document {doc_id}")
        except BadRecord as exc:
            skipped.append(str(exc))
            continue
        subs[sub.key] = sub
    sent: dict[str, dict] = {}
    for doc_id, doc in _table(data, "ledger", skipped):
        if not isinstance(doc, dict) or not isinstance(doc.get("key"), str):
            skipped.append(f"ledger document {doc_id}: no key")
            continue
        sent.setdefault(doc["key"], _ledger_row(doc["key"], doc, SENT))
    pending: dict[str, dict] = {}
    for doc_id, doc in _table(data, "pending", skipped):
        if not isinstance(doc, dict) or not isinstance(doc.get("key"), str):
            skipped.append(f"pending document {doc_id}: no key")
            continue
        if doc["key"] not in sent:
            pending.setdefault(doc["key"], _ledger_row(doc["key"], doc, PENDING))
    settings: list[dict] = []
    for doc_id, doc in _table(data, "settings", skipped):
        values = doc.get("values") if isinstance(doc, dict) else None
        if not isinstance(values, dict) or not doc.get("platform") or doc.get("channel") in (None, ""):
            skipped.append(f"settings document {doc_id}: no channel or values")
            continue
        for name, value in values.items():
            settings.append({"platform": str(doc["platform"]), "channel": str(doc["channel"]),
                             "name": str(name), "value": json.dumps(value)})  # fmt: skip
    facts = []
    for doc_id, doc in _table(data, "facts", skipped):
        if isinstance(doc, dict) and "kind" in doc:
            facts.append(doc)
        else:
            skipped.append(f"facts document {doc_id}: not a fact")
    return Legacy(list(subs.values()), list(sent.values()), list(pending.values()), facts, settings, skipped)


def migrate_tinydb(store: StateStore, legacy: Path, fact_store: Any) -> str | None:
    """Migrate ``legacy`` if it is an old state file not migrated yet; returns the log line (None when
    there was nothing to do). Raises :class:`LegacyUnreadable` for a file that does not parse."""
    if not legacy.is_file() or legacy.suffix != ".json":
        return None
    old = read_legacy(legacy)
    subs, sent, pending, facts, skipped = old.subscriptions, old.sent, old.pending, old.facts, old.skipped
    marker = f"migrated:{legacy.resolve()}"
    moved_facts = fact_store.add_raw(facts)  # safe to repeat: facts already there are not added again
    with store._writer.begin() as conn:
        if store.backend == "postgresql":  # two replicas starting at once: one migrates, one waits
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
        already = conn.execute(select(meta.c.value).where(meta.c.name == marker)).scalar()
        if already is None:
            rows = [store._row(sub) for sub in subs]
            for start in range(0, len(rows), CHUNK):
                stmt = store._insert(subscriptions).values(rows[start : start + CHUNK])
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["platform", "channel"]))
            entries = sent + pending
            for start in range(0, len(entries), CHUNK):
                stmt = store._insert(ledger).values(entries[start : start + CHUNK])
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            for start in range(0, len(old.settings), CHUNK):
                stmt = store._insert(channel_settings).values(old.settings[start : start + CHUNK])
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["platform", "channel", "name"]))
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            conn.execute(meta.insert().values(name=marker, value=stamp))
    kept = legacy.with_name(f"{legacy.name}.migrated-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    try:
        os.replace(legacy, kept)
    except FileNotFoundError:  # another process renamed it first
        return None
    if already is not None:
        return f"state: {legacy} was migrated before ({already}); kept it as {kept}"
    line = (
        f"state: migrated {legacy} into {store.describe()}: {len(subs)} subscriptions, {len(sent)} ledger "
        f"entries, {len(pending)} pending claims, {len(old.settings)} channel settings; {moved_facts} added "
        f"facts into {fact_store.path}; "
        f"old file kept as {kept}"
    )
    store.refresh_settings()
    if skipped:
        line += f"; skipped {len(skipped)} bad records: " + "; ".join(skipped[:20])
    return line
