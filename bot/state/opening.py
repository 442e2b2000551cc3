"""Opening the state for a kazkor command: the engine from the configuration, the schema brought up to
date, and an older TinyDB state file migrated on the first start."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.state.engine import process_name
from bot.state.migrate import LegacyUnreadable, migrate_tinydb
from bot.state.store import SchemaError, StateStore
from facts.store import FactStore

log = logging.getLogger(__name__)


class StateUnavailable(Exception):
    """The state database cannot be opened; the message is one line for the operator."""


def open_state(config: Any, command: str = "kazkor") -> StateStore:
    """The state store for ``config`` (``StateUnavailable`` with one clear line when it cannot be had)."""
    where = "KAZKOR_STATE_URL" if config.state_url else f"the state database {config.sqlite_path}"
    try:
        store = StateStore(
            config.database_url, name=process_name(command), retention_days=config.retention_days
        )
    except SchemaError as exc:
        raise StateUnavailable(str(exc)) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StateUnavailable(f"cannot open {where}: {reason}") from None
    except OSError as exc:
        raise StateUnavailable(f"cannot open {where}: {exc}") from None
    try:
        message = migrate_tinydb(store, config.state_path, FactStore(config.facts_path))
    except LegacyUnreadable as exc:
        message = None
        # the caller prints it (logging may not be set up yet, e.g. in `kazkor ask`)
        store.migration_message = f"the old state file was not migrated: {exc}; it was left in place"
    except (SQLAlchemyError, OSError) as exc:
        store.close()
        raise StateUnavailable(f"migrating {config.state_path} failed, nothing moved: {exc}") from None
    if message:
        log.info("%s", message)
        store.migration_message = message
    return store
