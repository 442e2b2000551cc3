"""The runtime state store: subscriptions, the delivery ledger and per-channel settings, on SQLite or
PostgreSQL through one SQLAlchemy Core code path.

Every method is blocking and short (one transaction, sized to the change, never to the history): call it
from a worker thread (``asyncio.to_thread``), never on the event loop. Transactions are never held across
a send.

Exactly once: a delivery key is the ledger's primary key. A claim is ``INSERT ... ON CONFLICT DO NOTHING``;
the insert that went in (its key comes back from ``RETURNING``: the row count of that statement) wins
and only its caller sends. The row stays "pending" until the post is accepted ("sent") or known not to have
reached the platform (the row is deleted, so the post may be tried again).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, literal, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.state import schema
from bot.state.engine import WRITE, make_engine, normalise_url
from bot.state.records import BadRecord, Subscription, encode, usable_fire_time
from bot.state.schema import channel_settings, ledger, meta, subscriptions

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 400
PRUNE_BATCH = 1000  # ledger rows deleted per transaction: a prune never holds a long lock
CHUNK = 500  # keys per IN (...) / rows per multi-row INSERT (far below SQLite's variable limit)
SCHEMA_LOCK = 0x6B617A01  # pg_advisory_xact_lock key serialising schema creation between replicas

PENDING, SENT = "pending", "sent"


class SchemaError(Exception):
    """The database holds a schema this kazkor does not know (a newer version wrote it)."""


@dataclass(frozen=True)
class Counts:
    subscriptions: int
    sent: int
    pending: int


def _split_key(key: str) -> tuple[str, str]:
    """``{platform}:{channel}:{rest}`` -> (platform, channel); other keys (tests) get empty ones."""
    parts = key.split(":", 2)
    return (parts[0], parts[1]) if len(parts) == 3 else ("", "")


def _chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StateStore:
    def __init__(
        self,
        url: str,
        *,
        name: str = "kazkor",
        retention_days: int = DEFAULT_RETENTION_DAYS,
        create: bool = True,
    ) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, name=name)
        self.backend = self.engine.dialect.name  # "sqlite" or "postgresql"
        self._writer = self.engine.execution_options(**WRITE)
        self.retention_days = retention_days
        # INSERT ... ON CONFLICT DO NOTHING in the backend's own dialect. Only that dialect is imported:
        # SQLAlchemy's postgresql package (with its four drivers' modules) is ~3 MB of RSS and ~35 ms of
        # start-up that a SQLite deployment never uses (issue 9: RSS < 100 MB).
        self._insert: Callable[[Table], Any]
        if self.backend == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self._insert = sqlite_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as postgresql_insert

            self._insert = postgresql_insert
        self._reported: set[str] = set()  # bad records already logged (each once per process)
        self._report_lock = threading.Lock()
        self.migration_message: str | None = None
        self.leader: Any = None  # the scheduler lock, when this process holds it (bot.state.leader)
        self._settings: dict[tuple[str, str], dict[str, Any]] = {}
        if create:  # (kazkor doctor only looks)
            self.ensure_schema()
            self.refresh_settings()

    # -- engine -----------------------------------------------------------------------------------

    def describe(self) -> str:
        """Where the state lives, without a password: ``SQLite /data/state.sqlite3``."""
        url = make_url(self.url)
        if self.backend == "sqlite":
            return f"SQLite {url.database}"
        return f"PostgreSQL {url.host or 'localhost'}:{url.port or 5432}/{url.database}"

    @property
    def sqlite_path(self) -> str | None:
        return make_url(self.url).database if self.backend == "sqlite" else None

    def ensure_schema(self) -> int:
        """Create the tables or bring them to :data:`schema.SCHEMA_VERSION`, once, under a lock."""
        with self._writer.begin() as conn:
            if self.backend == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            schema.metadata.create_all(conn)
            version = conn.execute(select(schema.schema_version.c.version)).scalar()
            if version is None:
                conn.execute(schema.schema_version.insert().values(id=1, version=schema.SCHEMA_VERSION))
                return schema.SCHEMA_VERSION
            if version > schema.SCHEMA_VERSION:
                raise SchemaError(
                    f"the state database has schema version {version}, newer than this kazkor's "
                    f"{schema.SCHEMA_VERSION}: upgrade kazkor"
                )
            for step in range(version + 1, schema.SCHEMA_VERSION + 1):
                for statement in schema.UPGRADES.get(step, []):
                    conn.exec_driver_sql(statement)
            if version != schema.SCHEMA_VERSION:
                conn.execute(update(schema.schema_version).values(version=schema.SCHEMA_VERSION))
                log.info("state: schema upgraded from version %d to %d", version, schema.SCHEMA_VERSION)
        return schema.SCHEMA_VERSION

    def schema_version(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(select(schema.schema_version.c.version)).scalar()

    def close(self) -> None:
        if self.leader is not None:
            self.leader.release()
        self.engine.dispose()

    # -- subscriptions ----------------------------------------------------------------------------

    def _parse(self, row: Any) -> Subscription | None:
        where = f"subscription {row.platform}:{row.channel}"
        try:
            doc = json.loads(row.doc)
        except (ValueError, RecursionError):
            doc = None
        try:
            if not isinstance(doc, dict):
                raise BadRecord(f"{where}: the stored record does not parse")
            return Subscription.from_dict({**doc, "platform": row.platform, "channel": row.channel}, where)
        except BadRecord as exc:
            with self._report_lock:
                first = where not in self._reported
                self._reported.add(where)
            if first:
                log.error("state: skipping a bad record: %s (fix it or /subscribe again there)", exc)
            return None

    def subscription_records(self, *, at: tuple[str, str] | None = None) -> list[Subscription]:
        """Every usable subscription (``at``: only the active ones firing at (HH:MM, zone)); bad records
        are skipped and logged with their id."""
        query = select(subscriptions).order_by(subscriptions.c.platform, subscriptions.c.channel)
        if at is not None:
            query = query.where(
                subscriptions.c.time == at[0], subscriptions.c.tz == at[1], subscriptions.c.active
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [sub for sub in map(self._parse, rows) if sub is not None]

    def subscriptions(self) -> list[dict[str, Any]]:
        return [sub.as_dict() for sub in self.subscription_records()]

    def subscriptions_at(self, at: tuple[str, str]) -> list[dict[str, Any]]:
        return [sub.as_dict() for sub in self.subscription_records(at=at)]

    def fire_times(self, platforms: Iterable[str] | None = None) -> set[tuple[str, str]]:
        """The distinct (HH:MM, zone) of the active subscriptions (on ``platforms``): one job each."""
        query = select(subscriptions.c.time, subscriptions.c.tz).where(subscriptions.c.active).distinct()
        if platforms is not None:
            query = query.where(subscriptions.c.platform.in_(sorted(platforms)))
        with self.engine.connect() as conn:
            times = {(row.time, row.tz) for row in conn.execute(query)}
        return {at for at in times if usable_fire_time(*at)}

    def subscription(self, platform: str, channel: str) -> dict[str, Any] | None:
        query = select(subscriptions).where(
            subscriptions.c.platform == platform, subscriptions.c.channel == str(channel)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        sub = self._parse(row) if row is not None else None
        return sub.as_dict() if sub is not None else None

    def _row(self, sub: Subscription) -> dict[str, Any]:
        return {
            "platform": sub.platform,
            "channel": sub.channel,
            "time": sub.time,
            "tz": sub.tz,
            "active": sub.active,
            "doc": encode(sub.as_dict()),
        }

    def save_subscription(self, doc: dict[str, Any] | Subscription) -> None:
        """Insert or replace the channel's subscription (checked first: a bad one raises BadRecord)."""
        sub = doc if isinstance(doc, Subscription) else Subscription.from_dict(doc, "new subscription")
        row = self._row(sub)
        stmt = self._insert(subscriptions).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "channel"],
            set_={name: stmt.excluded[name] for name in ("time", "tz", "active", "doc")},
        )
        with self._writer.begin() as conn:
            conn.execute(stmt)

    def save_subscriptions(self, docs: Iterable[dict[str, Any]]) -> int:
        """Many at once (migration, benchmarks): one transaction."""
        rows = [self._row(Subscription.from_dict(doc)) for doc in docs]
        with self._writer.begin() as conn:
            for chunk in _chunks(rows):
                stmt = self._insert(subscriptions).values(chunk)
                conn.execute(stmt.on_conflict_do_nothing(index_elements=["platform", "channel"]))
        return len(rows)

    def remove_subscription(self, platform: str, channel: str) -> bool:
        stmt = delete(subscriptions).where(
            subscriptions.c.platform == platform, subscriptions.c.channel == str(channel)
        )
        with self._writer.begin() as conn:
            return conn.execute(stmt).rowcount > 0

    def bad_records(self, *, log_them: bool = False) -> list[str]:
        """Each stored record that cannot be used, named (for ``kazkor doctor``; ``log_them``: at start,
        each logged once as it would be when read). Rows are streamed, not all held at once."""
        bad: list[str] = []
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=500).execute(select(subscriptions))
            for row in rows:
                if log_them:
                    if self._parse(row) is None:
                        bad.append(f"subscription {row.platform}:{row.channel}")
                    continue
                where = f"subscription {row.platform}:{row.channel}"
                try:
                    doc = json.loads(row.doc)
                    if not isinstance(doc, dict):
                        raise ValueError
                    Subscription.from_dict({**doc, "platform": row.platform, "channel": row.channel}, where)
                except BadRecord as exc:
                    bad.append(str(exc))
                except (ValueError, RecursionError):
                    bad.append(f"{where}: the stored record does not parse")
        return bad

    # -- ledger: claims and records ---------------------------------------------------------------------

    def _claim_row(self, key: str, details: dict[str, Any], now: float) -> dict[str, Any]:
        platform, channel = _split_key(key)
        return {
            "key": key,
            "status": PENDING,
            "platform": platform,
            "channel": channel,
            "day": details.get("day"),
            "created": now,
            "details": encode(details),
        }

    def claim_delivery(self, key: str, **details: Any) -> str:
        """ "claimed" (send it), "delivered" (sent before) or "pending" (another claim holds it: a send in
        flight elsewhere, or one interrupted by a crash, which is never resent)."""
        stmt = self._insert(ledger).values(**self._claim_row(key, details, time.time()))
        # RETURNING rather than rowcount: the row comes back only if this insert went in, on both backends
        # (psycopg reports rowcount -1 for an INSERT that SQLAlchemy compiles with RETURNING).
        stmt = stmt.on_conflict_do_nothing(index_elements=["key"]).returning(ledger.c.key)
        with self._writer.begin() as conn:
            if conn.execute(stmt).first() is not None:
                return "claimed"
            status = conn.execute(select(ledger.c.status).where(ledger.c.key == key)).scalar()
        return "delivered" if status == SENT else "pending"

    def release_claim(self, key: str) -> None:
        """Drop a pending claim whose send is known not to have reached the platform."""
        with self._writer.begin() as conn:
            conn.execute(delete(ledger).where(ledger.c.key == key, ledger.c.status == PENDING))

    def _record_stmt(self) -> Any:
        stmt = self._insert(ledger)
        return stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"status": SENT, "sent_at": stmt.excluded.sent_at, "details": stmt.excluded.details},
        )

    def _record_row(self, key: str, details: dict[str, Any], now: float) -> dict[str, Any]:
        row = self._claim_row(key, details, now)
        row.update(status=SENT, sent_at=details.get("sent_at"))
        return row

    def record_delivery(self, key: str, **details: Any) -> None:
        with self._writer.begin() as conn:
            conn.execute(self._record_stmt(), [self._record_row(key, details, time.time())])

    def apply_ledger_batch(
        self,
        releases: list[str],
        claims: list[tuple[str, dict[str, Any]]],
        records: list[tuple[str, dict[str, Any]]],
    ) -> list[str]:
        """Group commit for the delivery writer: releases, then claims, then records, in one transaction.
        Returns each claim's status as :meth:`claim_delivery` would (a key claimed twice in one batch:
        the first wins, the second is "pending")."""
        now = time.time()
        with self._writer.begin() as conn:
            for chunk in _chunks(releases):
                conn.execute(delete(ledger).where(ledger.c.key.in_(chunk), ledger.c.status == PENDING))
            won: set[str] = set()
            first: dict[str, dict[str, Any]] = {}
            for key, details in claims:
                first.setdefault(key, details)
            rows = [self._claim_row(key, details, now) for key, details in first.items()]
            for chunk in _chunks(rows):
                stmt = self._insert(ledger).values(chunk).on_conflict_do_nothing(index_elements=["key"])
                won.update(conn.execute(stmt.returning(ledger.c.key)).scalars())
            lost = [key for key in first if key not in won]
            existing: dict[str, str] = {}
            for chunk in _chunks(lost):
                query = select(ledger.c.key, ledger.c.status).where(ledger.c.key.in_(chunk))
                existing.update((row.key, row.status) for row in conn.execute(query))
            if records:
                conn.execute(self._record_stmt(), [self._record_row(k, d, now) for k, d in records])
        statuses: list[str] = []
        answered: set[str] = set()
        for key, _ in claims:
            if key in won and key not in answered:
                statuses.append("claimed")
            elif key in won or existing.get(key) != SENT:
                statuses.append("pending")
            else:
                statuses.append("delivered")
            answered.add(key)
        return statuses

    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        """key -> "sent" or "pending" for the keys the ledger holds (one query per 500 keys)."""
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(sorted(set(keys))):
                query = select(ledger.c.key, ledger.c.status).where(ledger.c.key.in_(chunk))
                found.update((row.key, row.status) for row in conn.execute(query))
        return found

    def delivered(self, key: str) -> bool:
        return self.statuses([key]).get(key) == SENT

    def _rows(self, status: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ledger).where(ledger.c.status == status).order_by(ledger.c.created))
            return [{**json.loads(row.details or "{}"), "key": row.key} for row in rows]

    def ledger(self) -> list[dict[str, Any]]:
        """Every sent entry (tests and small tools: not for a hot path)."""
        return self._rows(SENT)

    def unconfirmed_claims(self) -> list[dict[str, Any]]:
        """Pending claims: sends in flight now, or interrupted by a crash (never re-sent)."""
        return self._rows(PENDING)

    def counts(self) -> Counts:
        with self.engine.connect() as conn:
            subs = conn.execute(select(func.count()).select_from(subscriptions)).scalar() or 0
            rows = conn.execute(select(ledger.c.status, func.count()).group_by(ledger.c.status)).all()
            by_status: dict[str, int] = {status: count for status, count in rows}
        return Counts(subs, by_status.get(SENT, 0), by_status.get(PENDING, 0))

    def prune_ledger(self, *, days: int | None = None, now: float | None = None, batch: int = PRUNE_BATCH,
                     max_batches: int | None = None) -> int:  # fmt: skip
        """Delete sent entries older than the retention window, ``batch`` rows per short transaction;
        pending claims are kept whatever their age. Returns how many went."""
        cutoff = (now if now is not None else time.time()) - 86400 * (days or self.retention_days)
        total = batches = 0
        while max_batches is None or batches < max_batches:
            old = (
                select(ledger.c.key)
                .where(ledger.c.status == SENT, ledger.c.created < cutoff)
                .limit(batch)
                .scalar_subquery()
            )
            with self._writer.begin() as conn:
                gone = conn.execute(delete(ledger).where(ledger.c.key.in_(old))).rowcount
            total += gone
            batches += 1
            if gone < batch:
                break
        if total:
            log.info("state: pruned %d ledger entries older than %d days", total, days or self.retention_days)
        return total

    # -- moves ------------------------------------------------------------------------------------------

    def move_subscription(self, platform: str, old: str, new: str) -> dict[str, Any] | None:
        """Move a subscription to a new channel id with its ledger entries (a Telegram group that became
        a supergroup). If one exists at the new id it is kept and the old one removed."""
        old, new = str(old), str(new)
        old_prefix, new_prefix = f"{platform}:{old}:", f"{platform}:{new}:"
        at = {"old": and_(ledger.c.platform == platform, ledger.c.channel == old)}
        rekeyed = literal(new_prefix) + func.substr(ledger.c.key, len(old_prefix) + 1)
        with self._writer.begin() as conn:
            current = conn.execute(
                select(subscriptions).where(
                    subscriptions.c.platform == platform, subscriptions.c.channel == new
                )
            ).first()
            moving = conn.execute(
                select(subscriptions).where(
                    subscriptions.c.platform == platform, subscriptions.c.channel == old
                )
            ).first()
            conn.execute(
                delete(subscriptions).where(
                    subscriptions.c.platform == platform, subscriptions.c.channel == old
                )
            )
            if current is None and moving is not None:
                doc = json.loads(moving.doc)
                doc["channel"] = new
                conn.execute(subscriptions.insert().values(
                    platform=platform, channel=new, time=moving.time, tz=moving.tz, active=moving.active,
                    doc=encode(doc),
                ))  # fmt: skip
            # the channel's settings (its language) move with it unless the new id has its own
            has_own = conn.execute(
                select(func.count()).select_from(channel_settings).where(
                    channel_settings.c.platform == platform, channel_settings.c.channel == new
                )
            ).scalar()
            if not has_own:
                conn.execute(
                    update(channel_settings)
                    .where(channel_settings.c.platform == platform, channel_settings.c.channel == old)
                    .values(channel=new)
                )
            taken = select(ledger.c.key).where(ledger.c.platform == platform, ledger.c.channel == new)
            conn.execute(delete(ledger).where(at["old"], rekeyed.in_(taken)))
            conn.execute(update(ledger).where(at["old"]).values(key=rekeyed, channel=new))
        self.refresh_settings()
        return self.subscription(platform, new)

    # -- per-channel settings --------------------------------------------------------------------------
    # Every command reads its channel's language, on the event loop: so settings are answered from memory.
    # The whole table (one row per channel and setting: small) is read at open and again by
    # :meth:`refresh_settings` (the scheduler's housekeeping, on a worker thread) so a change made through
    # another replica arrives within seconds; this process's own writes update the memory at once.

    def refresh_settings(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(channel_settings)).all()
        fresh: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            try:
                value = json.loads(row.value)
            except ValueError:
                value = row.value
            fresh.setdefault((row.platform, row.channel), {})[row.name] = value
        self._settings = fresh

    def channel_setting(self, platform: str, channel: str, name: str) -> Any:
        """A channel's setting (e.g. its answer language), from memory: None when unset."""
        return self._settings.get((platform, str(channel)), {}).get(name)

    def channel_settings(self, platform: str, channel: str) -> dict[str, Any]:
        return dict(self._settings.get((platform, str(channel)), {}))

    def save_channel_setting(self, platform: str, channel: str, name: str, value: Any) -> None:
        """Set (or, with None, remove) one setting of a channel."""
        channel = str(channel)
        where = and_(
            channel_settings.c.platform == platform,
            channel_settings.c.channel == channel,
            channel_settings.c.name == name,
        )
        with self._writer.begin() as conn:
            if value is None:
                conn.execute(delete(channel_settings).where(where))
            else:
                stmt = self._insert(channel_settings).values(
                    platform=platform, channel=channel, name=name, value=json.dumps(value)
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["platform", "channel", "name"], set_={"value": stmt.excluded.value}
                    )
                )
        values = dict(self._settings.get((platform, channel), {}))
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
        self._settings = {**self._settings, (platform, channel): values}

    # -- meta -------------------------------------------------------------------------------------------

    def get_meta(self, conn: Connection, name: str) -> str | None:
        return conn.execute(select(meta.c.value).where(meta.c.name == name)).scalar()


__all__ = ["Counts", "SchemaError", "StateStore", "SQLAlchemyError"]
