"""The command context from a :class:`~bot.config.Config`: the catalogue (curated + added facts), the
state store and the command table. Light (no platform library, and no SQLAlchemy until the state is
opened), so ``kazkor ask`` starts fast.

It raises :class:`BootstrapError` with a one-line message and never prints or exits: that is the
command line's job (``bot.cli``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from bot import commands as core
from bot.commands import ALIASES, Context, Spec
from bot.commands.context import StateSlot
from bot.config import Config
from bot.feeds import commands as feeds
from bot.i18n import translator
from bot.state.peek import peek_setting
from facts.model import DataError
from facts.storage import NotAStateFile
from facts.store import Catalogue, FactStore, load_catalogue

if TYPE_CHECKING:
    from bot.state import StateStore
    from bot.state.leader import PostgresLeaderLock, SqliteLeaderLock

# Every command kazkor answers, in the order /help and the menus list them: the core's, then the
# features' above the core. Front ends, /help and the metrics read this through ``Context.commands``.
COMMANDS: dict[str, Spec] = {**core.COMMANDS, **feeds.COMMANDS}
COMMAND_NAMES = frozenset([*COMMANDS, *ALIASES])


class BootstrapError(Exception):
    """What stops kazkor before it serves; the message is one line for the operator."""


def build_context(
    config: Config,
    *,
    with_state: bool = True,
    writer: bool = False,
    command: str = "kazkor",
    state_optional: bool = False,
    warn: Callable[[str], None] = lambda line: None,
) -> Context:
    """Load the catalogue (and the facts added with ``kazkor facts add``) into a command context, with
    the state store.

    ``writer``: this process posts reminders (``post-due``; ``run`` on SQLite): take the scheduler lock
    now, and refuse with one line naming the process that has it. On PostgreSQL, ``run`` is elected
    instead (``bot.state.leader``). ``state_optional`` (``ask``, ``console``): the state is opened the
    first time a command needs it (most never do: /trade, /agreements...), and one that cannot be opened
    is a warning, and the answers come without it. ``warn`` is told each warning."""
    catalogue = _catalogue(config)
    ctx = Context(
        catalogue=catalogue,
        tz=config.tz,
        public_url=config.public_url,
        feed_secret=config.calendar_secret,
        tr=translator(config.lang),
        commands=COMMANDS,
    )
    if not with_state:
        return ctx
    if state_optional and not writer:
        ctx.state = StateSlot(
            opener=partial(_open_or_warn, config, command, warn), peek=partial(peek_setting, config)
        )
        return ctx
    ctx.state = _open(config, command, warn)
    if writer:
        ctx.state.leader = _scheduler_lock(ctx.state, command)
    return ctx


# The state modules import SQLAlchemy (~0.2 s): they are imported when the state is opened, not with
# this module, so commands that never open it never pay for it (issue 12). Import-time cost, no cycle.


def _open(config: Config, command: str, warn: Callable[[str], None]) -> StateStore:
    from bot.state.opening import StateUnavailable, open_state  # deferred: see above

    try:
        state = open_state(config, command)
    except StateUnavailable as exc:
        raise BootstrapError(str(exc)) from None
    if state.migration_message and "not migrated" in state.migration_message:
        warn(state.migration_message)
    return state


def _open_or_warn(config: Config, command: str, warn: Callable[[str], None]) -> StateStore | None:
    """The state, or None after one warning line when it cannot be opened."""
    try:
        return _open(config, command, warn)
    except BootstrapError as exc:
        warn(f"{exc}; answering without it")
        return None


def _catalogue(config: Config) -> Catalogue:
    try:
        catalogue = load_catalogue()
    except DataError as exc:
        raise BootstrapError(f"the curated data is invalid: {exc}") from None
    try:
        FactStore(config.facts_path).load_facts_into(catalogue)
    except DataError as exc:
        raise BootstrapError(f"the fact store holds a bad fact: {exc}") from None
    except (NotAStateFile, OSError) as exc:
        raise BootstrapError(f"cannot read the fact store {config.facts_path}: {exc}") from None
    return catalogue


def _scheduler_lock(state: StateStore, command: str) -> SqliteLeaderLock | PostgresLeaderLock:
    """Take the scheduler lock now, or refuse (closing the store) naming the process that has it."""
    from bot.state.leader import LeaderBusy, leader_lock, take_or_refuse  # deferred: see _open

    lock = leader_lock(state, command)
    try:
        take_or_refuse(lock, command)
    except LeaderBusy as exc:
        state.close()
        raise BootstrapError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the database went away between two statements
        state.close()
        raise BootstrapError(f"{command}: cannot take the scheduler lock: {exc}") from None
    return lock


def no_platform(config: Config) -> bool:
    return not config.telegram_enabled and not config.slack_enabled
