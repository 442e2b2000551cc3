"""One channel setting read from the SQLite state file without SQLAlchemy.

Every command reads its channel's answer language (``/language``). ``kazkor ask`` and ``console`` open
the state lazily (``bot.commands.context.StateSlot``) so that a command needing no state does not pay
SQLAlchemy's import (~0.2 s, against a 200 ms cold start, issue 12); this answers that one read with
the standard library's sqlite3, read-only (``mode=ro``: it never creates or changes the file).

Whenever it cannot be sure it raises :class:`CannotTell` (a LookupError) and the caller opens the store
the usual way (which also migrates, upgrades and reports problems): a ``KAZKOR_STATE_URL`` (PostgreSQL),
an old TinyDB state file not yet migrated, a schema version other than the one this reads, or any
sqlite3 error (a file that is not a database, for one).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

# The tables of bot.state.schema this reads (tests/test_state.py checks they agree with it).
SCHEMA_VERSION = 1
SETTING_SQL = "SELECT value FROM channel_settings WHERE platform = ? AND channel = ? AND name = ?"
VERSION_SQL = "SELECT version FROM kazkor_schema"


class CannotTell(LookupError):
    """The setting cannot be read here: open the store."""


def peek_setting(config: Any, platform: str, channel: str, name: str) -> Any:
    """The setting's value, or None when unset (or no state database yet); :class:`CannotTell`."""
    if config.state_url:
        raise CannotTell("KAZKOR_STATE_URL")
    database: Path = config.sqlite_path
    legacy: Path = config.state_path
    if legacy != database and legacy.exists():
        raise CannotTell("an old state file")  # opening the store migrates it first
    if not database.exists():
        return None  # no state yet: nothing was ever set
    try:
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
        try:
            version = connection.execute(VERSION_SQL).fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                raise CannotTell(f"schema version {version}")
            row = connection.execute(SETTING_SQL, (platform, str(channel), name)).fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise CannotTell(str(exc)) from None
    if row is None:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return row[0]
