"""Runtime state (subscriptions, delivery ledger, per-channel settings) on SQLite or PostgreSQL.

The names below come from modules that import SQLAlchemy (~0.2 s): they are loaded on first use
(PEP 562), so importing a light module of this package (:mod:`bot.state.peek`, read by ``kazkor ask``)
does not pay for it. Import-time cost only, not a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.state.records import BadRecord, Subscription
    from bot.state.store import Counts, SchemaError, StateStore

__all__ = ["BadRecord", "Counts", "SchemaError", "StateStore", "Subscription"]


def __getattr__(name: str) -> Any:
    if name in ("BadRecord", "Subscription"):
        from bot.state import records  # deferred for start-up cost (see above)

        return getattr(records, name)
    if name in ("Counts", "SchemaError", "StateStore"):
        from bot.state import store  # deferred for start-up cost (see above)

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
