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
