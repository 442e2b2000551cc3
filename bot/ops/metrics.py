"""Prometheus metrics, on a registry of their own (never the library's global one).

One :class:`Metrics` per process; the runtime calls its small methods where things happen and the
``/metrics`` route (see :mod:`bot.ops.routes`) renders it. Tests build a fresh one each, so counts
never leak from one test into another.

Label values are bounded: a command name that is not a known command is counted as ``other`` and an
error kind is cut to a short identifier, so a user typing random commands cannot grow the series.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.commands import ALIASES, COMMANDS

REMINDER_OUTCOMES = ("sent", "skipped", "failed")
# Replies are usually fast (in-memory data) but include the platform round trip.
REPLY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LABEL_RE = re.compile(r"[^a-z0-9_.-]+")


def _label(value: str, *, limit: int = 40) -> str:
    cleaned = _LABEL_RE.sub("_", str(value).strip().lower())[:limit].strip("_")
    return cleaned or "unknown"


class Metrics:
    """The bot's counters, gauges and histogram, on a dedicated :class:`CollectorRegistry`."""

    def __init__(
        self,
        *,
        commands: Iterable[str] | None = None,
        process_metrics: bool = True,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._last_run = 0.0
        self.known_commands = frozenset(commands) if commands is not None else None  # None: bot.commands
        if process_metrics:
            ProcessCollector(registry=self.registry)  # process_* (memory, CPU, open fds) on Linux
            PlatformCollector(registry=self.registry)  # python_info
        r = self.registry
        self.commands_total = Counter(
            "kazkor_commands", "Commands answered.", ("platform", "command"), registry=r
        )
        self.reply_seconds = Histogram(
            "kazkor_reply_seconds",
            "Time from receiving a command to the reply being sent.",
            ("platform",),
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.reminders_total = Counter(
            "kazkor_reminders", "Reminder deliveries by outcome (sent, skipped, failed).",
            ("platform", "outcome"), registry=r,
        )  # fmt: skip
        self.platform_errors_total = Counter(
            "kazkor_platform_errors",
            "Errors talking to a platform, by kind.",
            ("platform", "kind"),
            registry=r,
        )
        self.scheduler_last_run = Gauge(
            "kazkor_scheduler_last_run_timestamp_seconds",
            "Unix time of the scheduler's last tick (0: never ran).",
            registry=r,
        )
        self.platform_up = Gauge(
            "kazkor_platform_up", "1 when the platform connection is up, else 0.", ("platform",), registry=r
        )

    # -- what the runtime calls -------------------------------------------------------------------

    def command(self, platform: str, name: str, seconds: float | None = None) -> None:
        """One command answered on ``platform``; ``seconds`` from receipt to reply sent, when known."""
        name = _label(name.lstrip("/"))
        name = ALIASES.get(name, name)
        known = self.known_commands if self.known_commands is not None else COMMANDS
        if known and name not in known:
            name = "other"
        self.commands_total.labels(_label(platform), name).inc()
        if seconds is not None:
            self.reply_seconds.labels(_label(platform)).observe(max(0.0, seconds))

    def reminder(self, platform: str, outcome: str) -> None:
        if outcome not in REMINDER_OUTCOMES:
            raise ValueError(f"reminder outcome {outcome!r} is not one of {', '.join(REMINDER_OUTCOMES)}")
        self.reminders_total.labels(_label(platform), outcome).inc()

    def platform_error(self, platform: str, kind: str | BaseException) -> None:
        """Count an error; ``kind`` is a short word (``auth``, ``rate_limited``) or the exception itself."""
        if isinstance(kind, BaseException):
            kind = type(kind).__name__
        self.platform_errors_total.labels(_label(platform), _label(kind)).inc()

    def scheduler_ran(self, ts: datetime | float) -> None:
        """The scheduler ran at ``ts``; the gauge only moves forward (reports may arrive out of order)."""
        value = ts.timestamp() if isinstance(ts, datetime) else float(ts)
        with self._lock:
            if value > self._last_run:
                self._last_run = value
                self.scheduler_last_run.set(value)

    def set_platform_up(self, platform: str, up: bool) -> None:
        self.platform_up.labels(_label(platform)).set(1 if up else 0)

    def sync_from(self, monitor: object) -> None:
        """Copy the monitor's view (platform up/down, last scheduler tick) into the gauges."""
        snapshot = monitor.snapshot()  # type: ignore[attr-defined]
        for name, state in snapshot["platforms"].items():
            self.set_platform_up(name, state["connected"])
        last = snapshot["scheduler"]["last_tick"]
        if last is not None:
            self.scheduler_ran(datetime.fromisoformat(last))

    # -- rendering ------------------------------------------------------------------------------------

    content_type = CONTENT_TYPE_LATEST

    def render(self) -> bytes:
        return generate_latest(self.registry)
