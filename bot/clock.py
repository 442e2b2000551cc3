"""The injectable clock (code asks a Clock for "now" instead of calling datetime.now() deep inside), and
the one place time zone names are read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
# would move when the server does) and "Factory" is a placeholder.
NOT_PLACES = frozenset({"localtime", "factory"})


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """Lower-case name -> IANA name, for the zones of the bundled ``tzdata`` package only.

    Why not ``available_timezones()``: it adds whatever the host's /usr/share/zoneinfo holds
    (``posixrules``, ``posix/...``, ``right/...``, a vendor's extras). A zone accepted from there is stored
    in a subscription and fails to load on a host (or container) that has only the ``tzdata`` package."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return {name.lower(): name for name in listed if name.lower() not in NOT_PLACES}


def parse_zone(text: str) -> str | None:
    """The canonical IANA name for ``text`` (any letter case), or None if the bundled ``tzdata`` does
    not have it (or it names no place)."""
    name = _zones().get(text.strip().lower())
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None
    return name
