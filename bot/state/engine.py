"""One SQLAlchemy engine per process, for either backend, configured as platform-rules.md asks.

* SQLite (the default: a local file, no server): WAL journal, ``synchronous=FULL`` so an acknowledged
  write survives a power cut, a busy timeout so two processes on one file wait instead of failing, and
  ``BEGIN IMMEDIATE`` for write transactions (a deferred transaction that later writes can fail with
  "database is locked" without waiting).
* PostgreSQL through psycopg 3 (``postgresql://`` or ``postgresql+psycopg://``), with TCP keepalives so a
  dead server is noticed, and the process named in ``application_name`` (``kazkor doctor`` and a refused
  start name the holder of the scheduler lock by it).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from bot.config import normalise_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE = {"kazkor_write": True}  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def process_name(command: str = "kazkor") -> str:
    return f"{command} pid {os.getpid()} on {socket.gethostname()}"[:63]


def make_engine(url: str, *, name: str = "kazkor", pool: bool = True) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    kwargs: dict[str, Any] = {
        "connect_args": {
            "application_name": name,
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
        "pool_pre_ping": True,
    }
    if pool:
        kwargs.update(pool_size=8, max_overflow=8, pool_timeout=10)
    else:
        from sqlalchemy.pool import NullPool

        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN: pysqlite's own implicit transactions would
        # start deferred ones at odd moments.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writes = connection.get_execution_options().get("kazkor_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
