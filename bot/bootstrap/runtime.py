"""Builds ``kazkor run`` and ``kazkor post-due`` from a config and a command context (see
:mod:`bot.bootstrap.context`); imports the platform libraries.

* :func:`build_runtime`: the front ends, their routes, ops (health, metrics) and the reminder scheduler,
  as an ordered list of services for :func:`bot.app.serve` (built, not started).
* :func:`post_due`: ``kazkor post-due``'s work: senders for every platform with a token, one fan-out.

It never prints or exits: that is the command line's job (``bot.cli``). To add something to
``kazkor run``, append to the runtime before it is served::

    runtime.http.route_setups.append(add_health_routes)        # GET /healthz on the same port
    runtime.services.append(Service("scheduler", start, stop))  # started last, stopped first
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from bot.commands import Context, table
from bot.config import Config
from bot.feeds.routes import install_feeds
from bot.feeds.urls import public_feed_url
from bot.frontend import FrontEnd
from bot.http import WebServer
from bot.http_limits import HttpLimits
from bot.ops.health import Monitor
from bot.ops.metrics import Metrics
from bot.ops.wiring import install_ops
from bot.platforms.senders import open_senders
from bot.reminders.delivery import Summary
from bot.reminders.delivery import post_due as post_due_with
from bot.reminders.schedule import ReminderService
from bot.service import Service
from bot.state.leader import Leadership, leader_lock

if TYPE_CHECKING:  # imported in build_runtime, for the platforms configured only
    from bot.platforms.slack import SlackFrontEnd
    from bot.platforms.telegram import TelegramFrontEnd

log = logging.getLogger(__name__)

# Seconds between tries to start a platform that could not start (a network or platform outage at
# boot); the last value repeats until it starts or kazkor stops.
PLATFORM_RETRY_DELAYS = (15.0, 30.0, 60.0, 120.0, 300.0)


@dataclass
class Runtime:
    config: Config
    ctx: Context
    http: WebServer
    telegram: TelegramFrontEnd | None = None
    slack: SlackFrontEnd | None = None
    services: list[Service] = field(default_factory=list)
    monitor: Monitor = field(default_factory=Monitor)  # what /healthz judges: platforms, scheduler ticks
    metrics: Metrics = field(default_factory=Metrics)  # what /metrics shows: commands, reminders, errors
    # set once kazkor serves: every service started (a platform that could not may follow later)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    platform_retry_delays: tuple[float, ...] = PLATFORM_RETRY_DELAYS
    down: set[str] = field(default_factory=set)  # platforms not serving: could not start (yet)
    leadership: Leadership | None = None  # whether this replica runs the scheduler
    reminders: ReminderService | None = None  # the scheduler (runs while this replica leads)

    @property
    def fronts(self) -> dict[str, FrontEnd]:
        """The configured front ends by platform name, in start order."""
        return {front.platform: front for front in (self.telegram, self.slack) if front is not None}


def build_runtime(config: Config, ctx: Context, *, host: str | None = None) -> Runtime:
    """Build (not start) every configured front end and register their routes and services."""
    limits = HttpLimits(
        idle_timeout=config.http_idle_timeout,
        body_timeout=config.http_body_timeout,
        max_connections=config.http_max_connections,
    )
    runtime = Runtime(
        config=config,
        ctx=ctx,
        http=WebServer(host or config.host, config.port, limits),
        metrics=Metrics(commands=table(ctx)),  # commands outside the table are counted as "other"
    )
    # Each platform's library only when it is configured: slack_bolt + slack_sdk and their aiohttp adapters
    # are ~8 MB of a Telegram-only process (issue 9: `kazkor run` under 100 MB RSS).
    if config.telegram_enabled:
        from bot.platforms.telegram import TelegramFrontEnd

        runtime.telegram = TelegramFrontEnd(config, ctx)
        runtime.telegram.replies.observe = runtime.metrics.command  # commands by platform and name
    if config.slack_enabled:
        from bot.platforms.slack import SlackFrontEnd

        runtime.slack = SlackFrontEnd(config, ctx)
        runtime.slack.replies.observe = runtime.metrics.command  # and reply latency
    for name, front in runtime.fronts.items():
        runtime.services.append(Service(name, front.start, front.stop, platform=name))
        runtime.http.route_setups.append(front.routes)
    runtime.services.append(Service("http", _start_http(runtime.http), runtime.http.stop))
    if runtime.telegram is not None and config.telegram_webhook_url:
        # only once the server listens, so Telegram's first delivery finds us
        runtime.services.append(
            Service("telegram-webhook", runtime.telegram.set_webhook, _nothing, platform="telegram")
        )
    install_ops(  # /healthz + /metrics on the same server, platform state, reachability watch
        runtime.fronts, runtime.http, runtime.services, runtime.monitor, runtime.metrics, runtime.down
    )
    _add_reminders(runtime)  # started after the front ends, stopped before them
    install_feeds(runtime.ctx, runtime.config, runtime.http)  # GET /calendar.ics, /calendar/<token>.ics
    return runtime


def _add_reminders(runtime: Runtime) -> None:
    """The reminder scheduler, posting through the front ends' own clients, reporting to ops."""
    ctx, monitor, metrics = runtime.ctx, runtime.monitor, runtime.metrics
    if ctx.state is None:  # no state file: nothing to schedule (subscriptions live there)
        log.info("reminders: no state store, so no scheduled reminders")
        return
    senders = {name: front.sender() for name, front in runtime.fronts.items()}

    def on_summary(summary: Summary) -> None:
        metrics.scheduler_ran(ctx.clock())

    service = ReminderService(
        ctx.state, ctx.catalogue, senders, tz=ctx.tz, clock=ctx.clock,
        on_tick=monitor.scheduler_report, on_summary=on_summary, on_outcome=metrics.reminder,
        default_lang=ctx.tr.lang, calendar_url=calendar_url(runtime.config),
    )  # fmt: skip
    ctx.on_subscriptions_changed = service.notify_changed
    # The scheduler runs in the elected leader only (on SQLite this process took the lock at start).
    lock = ctx.state.leader or leader_lock(ctx.state, "kazkor run")
    ctx.state.leader = lock
    # every replica re-reads the per-channel settings (a /language set through another replica)
    leadership = Leadership(lock, service.start, service.stop, on_step=ctx.state.refresh_settings)
    runtime.leadership = leadership
    runtime.reminders = service
    runtime.services.append(Service("reminders", leadership.start, leadership.stop))


