"""The command context from a :class:`~bot.config.Config`: the catalogue (curated + added facts), the
state store and the command table. Light (no platform library), so ``kazkor ask`` starts fast.

It raises :class:`BootstrapError` with a one-line message and never prints or exits: that is the
command line's job (``bot.cli``).
"""

from __future__ import annotations

from collections.abc import Callable

from bot import commands as core
from bot.commands import ALIASES, Context, Spec
from bot.config import Config
from bot.feeds import commands as feeds
from bot.i18n import translator
from bot.state import StateStore
from bot.state.leader import LeaderBusy, PostgresLeaderLock, SqliteLeaderLock, leader_lock, take_or_refuse
from bot.state.opening import StateUnavailable, open_state
from facts.model import DataError
from facts.storage import NotAStateFile
from facts.store import Catalogue, FactStore, load_catalogue

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
    instead (``bot.state.leader``). ``state_optional`` (``ask``, ``console``): a state database that
    cannot be opened is a warning, and the answers come without it. ``warn`` is told each warning."""
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
    try:
        ctx.state = open_state(config, command)
    except StateUnavailable as exc:
        if not state_optional:
            raise BootstrapError(str(exc)) from None
        warn(f"{exc}; answering without it")
        return ctx
    if ctx.state.migration_message and "not migrated" in ctx.state.migration_message:
        warn(ctx.state.migration_message)
    if writer:
        ctx.state.leader = _scheduler_lock(ctx.state, command)
    return ctx


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
