"""What a command handler may use (the catalogue, the clock, the time zone, the answer's language,
optionally state, the command table), and what a command table holds (:class:`Spec`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, local_today, system_clock
from bot.commands.parse import Command
from bot.i18n import Translator, translator
from bot.reply import Reply
from facts.store import Catalogue

PAGED_LIMIT = 200  # lines of a paged answer (25 pages of 8): a bound on the work one press costs


class StateSlot:
    """Where a context's state store comes from: given (``Context(state=store)``), or opened the first
    time something reads ``ctx.state``. ``kazkor ask`` and ``console`` open it lazily: most commands
    never need it, and opening it costs SQLAlchemy's import (about 0.2 s of the 200 ms cold-start budget,
    issue 12). ``opener`` returns the store, or None when it cannot be had (it warns itself).

    ``peek(platform, channel, name)`` answers a channel setting without opening the store (the answer
    language every command reads; see ``bot.state.peek``), or raises LookupError to have it opened.
    Shared by the copies a context makes of itself, so the store is opened once; thread-safe."""

    def __init__(
        self,
        value: Any = None,
        opener: Callable[[], Any] | None = None,
        peek: Callable[[str, str, str], Any] | None = None,
    ) -> None:
        self._value = value
        self._opener = opener
        self._peek = peek
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._opener is not None:
            with self._lock:
                if self._opener is not None:
                    self._value = self._opener()
                    self._opener = None
        return self._value

    def opened(self) -> Any:
        """The store if it is open (None otherwise): never opens it (e.g. to close it at exit)."""
        return None if self._opener is not None else self._value

    def setting(self, platform: str, channel: str, name: str) -> Any:
        """A channel's setting (None when unset or there is no state), opening the store only when the
        peek cannot tell."""
        if self._opener is not None and self._peek is not None:
            try:
                return self._peek(platform, str(channel), name)
            except LookupError:  # the peek cannot tell: open the store
                pass
        state = self.get()
        return None if state is None else state.channel_setting(platform, str(channel), name)


class _StateField:
    """``Context.state``: reading it opens a lazy :class:`StateSlot`; assigning a store (or a slot)
    replaces the slot. Keeps ``Context(state=...)``, ``ctx.state = ...`` and ``ctx.state is None``."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return None  # the dataclass default
        return obj.state_slot.get()

    def __set__(self, obj: Any, value: Any) -> None:
        if isinstance(value, _StateField):  # the default, as field(default=...) passes it to __init__
            value = None
        obj.__dict__["state_slot"] = value if isinstance(value, StateSlot) else StateSlot(value)


@dataclass
class Context:
    catalogue: Catalogue
    tz: ZoneInfo
    clock: Clock = system_clock
    # bot.state.StateStore when the platform keeps state (subscriptions), or a StateSlot opening it on
    # first use; reading gives the store (or None). Not compared or shown: either would open it.
    state: Any = field(default=_StateField(), repr=False, compare=False)
    bot_name: str = "kazkor"
    # Called (no arguments, from any thread) after /subscribe or /unsubscribe changed the state, so the
    # reminder scheduler rebuilds its jobs; None when nothing schedules (console, `kazkor ask`).
    # Told which subscription (platform, channel) changed: the scheduler rebuilds its jobs and a
    # fan-out in progress reads that subscription again before its next post.
    on_subscriptions_changed: Callable[[tuple[str, str] | None], None] | None = None
    public_url: str | None = None  # KAZKOR_PUBLIC_URL: where /calendar.ics is reached (no trailing /)
    feed_secret: bytes | None = None  # Config.calendar_secret: signs per-channel calendar feed tokens
    # The command table answered: bot.bootstrap.context.COMMANDS (the core's and the features' above
    # it, e.g. /calendar); None: the core's own table only.
    commands: Mapping[str, Spec] | None = None
    # The language of this answer. A front end's context holds the default (KAZKOR_LANG); each command
    # is answered with a copy in the channel's language (see bot.commands.language.localized).
    tr: Translator = field(default_factory=lambda: translator("en"))
    # True when the answer is shown in pages with Next / Previous (Slack and Telegram, see
    # bot.commands.controls): long lists then hold up to PAGED_LIMIT lines instead of asking to narrow.
    paged: bool = False

    state_slot: StateSlot = field(init=False, repr=False, compare=False)  # set through ``state``

    def speaking(self, lang: str) -> Context:
        """This context answering in ``lang`` (a copy sharing the state slot: the shared context is never
        changed, and copying does not open a lazy state, as ``dataclasses.replace`` would by reading it)."""
        if lang == self.tr.lang:
            return self
        other = copy.copy(self)
        other.tr = translator(lang)
        return other

    def channel_setting(self, platform: str, channel: str, name: str) -> Any:
        """A channel's setting (e.g. its answer language), None when unset or without state."""
        return self.state_slot.setting(platform, channel, name)

    def list_limit(self, unpaged: int) -> int:
        """How many lines a long list may hold: ``unpaged`` for one message, more when paged."""
        return max(unpaged, PAGED_LIMIT) if self.paged else unpaged

    def today(self) -> date:
        return local_today(self.clock, self.tz)


Handler = Callable[[Command, Context], Reply]


@dataclass(frozen=True)
class Spec:
    """One entry of a command table: a name, its handler, and what /help and the menus say about it."""

    name: str
    handler: Handler
    summary: str
    example: str
