"""The injectable clock: code asks a Clock for "now" instead of calling datetime.now() deep inside."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    """A clock stopped at ``moment`` (must be timezone-aware): for tests and dry runs."""
    if moment.tzinfo is None:
        raise ValueError("fixed_clock needs an aware datetime")
    return lambda: moment


def local_today(clock: Clock, tz: ZoneInfo) -> date:
    return clock().astimezone(tz).date()