def calendar_url(config: Config) -> str | None:
    """The public calendar feed, linked as "Add to calendar" in reminder posts (None without a URL)."""
    return public_feed_url(config.public_url) if config.public_url else None


def _start_http(server: WebServer) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        if server.wanted:  # nobody registered a route: open no port
            await server.start()

    return start


async def _nothing() -> None:
    return None


def post_due(config: Config, ctx: Context, day: date | None = None) -> tuple[Summary, str | None]:
    """``kazkor post-due``: post what is due (each subscription's local today, or ``day``) through every
    platform with a token; closes the state store when done. Returns the summary and the signal that
    stopped it early (None when it ran to the end).

    SIGTERM (systemd, docker stop) or Ctrl-C: a post already sent but not recorded would stay
    "unconfirmed" for ever, so the sends in flight finish and are recorded; nothing new starts."""
    stopping = asyncio.Event()
    stopped_by: list[str] = []

    def stop(name: str) -> None:
        if not stopped_by:
            log.warning("post-due: %s: finishing the sends in flight, then stopping", name)
        stopped_by.append(name)
        stopping.set()

    async def main() -> Summary:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop, sig.name)
        async with open_senders(config) as senders:
            return await post_due_with(
                ctx.state, ctx.catalogue, senders, day, default_lang=ctx.tr.lang,
                calendar_url=calendar_url(config), stopping=stopping,
            )  # fmt: skip

    try:
        summary = asyncio.run(main())
    finally:
        ctx.state.close()
    return summary, (stopped_by[0] if stopped_by else None)


__all__ = ["Runtime", "build_runtime", "post_due"]
