"""``kazkor run``: every configured platform in one asyncio loop, stopped cleanly on SIGTERM/SIGINT.

The shape, so that other features plug in with a line or two:

- :class:`Runtime` holds the config, the command context (catalogue + state), the platform front ends
  (``telegram`` / ``slack``, None when not configured), the shared HTTP server (``http``, a
  :class:`bot.http.WebServer`) and an ordered list of :class:`Service` (async start / stop).
- :func:`build_runtime` fills it in. To add something, append to it before :func:`serve`::

      runtime.http.route_setups.append(add_health_routes)        # GET /healthz on the same port
      runtime.services.append(Service("scheduler", start, stop))  # started last, stopped first

- :func:`serve` starts the services in order, waits for the stop event, then stops the started ones in
  reverse order, each bounded, all within :data:`STOP_BUDGET` seconds.

Never ``Application.run_polling()`` nor ``AsyncApp.start()``: both want to own the loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config import Config
from bot.http import WebServer
from bot.http_limits import HttpLimits
from bot.ops.health import Monitor
from bot.ops.metrics import Metrics

if TYPE_CHECKING:
    from bot.commands import Context
    from bot.platforms.slack import SlackFrontEnd
    from bot.platforms.telegram import TelegramFrontEnd

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
STOP_BUDGET = 9.0  # seconds for stopping everything (systemd/Docker wait 10 s before SIGKILL)
STOP_STEP = 5.0  # at most this long for one service
# Seconds between tries to start a platform that could not start (a network or platform outage at
# boot); the last value repeats until it starts or kazkor stops.
PLATFORM_RETRY_DELAYS = (15.0, 30.0, 60.0, 120.0, 300.0)

NO_PLATFORM_MESSAGE = """\
kazkor run: no platform is configured, so there is nothing to serve.
Set at least one of:
  Telegram:  TELEGRAM_BOT_TOKEN=<token from @BotFather>
  Slack:     SLACK_BOT_TOKEN=xoxb-... and SLACK_SIGNING_SECRET=... (HTTP mode, POST /slack/events on PORT)
             or SLACK_BOT_TOKEN=xoxb-... and SLACK_APP_TOKEN=xapp-... (Socket Mode)
