"""Shared set-up for the subscription, delivery and scheduler tests: a state file, subscriptions, a
settable clock and senders built the way ``kazkor post-due`` builds them, against the stand-ins."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.platforms.senders import open_senders
from bot.reminders.delivery import RetryPolicy
from bot.state import StateStore

# The referendum of 6 October 2024: its 7-day reminder is due on 29 September.
REFERENDUM_7D_ALMATY = "2024-09-29T09:00:00+05:00"
REFERENDUM_KEY_7D = "evt-2024-10-06-referendum@7d:2024-10-06"
FAST = RetryPolicy(backoff_base=0.01, backoff_max=0.05, max_wait=5.0)
TIMEOUT = 30.0


def run(coro: Any, timeout: float = TIMEOUT) -> Any:
    """Run a test coroutine with an overall bound (a hang fails instead of blocking the suite)."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


class SettableClock:
    """An aware clock the test moves by hand."""

    def __init__(self, when: str) -> None:
        self.now = datetime.fromisoformat(when)

    def set(self, when: str) -> None:
        self.now = datetime.fromisoformat(when)

    def __call__(self) -> datetime:
        return self.now


def subscribe(
    state: StateStore,
    platform: str,
    channel: str,
    *,
    time: str = "09:00",
    tz: str = "Asia/Almaty",
    thread: str | None = None,
    leads: list[int] | None = None,
) -> dict[str, Any]:
    sub = {
        "platform": platform,
        "channel": channel,
        "thread": thread,
        "time": time,
        "tz": tz,
        "leads": leads or [7, 0],
        "active": True,
        "created_by": "test",
        "created_at": "2024-09-01T00:00:00+00:00",
    }
    state.save_subscription(sub)
    return sub


def config_for(db: Path, telegram: Any = None, slack: Any = None, **extra: str) -> Config:
    return Config.from_env(env_for(db, telegram, slack, **extra))


def env_for(db: Path, telegram: Any = None, slack: Any = None, **extra: str) -> dict[str, str]:
    """The environment of a kazkor posting to these stand-ins with its state in ``db``."""
    env = {"KAZKOR_DB": str(db)}
    if telegram is not None:
        env.update(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_URL=telegram.base_url)
    if slack is not None:
        env.update(
            SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET="test-secret", SLACK_API_URL=slack.base_url
        )
    env.update(extra)
    return env


@asynccontextmanager
async def senders_for(
    db: Path, telegram: Any = None, slack: Any = None, *, slack_pace: float = 0.05, **extra: str
):
    """Senders as post-due builds them; Slack's per-channel pacing shortened so tests stay quick."""
    config = config_for(db, telegram, slack, **extra)
    async with open_senders(config, slack_seconds_per_message=slack_pace) as senders:
        yield senders


# A day with seven posts. The shipped data has at most two on any day (year-only dates are never posted,
# see bot/commands/occurrences.py), so tests of a long fan-out add seven made-up one-day events to it.
BUSY_DAY = "2024-01-01T09:00:00+05:00"


def busy_catalogue(n: int = 7):
    """The shipped catalogue plus ``n`` test events dated 1 Jan 2024, citing a test source."""
    from facts.model import Citation, Event, PartialDate, Source
    from facts.store import load_catalogue

    catalogue = load_catalogue()
    catalogue.sources["test-outside"] = Source("test-outside", "Test source", "made up for tests", "outside")
    for i in range(n):
        cite = (Citation("test-outside", f"Test event {i} happens on 1 January 2024."),)
        event = Event(
            id=f"evt-test-busy-{i}",
            summary=f"Test event {i} on 1 January 2024.",
            cite=cite,
            title=f"Test event {i}",
            type="other",
            date=PartialDate(2024, 1, 1),
            place="Astana",
        )
        catalogue.add(event, "test")
    return catalogue
