"""What ``/healthz`` answers: the runtime tells a :class:`Monitor` what happens, the monitor judges.

The runtime calls:

* ``monitor.platform_connected("telegram")`` / ``monitor.platform_disconnected("telegram", "why")`` when a
  platform connection comes up or goes down (a poll loop that works again, a socket that reconnects);
* ``monitor.scheduler_started(next_tick)`` when the scheduler starts, and
  ``monitor.scheduler_ticked(next_tick)`` after every tick, with the time the next one is due.

Unhealthy (HTTP 503) when a configured platform has been disconnected for more than
:data:`DISCONNECTED_LIMIT` (a platform that never connected counts from the monitor's start), or when the
scheduler's expected tick plus :data:`SCHEDULER_GRACE` has passed without a tick. Short blips (a
reconnect, a slow tick) stay healthy, so an orchestrator does not restart a bot that is healing itself.

The clock is injectable; every method is safe to call from any thread (delivery may run in a worker).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock, system_clock

DISCONNECTED_LIMIT = timedelta(minutes=3)
SCHEDULER_GRACE = timedelta(minutes=3)


@dataclass
class PlatformState:
    connected: bool
    since: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Health:
    ok: bool
    reasons: tuple[str, ...]
    details: dict[str, Any]

    @property
    def status_code(self) -> int:
        return 200 if self.ok else 503

    def as_json(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "unhealthy", "reasons": list(self.reasons), **self.details}


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


class Monitor:
    """Connection state per configured platform and the scheduler's rhythm."""

    def __init__(
        self,
        platforms: Iterable[str] = (),
        *,
        clock: Clock = system_clock,
        disconnected_limit: timedelta = DISCONNECTED_LIMIT,
        scheduler_grace: timedelta = SCHEDULER_GRACE,
    ) -> None:
        self.clock = clock
        self.disconnected_limit = disconnected_limit
        self.scheduler_grace = scheduler_grace
        self.started = clock()
        self._lock = threading.Lock()
        self._platforms: dict[str, PlatformState] = {
            name: PlatformState(False, self.started, "not connected yet") for name in platforms
        }
        self._last_tick: datetime | None = None
        self._next_tick: datetime | None = None

    @classmethod
    def for_config(cls, config: Any, *, clock: Clock = system_clock) -> Monitor:
        """A monitor watching every platform ``config`` enables."""
        names = [
            n for n, on in (("slack", config.slack_enabled), ("telegram", config.telegram_enabled)) if on
        ]
        return cls(names, clock=clock)

    # -- platforms --------------------------------------------------------------------------------

    def add_platform(self, name: str) -> None:
        with self._lock:
            self._platforms.setdefault(name, PlatformState(False, self.clock(), "not connected yet"))

    def platform_connected(self, name: str) -> None:
        self._set(name, True, None)

    def platform_disconnected(self, name: str, reason: str | None = None) -> None:
        self._set(name, False, reason or "disconnected")

    def _set(self, name: str, connected: bool, reason: str | None) -> None:
        with self._lock:
            state = self._platforms.get(name)
            if state is None or state.connected != connected:
                self._platforms[name] = PlatformState(connected, self.clock(), reason)
            elif not connected and reason:
                state.reason = reason  # still down: keep "since", refresh why

    # -- scheduler ----------------------------------------------------------------------------------

    def scheduler_started(self, next_tick: datetime | None) -> None:
        with self._lock:
            self._next_tick = next_tick

    def scheduler_ticked(self, next_tick: datetime | None, at: datetime | None = None) -> None:
        with self._lock:
            self._last_tick = at or self.clock()
            self._next_tick = next_tick

    def scheduler_report(self, next_tick: datetime | None, fired: bool) -> None:
        """The scheduler's own report (its ``on_tick``): started, ticked (``fired``) or stopped (None)."""
        if next_tick is None:
            self.scheduler_stopped()
        elif fired:
            self.scheduler_ticked(next_tick)
        else:
            self.scheduler_started(next_tick)

    def scheduler_stopped(self) -> None:
        with self._lock:
            self._next_tick = None

    # -- judging ------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "platforms": {
                    name: {
                        "connected": s.connected,
                        "since": s.since.isoformat(),
                        **({"reason": s.reason} if s.reason and not s.connected else {}),
                    }
                    for name, s in sorted(self._platforms.items())
                },
                "scheduler": {
                    "last_tick": self._last_tick.isoformat() if self._last_tick else None,
                    "next_tick": self._next_tick.isoformat() if self._next_tick else None,
                },
            }

    def check(self) -> Health:
        now = self.clock()
        reasons: list[str] = []
        with self._lock:
            for name, state in sorted(self._platforms.items()):
                down_for = now - state.since
                if not state.connected and down_for > self.disconnected_limit:
                    why = f" ({state.reason})" if state.reason else ""
                    reasons.append(f"{name} disconnected for {_ago(down_for)}{why}")
            if self._next_tick is not None and now > self._next_tick + self.scheduler_grace:
                last = f"last tick {self._last_tick.isoformat()}" if self._last_tick else "never ticked"
                reasons.append(
                    f"scheduler overdue: tick expected at {self._next_tick.isoformat()}, "
                    f"{_ago(now - self._next_tick)} ago ({last})"
                )
        details = self.snapshot()
        details["time"] = now.isoformat()
        return Health(not reasons, tuple(reasons), details)
