"""The writer that test_state kills with SIGKILL mid-write. A separate small module so a forkserver can
preload it (and SQLAlchemy with it) once: each round then forks a ready writer instead of starting and
importing a fresh interpreter."""

from __future__ import annotations

from multiprocessing.connection import Connection

from bot.state import StateStore


def write_until_killed(url: str, start: int, acks: Connection) -> None:
    store = StateStore(url)
    for i in range(start, start + 100000):
        store.record_delivery(f"telegram:-{i}:k", padding="x" * 200)
        acks.send(i)  # only after record_delivery returned (a small message: one atomic pipe write)
