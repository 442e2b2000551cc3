"""Runtime state (subscriptions, delivery ledger, per-channel settings) on SQLite or PostgreSQL."""

from bot.state.records import BadRecord, Subscription
from bot.state.store import Counts, SchemaError, StateStore

__all__ = ["BadRecord", "Counts", "SchemaError", "StateStore", "Subscription"]
