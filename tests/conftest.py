"""Shared fixtures: the packaged catalogue (loaded once) and a command context with a stopped clock."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.bootstrap.context import COMMANDS
from bot.clock import fixed_clock
from bot.commands import Context, handle_text
from bot.state import StateStore
from facts.store import load_catalogue

# Test traffic goes to 127.0.0.1 only: an inherited proxy must not reroute it.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ALMATY = ZoneInfo("Asia/Almaty")


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


def open_store(db) -> StateStore:
    """The SQLite state store a kazkor with ``KAZKOR_DB=db`` uses (``state.json`` -> ``state.sqlite3``)."""
    path = db.with_suffix(".sqlite3") if db.suffix == ".json" else db
    return StateStore(f"sqlite:///{path}")


@pytest.fixture
def db(tmp_path):
    """``KAZKOR_DB`` for a test: the SQLite state database is beside it (state.sqlite3)."""
    return tmp_path / "state.json"


@pytest.fixture
def state(db):
    """The state store a kazkor run with ``KAZKOR_DB=db`` opens, closed after the test."""
    store = open_store(db)
    yield store
    store.close()


@pytest.fixture
def make_ctx(catalogue):
    def make(when: str = "2024-09-20T09:00:00+05:00", tz: ZoneInfo = ALMATY) -> Context:
        return Context(
            catalogue=catalogue, tz=tz, clock=fixed_clock(datetime.fromisoformat(when)), commands=COMMANDS
        )

    return make


@pytest.fixture
def ask(make_ctx):
    """Answer one line of text as a user would type it; returns the Reply."""

    def run(text: str, when: str = "2024-09-20T09:00:00+05:00"):
        return handle_text(text, make_ctx(when))

    return run


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL 15 server for the session (see tests/postgres.py). Skips where the
    server cannot start, except in CI (``CI`` set), where that FAILS: these tests must run there."""
    from tests.postgres import PostgresUnavailable, Server

    try:
        server = Server().start()
    except (PostgresUnavailable, OSError, KeyError) as exc:  # KeyError: no "postgres" user
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not start in CI: {exc}")
        pytest.skip(f"PostgreSQL could not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres_server) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return postgres_server.new_database()
