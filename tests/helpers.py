"""Small helpers for reading replies the way a user reads them."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from bot.reply import Reply


def lines(reply: Reply) -> list[str]:
    return [item.text for section in reply.sections for item in section.items]


def section(reply: Reply, heading_start: str):
    for s in reply.sections:
        if s.heading.startswith(heading_start):
            return s
    raise AssertionError(f"no section starting {heading_start!r} in {[s.heading for s in reply.sections]}")


def cited_outlets(reply: Reply, item) -> list[str]:
    """The source labels an item points at, through its [n] marks."""
    by_number = {c.number: c.label for c in reply.citations}
    return [by_number[n] for n in item.refs]


def claim_race(stores: Sequence[Any], keys: list[str], timeout: float) -> list[str]:
    """Eight threads over ``stores`` (as separate processes would be) claim every key in turn; the keys
    each thread won, all together. Exactly once means the result is ``keys``, each once."""
    wins: list[str] = []
    lock = threading.Lock()

    def race(store: Any) -> None:
        for key in keys:
            if store.claim_delivery(key) == "claimed":
                with lock:
                    wins.append(key)

    threads = [threading.Thread(target=race, args=(stores[i % len(stores)],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return wins
