"""A channel's subscription to reminders, as stored in the state file (one document per channel).

Stored fields: ``platform``, ``channel``, ``thread`` (Telegram forum topic / Slack thread_ts or None),
``time`` ("HH:MM", local), ``tz`` (IANA name), ``leads`` (days ahead, e.g. [7, 0]), ``active``,
``created_by``, ``created_at`` (ISO 8601, UTC); ``inactive_reason`` once deactivated.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.frontend import Target
from bot.i18n import ENGLISH, Translator

DEFAULT_TIME = "09:00"
DEFAULT_LEADS = (7, 0)  # days ahead: a week before, and on the day
# How far the next reminders are looked for (/subscriptions, the Home tab): reminders recur yearly,
# so a year and a day finds every one there is, and the search stays bounded (~60 µs a day).
LOOKAHEAD_DAYS = 366

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_time(text: str) -> str | None:
    """``"9:05"`` -> ``"09:05"``; None when it is not a 24-hour H:MM / HH:MM time."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def looks_like_time(text: str) -> bool:
    """A word the user probably meant as a time (``25:00``, ``9am``, ``0900``) rather than a zone."""
    return bool(re.match(r"^\d", text)) or ":" in text or text.lower().endswith(("am", "pm"))


def key_of(sub: dict[str, Any]) -> tuple[str, str]:
    return (sub["platform"], str(sub["channel"]))


def job_id(sub: dict[str, Any]) -> str:
    return f"reminders:{sub['platform']}:{sub['channel']}"


def tz_of(sub: dict[str, Any]) -> ZoneInfo:
    return ZoneInfo(sub.get("tz") or "UTC")


def clock_time(sub: dict[str, Any]) -> time:
    hour, minute = (int(part) for part in sub.get("time", DEFAULT_TIME).split(":"))
    return time(hour, minute)


def leads_of(sub: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(lead) for lead in sub.get("leads") or DEFAULT_LEADS)


def target_of(sub: dict[str, Any]) -> Target:
    thread = sub.get("thread")
    return Target(sub["platform"], str(sub["channel"]), str(thread) if thread else None)


def local_now(sub: dict[str, Any], now: datetime) -> datetime:
    return now.astimezone(tz_of(sub))


def posting_time(sub: dict[str, Any], day: date) -> datetime:
    """The aware moment the subscription posts on local ``day`` (fold=0 in a DST overlap; a time that
    does not exist in a DST gap is resolved by zoneinfo to the moment after the gap)."""
    naive = datetime.combine(day, clock_time(sub))
    aware = naive.replace(tzinfo=tz_of(sub))
    # Normalise through UTC so a non-existent local time (DST gap) becomes a real moment.
    return aware.astimezone(ZoneInfo("UTC")).astimezone(tz_of(sub))


def has_posted_today(sub: dict[str, Any], now: datetime) -> bool:
    """True when the subscription's posting time on its local today is at or before ``now``."""
    local = local_now(sub, now)
    return posting_time(sub, local.date()) <= local


def next_posting_days(sub: dict[str, Any], now: datetime, days: int) -> list[date]:
    """The next ``days`` local days on which the subscription will post, starting today if its time has
    not passed yet."""
    local = local_now(sub, now)
    first = local.date() if not has_posted_today(sub, now) else local.date() + timedelta(days=1)
    return [first + timedelta(days=i) for i in range(days)]


def describe_leads(leads: tuple[int, ...], tr: Translator = ENGLISH) -> str:
    """``7 days ahead and on the day`` (``за 7 дней и в тот же день``...)."""
    parts = []
    for lead in sorted(set(leads), reverse=True):
        if lead == 0:
            parts.append(tr.gettext("on the day"))
        else:
            parts.append(tr.ngettext("{n} day ahead", "{n} days ahead", lead).format(n=lead))
    return tr.gettext(" and ").join(parts)
