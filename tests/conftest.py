"""Shared fixtures: the packaged catalogue (loaded once) and a command context with a stopped clock."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import bot.feeds.commands  # noqa: F401  (registers /calendar and /trade chart, as every entry point does)
from bot.clock import fixed_clock
from bot.commands import Context, handle_text
from facts.store import StateStore, load_catalogue

# Test traffic goes to 127.0.0.1 only: an inherited proxy must not reroute it.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

ALMATY = ZoneInfo("Asia/Almaty")


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue()


@pytest.fixture
def db(tmp_path):
    """Where a test's state file lives."""
    return tmp_path / "state.json"


@pytest.fixture
def state(db):
    """A state store on :func:`db`, closed (its writer lock released) after the test."""
    store = StateStore(db)
    yield store
    store.close()


@pytest.fixture
def make_ctx(catalogue):
    def make(when: str = "2024-09-20T09:00:00+05:00", tz: ZoneInfo = ALMATY) -> Context:
        return Context(catalogue=catalogue, tz=tz, clock=fixed_clock(datetime.fromisoformat(when)))

    return make


@pytest.fixture
def ask(make_ctx):
    """Answer one line of text as a user would type it; returns the Reply."""

    def run(text: str, when: str = "2024-09-20T09:00:00+05:00"):
        return handle_text(text, make_ctx(when))

    return run
