"""A subscription as the state store holds it: a typed record, checked when read.

A record that does not check (a hand-edited or older one: no channel, ``"time": "99:99"``, a zone this
machine cannot load, leads that are not day counts) is a :class:`BadRecord`: the store skips it, logs it
with its id and ``kazkor doctor`` lists it, while every other channel is served.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.subscription import DEFAULT_LEADS, parse_time

MAX_LEAD_DAYS = 366
CORE_FIELDS = ("platform", "channel", "thread", "time", "tz", "leads", "active")


class BadRecord(ValueError):
    """One stored record that cannot be used; the message names it."""


def _check_time(value: Any) -> str:
    if not isinstance(value, str) or parse_time(value) != value:
        raise ValueError(f"time {value!r} is not HH:MM")
    return value


def _check_zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"time zone {value!r} is not a zone name")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"time zone {value!r} is not known on this machine") from None
    return value


def _check_leads(value: Any) -> tuple[int, ...]:
    if value is None:
        return tuple(DEFAULT_LEADS)
    if not isinstance(value, list | tuple) or not value:
        raise ValueError(f"leads {value!r} is not a list of day counts")
    leads = []
    for lead in value:
        if isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= MAX_LEAD_DAYS:
            raise ValueError(f"lead {lead!r} is not a whole number of days from 0 to {MAX_LEAD_DAYS}")
        leads.append(lead)
    return tuple(leads)


@dataclass(frozen=True)
class Subscription:
    platform: str
    channel: str
    time: str
    tz: str
    leads: tuple[int, ...]
    active: bool = True
    thread: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # created_by, created_at, inactive_reason...

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.channel)

    @property
    def fire_time(self) -> tuple[str, str]:
        """(HH:MM, zone): subscriptions sharing it are posted by one scheduler job."""
        return (self.time, self.tz)

    @classmethod
    def from_dict(cls, doc: Any, where: str = "subscription") -> Subscription:
        """Check a stored or new record; :class:`BadRecord` names ``where`` and what is wrong."""
        if not isinstance(doc, dict):
            raise BadRecord(f"{where}: not a record (a {type(doc).__name__})")
        try:
            platform, channel = doc.get("platform"), doc.get("channel")
            if not isinstance(platform, str) or not platform:
                raise ValueError("no platform")
            if not isinstance(channel, str | int) or isinstance(channel, bool) or str(channel) == "":
                raise ValueError("no channel")
            thread = doc.get("thread")
            if thread is not None and not isinstance(thread, str | int):
                raise ValueError(f"thread {thread!r} is not an id")
            active = doc.get("active", True)
            if not isinstance(active, bool):
                raise ValueError(f"active {active!r} is not true or false")
            return cls(
                platform=platform,
                channel=str(channel),
                time=_check_time(doc.get("time")),
                tz=_check_zone(doc.get("tz")),
                leads=_check_leads(doc.get("leads")),
                active=active,
                thread=str(thread) if thread not in (None, "") else None,
                extra={k: v for k, v in doc.items() if k not in CORE_FIELDS},
            )
        except ValueError as exc:
            raise BadRecord(f"{where}: {exc}") from None

    def as_dict(self) -> dict[str, Any]:
        """The record as commands and the scheduler read it (the stored form)."""
        return {
            "platform": self.platform,
            "channel": self.channel,
            "thread": self.thread,
            "time": self.time,
            "tz": self.tz,
            "leads": list(self.leads),
            "active": self.active,
            **self.extra,
        }


def usable_fire_time(time: Any, tz: Any) -> bool:
    """A (HH:MM, zone) a scheduler job can be built for (the columns of a bad record may not be)."""
    try:
        _check_time(time)
        _check_zone(tz)
    except ValueError:
        return False
    return True


def encode(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
