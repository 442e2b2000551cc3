"""What a command handler may use: the catalogue, the clock, the time zone and (optionally) state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock, local_today, system_clock
from facts.store import Catalogue


@dataclass
class Context:
    catalogue: Catalogue
    tz: ZoneInfo
    clock: Clock = system_clock
    state: Any = None  # facts.store.StateStore when the platform keeps state (subscriptions)
    bot_name: str = "kazkor"
    # Called (no arguments, from any thread) after /subscribe or /unsubscribe changed the state, so the
    # reminder scheduler rebuilds its jobs; None when nothing schedules (console, `kazkor ask`).
    # Told which subscription (platform, channel) changed: the scheduler rebuilds its jobs and a
    # fan-out in progress reads that subscription again before its next post.
    on_subscriptions_changed: Callable[[tuple[str, str] | None], None] | None = None
    public_url: str | None = None  # KAZKOR_PUBLIC_URL: where /calendar.ics is reached (no trailing /)
    feed_secret: bytes | None = None  # Config.calendar_secret: signs per-channel calendar feed tokens

    def today(self) -> date:
        return local_today(self.clock, self.tz)
