"""Who runs the scheduler: one process per deployment (rate limits are per bot token, so the leader alone
sends scheduled posts).

* PostgreSQL: a session-level ``pg_try_advisory_lock`` held on a dedicated connection for as long as the
  process leads (a transaction-level lock would go at the first commit). The server drops the lock when
  that session ends: a killed leader's socket closes at once, a silent network loss within the TCP
  keepalive time. A leader that cannot reach the server any more (the heartbeat fails) stops scheduling
  at once, before another may have taken over.
* SQLite: an OS file lock beside the database (``<db>.leader.lock``), released by the kernel when the
  holder dies; ``<db>.leader`` names the holder. One `kazkor run` per file, as before.

:class:`Leadership` runs the loop inside ``kazkor run``: try every ``retry`` seconds while following,
check every ``heartbeat`` seconds while leading. Followers take over within ``retry`` seconds of the lock
going; a takeover starts the scheduler, whose catch-up posts what today still lacks. The ledger's claims
make a double post impossible even in the moment two processes both believe they lead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.state.engine import make_engine, process_name

log = logging.getLogger(__name__)

LOCK_KEY = 0x6B617A6B  # "kazk": the scheduler's advisory lock (classid 0, objid this)
RETRY = 5.0
HEARTBEAT = 5.0


class LeaderBusy(Exception):
    """Another process holds the scheduler lock; the message names it."""


class SqliteLeaderLock:
    def __init__(self, db_path: str | Path, command: str = "kazkor") -> None:
        from filelock import FileLock

        self.path = Path(db_path)
        self.info = self.path.with_name(f"{self.path.name}.leader")
        self.command = command
        self._lock = FileLock(f"{self.path}.leader.lock", timeout=0, thread_local=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def try_acquire(self) -> bool:
        from filelock import Timeout

        if self._lock.is_locked:
            return True
        try:
            self._lock.acquire()
        except Timeout:
            return False
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        who = {"command": self.command, "pid": os.getpid(), "host": socket.gethostname(), "since": since}
        self.info.write_text(json.dumps(who))
        return True

    def alive(self) -> bool:
        return self._lock.is_locked

    def release(self) -> None:
        if self._lock.is_locked:
            self.info.unlink(missing_ok=True)
            self._lock.release(force=True)

    def holder(self) -> str | None:
        """Who holds the lock ("kazkor run pid 123 on host since ..."), or None when nobody does."""
        if self._lock.is_locked:
            return f"this process (pid {os.getpid()})"
        from filelock import FileLock, Timeout

        probe = FileLock(f"{self.path}.leader.lock", timeout=0, thread_local=False)
        try:
            with probe:
                return None
        except Timeout:
            pass
        try:
            info = json.loads(self.info.read_text())
            return f"{info['command']} pid {info['pid']} on {info['host']} since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another kazkor process (it did not name itself)"


class PostgresLeaderLock:
    def __init__(self, url: str, command: str = "kazkor") -> None:
        self.name = process_name(command)
        self.engine = make_engine(url, name=self.name, pool=False)
        self._conn: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def alive(self) -> bool:
        """The leader's heartbeat: the session holding the lock still answers (and still holds it)."""
        if self._conn is None:
            return False
        try:
            query = text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k AND classid = 0 "
                "AND granted AND pid = pg_backend_pid()"
            )
            return bool(self._conn.execute(query, {"k": LOCK_KEY}).scalar())
        except Exception:  # noqa: BLE001 - any failure means the session (and the lock) may be gone
            log.warning("leader: the database connection holding the scheduler lock failed", exc_info=True)
            return False

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        except Exception:  # noqa: BLE001 - closing the session releases it anyway
            pass
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def holder(self) -> str | None:
        query = text(
            "SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k "
            "AND l.classid = 0 AND l.granted"
        )
        with self.engine.connect() as conn:
            row = conn.execute(query, {"k": LOCK_KEY}).first()
        if row is None:
            return None
        name = row.application_name or "a kazkor process"
        return f"{name} (server pid {row.pid}, from {row.client_addr or 'local'})"

    def dispose(self) -> None:
        self.release()
        self.engine.dispose()


def leader_lock(store: Any, command: str = "kazkor") -> SqliteLeaderLock | PostgresLeaderLock:
    if store.backend == "sqlite":
        return SqliteLeaderLock(store.sqlite_path, command)
    return PostgresLeaderLock(store.url, command)


def take_or_refuse(lock: Any, what: str) -> None:
    """Take the lock now or raise :class:`LeaderBusy` naming who has it (``post-due``, SQLite ``run``)."""
    if lock.try_acquire():
        return
    holder = lock.holder() or "another kazkor process (it just let go: try again)"
    raise LeaderBusy(
        f"{what}: the scheduler lock is held by {holder}. That process posts the reminders; "
        "stop it first, or let it post."
    )


class Leadership:
    """The election loop inside ``kazkor run`` (see the module text). ``on_elected``/``on_lost`` start and
    stop the scheduler."""

    def __init__(
        self,
        lock: Any,
        on_elected: Callable[[], Awaitable[Any]],
        on_lost: Callable[[], Awaitable[Any]],
        *,
        retry: float = RETRY,
        heartbeat: float = HEARTBEAT,
        on_step: Callable[[], Any] | None = None,
    ) -> None:
        self.lock = lock
        self.on_step = on_step  # blocking, run on a worker thread each step (every replica): e.g. re-reads
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.retry = retry
        self.heartbeat = heartbeat
        self.leading = False
        self.elections = 0
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """The first election happens here (so a lone process schedules before it reports ready); the
        loop then goes on in the background."""
        await self._step()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kazkor-leadership")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat if self.leading else self.retry)
            await self._step()

    async def _step(self) -> None:
        if self.on_step is not None:
            try:
                await asyncio.to_thread(self.on_step)
            except Exception as exc:  # noqa: BLE001 - the database is away; the loop below says so too
                log.debug("leader: the step hook failed: %s", exc)
        try:
            if not self.leading:
                if await asyncio.to_thread(self.lock.try_acquire):
                    self.leading = True
                    self.elections += 1
                    log.info("leader: this process now runs the scheduler")
                    await self.on_elected()
            elif not await asyncio.to_thread(self.lock.alive):
                log.error("leader: lost the scheduler lock (database connection gone): scheduling stops")
                self.leading = False
                await self.on_lost()
                await asyncio.to_thread(self.lock.release)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database is down: try again later
            log.warning("leader: %s: %s (trying again in %.0f s)", type(exc).__name__, exc, self.retry)
            if self.leading:
                self.leading = False
                await self.on_lost()
                await asyncio.to_thread(self.lock.release)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.leading:
            self.leading = False
            await self.on_lost()
        await asyncio.to_thread(self.lock.release)
