"""The injectable clock (code asks a Clock for "now" instead of calling datetime.now() deep inside), and
the one place time zone names are read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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


# Names in the tz database that are not places: "localtime" follows the host's own setting (reminders
# would move when the server does) and "Factory" is a placeholder; posix/ and right/ are copies.
NOT_PLACES = frozenset({"localtime", "factory"})


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {
        name.lower(): name
        for name in available_timezones()
        if name.lower() not in NOT_PLACES and not name.startswith(("posix/", "right/"))
    }


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for ``text`` (any letter case), or None if it names no place."""
    text = text.strip()
    if not text or text.lower() in NOT_PLACES or text.startswith(("posix/", "right/")):
        return None
    try:
        ZoneInfo(text)  # the common, exactly spelled case without listing every zone
        return text if text in _zones().values() or "/" not in text or text.istitle() else _canonical(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return _canonical(text)


def _canonical(text: str) -> str | None:
    name = _zones().get(text.lower())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
