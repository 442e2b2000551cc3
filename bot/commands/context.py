"""What a command handler may use: the catalogue, the clock, the time zone and (optionally) state."""

from __future__ import annotations

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

    def today(self) -> date:
        return local_today(self.clock, self.tz)
