"""Plugs health and metrics into ``kazkor run`` through the :class:`~bot.frontend.FrontEnd` protocol only.

:func:`install_ops` is called once by :func:`bot.bootstrap.build_runtime`; it

* mounts ``/healthz`` and ``/metrics`` on the runtime's one HTTP server (so ``PORT`` is always served:
  the Docker HEALTHCHECK and a systemd watchdog script need it even in polling / Socket Mode);
* marks a platform connected once its front end has started (that start signs in: getMe, auth.test)
  and disconnected when it stops;
* adds a :class:`PlatformWatch` service: every :data:`WATCH_INTERVAL` seconds each front end's
  ``health()`` (one cheap authenticated call: Telegram ``getMe``, Slack ``auth.test`` plus the Socket
  Mode connection state) updates the monitor, so a bot that lost its network turns ``/healthz`` red after
  :data:`bot.ops.health.DISCONNECTED_LIMIT` and heals by itself when the network returns.

The scheduler reports its own ticks (``Monitor.scheduler_report``, ``Metrics.scheduler_ran``); front ends
count commands with ``Metrics.command(...)`` (both hooked up by ``bot.bootstrap``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Container, Mapping
from typing import Any

from bot.frontend import FrontEnd
from bot.http import WebServer
from bot.ops.health import Monitor
from bot.ops.metrics import Metrics
from bot.ops.routes import add_ops_routes
from bot.service import Service

log = logging.getLogger(__name__)

WATCH_INTERVAL = 60.0  # seconds between reachability checks
WATCH_TIMEOUT = 10.0  # seconds for one check

Check = Callable[[], Awaitable[Any]]


class PlatformWatch:
    """Periodically checks each platform and tells the monitor (and the error counter) what it found."""

    def __init__(
        self,
        checks: dict[str, Check],
        monitor: Monitor,
        metrics: Metrics,
        *,
        interval: float = WATCH_INTERVAL,
        timeout: float = WATCH_TIMEOUT,
        skip: Callable[[str], bool] = lambda name: False,
    ) -> None:
        self.checks = checks
        self.skip = skip
        self.monitor = monitor
        self.metrics = metrics
        self.interval = interval
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None

    async def check_once(self) -> None:
        for name, check in self.checks.items():
            if self.skip(name):  # not serving (could not start yet): reachable or not, it is down
                continue
            try:
                async with asyncio.timeout(self.timeout):
                    result = await check()
                if result is False:
                    raise ConnectionError("connection is down")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
                # Only the exception's type: its text may carry a URL with the token, and /healthz is public.
                reason = type(exc).__name__
                if isinstance(exc, ConnectionError) and str(exc) == "connection is down":
                    reason = "connection is down"
                log.warning("%s: reachability check failed (%s)", name, reason)
                self.monitor.platform_disconnected(name, reason)
                self.metrics.platform_error(name, "unreachable")
            else:
                self.monitor.platform_connected(name)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check_once()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="kazkor-platform-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def install_ops(
    fronts: Mapping[str, FrontEnd],
    http: WebServer,
    services: list[Service],
    monitor: Monitor,
    metrics: Metrics,
    down: Container[str],
) -> None:
    """Mount the ops routes, report platform starts/stops and add the reachability watch (see above).
    ``down``: the platforms not serving at the moment (could not start yet), left out of the watch."""
    http.route_setups.append(lambda web_app: add_ops_routes(web_app, monitor, metrics))
    for name in fronts:
        monitor.add_platform(name)
    services[:] = [_reported(s, monitor) if s.name in fronts else s for s in services]
    if fronts:
        checks: dict[str, Check] = {name: front.health for name, front in fronts.items()}
        watch = PlatformWatch(checks, monitor, metrics, skip=lambda name: name in down)
        services.append(Service("platform-watch", watch.start, watch.stop))


def _reported(service: Service, monitor: Monitor) -> Service:
    """The same service, telling the monitor when its platform connects (a start signs in) and stops."""
    running = False

    async def start() -> None:
        nonlocal running
        try:
            await service.start()
        except Exception as exc:
            # the type only: the message may hold a URL with the token, and /healthz is public
            monitor.platform_disconnected(service.name, f"could not start ({type(exc).__name__})")
            raise
        running = True
        monitor.platform_connected(service.name)

    async def stop() -> None:
        nonlocal running
        if running:  # a failed start keeps its own reason
            monitor.platform_disconnected(service.name, "stopped")
            running = False
        await service.stop()

    return Service(service.name, start, stop, service.platform)