See deploy/.env.example for every setting. To try the commands without a platform: kazkor console"""


REPLICAS_NEED_WEBHOOK = """\
kazkor run: KAZKOR_STATE_URL is PostgreSQL, where several replicas share one database, and Telegram
polling cannot be shared between replicas (a second poller gets Conflict). Set TELEGRAM_WEBHOOK_URL
(https://your.host/telegram) and TELEGRAM_WEBHOOK_SECRET; see docs/state.md."""


@dataclass
class Service:
    """Something with an async start and stop, run for the lifetime of ``kazkor run``."""

    name: str
    start: Callable[[], Awaitable[Any]]
    stop: Callable[[], Awaitable[Any]]
    # The platform this service belongs to. If it cannot start, the other platforms serve on and it is
    # tried again in the background (unless its token was refused); anything else failing stops kazkor.
    platform: str | None = None


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
    calendar_url: str | None = None  # the public calendar feed: "Add to calendar" in reminder posts
    leadership: Any = None  # bot.state.leader.Leadership: whether this replica runs the scheduler
    reminders: Any = None  # bot.reminders.schedule.ReminderService (runs while this replica leads)

    @property
    def state(self) -> Any:
        """The state store (subscriptions, ledger): ``bot.state.StateStore``."""
        return self.ctx.state

    @property
    def telegram_app(self) -> Any:
        """The python-telegram-bot ``Application`` (its ``.bot`` sends), or None."""
        return self.telegram.application if self.telegram else None

    @property
    def slack_app(self) -> Any:
        """The slack-bolt ``AsyncApp`` (its ``.client`` posts), or None."""
        return self.slack.app if self.slack else None


def no_platform(config: Config) -> bool:
    return not config.telegram_enabled and not config.slack_enabled


def build_runtime(config: Config, ctx: Context, *, host: str | None = None) -> Runtime:
    """Build (not start) every configured front end and register their routes and services."""
    limits = HttpLimits(
        idle_timeout=config.http_idle_timeout,
        body_timeout=config.http_body_timeout,
        max_connections=config.http_max_connections,
    )
    runtime = Runtime(config=config, ctx=ctx, http=WebServer(host or config.host, config.port, limits))
    if config.telegram_enabled:
        from bot.platforms.telegram import TelegramFrontEnd

        runtime.telegram = TelegramFrontEnd(config, ctx)
        runtime.services.append(
            Service("telegram", runtime.telegram.start, runtime.telegram.stop, platform="telegram")
        )
        if config.telegram_webhook_url:
            runtime.http.route_setups.append(runtime.telegram.add_routes)
    if config.slack_enabled:
        from bot.platforms.slack import SlackFrontEnd

        runtime.slack = SlackFrontEnd(config, ctx)
        runtime.services.append(Service("slack", runtime.slack.start, runtime.slack.stop, platform="slack"))
        if not runtime.slack.socket_mode:
            runtime.http.route_setups.append(runtime.slack.add_routes)
    runtime.services.append(Service("http", _start_http(runtime.http), runtime.http.stop))
    if runtime.telegram is not None and config.telegram_webhook_url:
        # only once the server listens, so Telegram's first delivery finds us
        runtime.services.append(
            Service("telegram-webhook", runtime.telegram.set_webhook, _nothing, platform="telegram")
        )
    from bot.ops.wiring import install_ops

    install_ops(runtime)  # /healthz + /metrics on the same server, platform state, reachability watch
    from bot.feeds.urls import public_feed_url
    from bot.reminders.schedule import install_reminders

    runtime.calendar_url = public_feed_url(config.public_url) if config.public_url else None
    install_reminders(runtime)  # scheduled reminders: started after the front ends, stopped before them
    from bot.feeds.routes import install_feeds

    install_feeds(runtime)  # GET /calendar.ics and /calendar/<token>.ics on the same server
    return runtime


def _start_http(server: WebServer) -> Callable[[], Awaitable[None]]:
    async def start() -> None:
        if server.wanted:  # nobody registered a route: open no port
            await server.start()

    return start


async def _nothing() -> None:
    return None


async def serve(runtime: Runtime, stop: asyncio.Event) -> int:
    """Start every service in order, run until ``stop`` is set, stop in reverse order.

    A platform that cannot start is logged, left out and tried again in the background while the
    others serve (not when its token was refused: that needs a person). Returns 0 after a clean stop,
    1 when no platform could start or another service failed (those started are stopped first).
    """
    from bot.platforms.senders import credentials_refused

    started: list[Service] = []
    waiting: dict[str, list[Service]] = {}  # platform -> its services still to start
    retries: list[asyncio.Task[None]] = []
    status = EXIT_OK
    current = "?"
    try:
        for service in runtime.services:
            current = service.name
            if service.platform in waiting:  # e.g. the webhook of a Telegram that did not start
                waiting[service.platform].append(service)
                continue
            log.info("starting %s", service.name)
            try:
                await service.start()
            except Exception as exc:
                if service.platform is None:
                    raise
                await _undo_start(service)
                waiting[service.platform] = [service]
                runtime.down.add(service.platform)
                _log_platform_failure(service.platform, exc, runtime.platform_retry_delays[0])
                if credentials_refused(exc):
                    waiting[service.platform] = []  # nothing to retry
                continue
            started.append(service)
        platforms = {s.platform for s in runtime.services if s.platform}
        if platforms and platforms <= runtime.down:
            log.error("no platform could start: stopping (see the lines above for why)")
            return EXIT_FAILURE
        for platform, services in waiting.items():
            if services:
                retries.append(
                    asyncio.create_task(
                        _start_later(runtime, platform, services, started, stop),
                        name=f"kazkor-start-{platform}",
                    )
                )
        runtime.ready.set()
        log.info("kazkor is running (%s); stop with SIGTERM or Ctrl-C", ", ".join(s.name for s in started))
        await stop.wait()
        log.info("stopping")
    except Exception as exc:
        log.error("could not start %s: %s: %s", current, type(exc).__name__, exc)
        log.debug("start failure", exc_info=True)
        status = EXIT_FAILURE
    finally:
        runtime.ready.clear()
        for task in retries:
            task.cancel()
        if retries:
            await asyncio.wait(retries, timeout=STOP_STEP)
        await _stop_all(started)
    return status


def _log_platform_failure(platform: str, exc: Exception, retry_in: float) -> None:
    from bot.platforms.senders import credentials_refused

    if credentials_refused(exc):
        log.error(
            "%s refused the bot's token (%s): %s is off until the token is fixed and kazkor restarted; "
            "the other platforms go on",
            platform, type(exc).__name__, platform,
        )  # fmt: skip
    else:
        log.error(
            "could not start %s (%s: %s); the other platforms go on, and it is tried again in %.0f s",
            platform, type(exc).__name__, exc, retry_in,
        )  # fmt: skip


async def _undo_start(service: Service) -> None:
    """Stop a service whose start failed part way (front ends undo what they did), quietly."""
    try:
        await asyncio.wait_for(service.stop(), STOP_STEP)
    except Exception:  # noqa: BLE001 - its start already failed; that is what gets reported
        log.debug("undoing the start of %s failed", service.name, exc_info=True)


async def _start_later(
    runtime: Runtime, platform: str, services: list[Service], started: list[Service], stop: asyncio.Event
) -> None:
    """Try to start a platform's services again, with growing pauses, until it works or kazkor stops."""
    from bot.platforms.senders import credentials_refused

    delays = runtime.platform_retry_delays
    attempt = 0
    while True:
        delay = delays[min(attempt, len(delays) - 1)]
        attempt += 1
        try:
            await asyncio.wait_for(stop.wait(), delay)
            return  # stopping
        except TimeoutError:
            pass
        done: list[Service] = []
        try:
            for service in services:
                await service.start()
                done.append(service)
        except BaseException as exc:
            for service in [*reversed(done), services[len(done)]]:
                await _undo_start(service)
            if not isinstance(exc, Exception):
                raise  # cancelled: kazkor is stopping
            if credentials_refused(exc):
                _log_platform_failure(platform, exc, 0)
                return
            following = delays[min(attempt, len(delays) - 1)]
            log.warning(
                "%s still cannot start (%s: %s); next try in %.0f s",
                platform,
                type(exc).__name__,
                exc,
                following,
            )
            continue
        started.extend(done)
        runtime.down.discard(platform)
        log.info("%s started on try %d; it serves again", platform, attempt + 1)
        return


async def _stop_all(started: list[Service]) -> None:
    deadline = time.monotonic() + STOP_BUDGET
    for service in reversed(started):
        remaining = deadline - time.monotonic()
        try:
            await asyncio.wait_for(service.stop(), max(0.1, min(STOP_STEP, remaining)))
        except TimeoutError:
            log.warning("stopping %s took too long; moving on", service.name)
        except Exception:
            log.warning("stopping %s failed", service.name, exc_info=True)


async def main(config: Config, ctx: Context, *, stop: asyncio.Event | None = None) -> int:
    """Build the runtime and serve until SIGTERM/SIGINT (or until ``stop`` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    try:
        runtime = build_runtime(config, ctx)
        return await serve(runtime, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass


def run(config: Config) -> int:
    """Entry point of ``kazkor run``: the exit status."""
    if no_platform(config):
        print(NO_PLATFORM_MESSAGE, file=sys.stderr)
        return EXIT_USAGE
    if config.postgres and config.telegram_enabled and not config.telegram_webhook_url:
        print(REPLICAS_NEED_WEBHOOK, file=sys.stderr)
        return EXIT_USAGE
    from bot.cli import build_context

    # Loads the catalogue and the state once. On SQLite this process takes the scheduler lock now (one
    # `kazkor run` per file); on PostgreSQL replicas are elected while they run (bot.state.leader).
    ctx = build_context(config, writer=not config.postgres, command="kazkor run")
    try:
        return asyncio.run(main(config, ctx))
    finally:
        if ctx.state is not None:
            ctx.state.close()
