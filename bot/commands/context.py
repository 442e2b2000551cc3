"""What a command handler may use (the catalogue, the clock, the time zone, the answer's language,
optionally state, the command table), and what a command table holds (:class:`Spec`)."""

from __future__ import annotations

import dataclasses
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


@dataclass
class Context:
    catalogue: Catalogue
    tz: ZoneInfo
    clock: Clock = system_clock
    state: Any = None  # bot.state.StateStore when the platform keeps state (subscriptions)
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

    def speaking(self, lang: str) -> Context:
        """This context answering in ``lang`` (a copy: the shared one is never changed)."""
        return self if lang == self.tr.lang else dataclasses.replace(self, tr=translator(lang))

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
