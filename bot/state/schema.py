"""The runtime state's tables (SQLAlchemy Core) and their versions.

Schema versioning is a one-row ``kazkor_schema`` table plus :data:`UPGRADES` below, not Alembic: the schema
is four small tables, it is created and upgraded by the bot itself at start (no separate migration step an
operator could forget), and an ordered list of DDL steps applied in one transaction under a lock is all a
future change needs. Alembic would add a migrations folder, an env.py and a second code path for the two
backends. Should the schema grow past a handful of tables, move to Alembic and make version 1 its base.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 1

metadata = MetaData()

schema_version = Table(
    "kazkor_schema",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: one row
    Column("version", Integer, nullable=False),
)

# One row per channel. The columns the scheduler selects by are real columns (indexed by fire time);
# the rest of the record (created_by, inactive_reason, ...) is kept as a JSON document in ``doc``.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("time", String(16), nullable=False),
    Column("tz", String(64), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("doc", Text, nullable=False),
    Index("ix_subscriptions_fire_time", "time", "tz"),
)

# The delivery ledger. ``key`` is unique: a claim is an INSERT that does nothing on conflict, and the one
# process whose insert went in sends. ``status`` is "pending" from the claim until the platform accepted
# the post ("sent"); a pending row left by a crash is never sent again and never pruned.
ledger = Table(
    "ledger",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("channel", String(255), nullable=False),
    Column("day", String(10)),  # the local day the reminder was for
    Column("created", Float, nullable=False),  # epoch seconds of the claim (retention counts from it)
    Column("sent_at", String(32)),
    Column("details", Text),
    Index("ix_ledger_status_created", "status", "created"),
    Index("ix_ledger_channel", "platform", "channel"),
)

# Small key/value settings per channel (language, calendar token...), for the other features.
channel_settings = Table(
    "channel_settings",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Facts about the store itself (e.g. which TinyDB file was migrated into it).
meta = Table(
    "kazkor_meta",
    metadata,
    Column("name", String(1024), primary_key=True),
    Column("value", Text, nullable=False),
)

# version -> DDL statements taking the schema from version-1 to version (version 1 is create_all).
UPGRADES: dict[int, list[str]] = {}
