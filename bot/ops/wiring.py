"""Plugs health and metrics into ``kazkor run`` (``bot.app``) without touching the front ends.

:func:`install_ops` is called once by :func:`bot.app.build_runtime`; it

* mounts ``/healthz`` and ``/metrics`` on the runtime's one HTTP server (so ``PORT`` is always served:
  the Docker HEALTHCHECK and a systemd watchdog script need it even in polling / Socket Mode);
* marks a platform connected once its front end has started (that start signs in: getMe, auth.test)
  and disconnected when it stops;
* adds a :class:`PlatformWatch` service: every :data:`WATCH_INTERVAL` seconds one cheap authenticated
  call per platform (Telegram ``getMe``, Slack ``auth.test``, plus the Socket Mode connection state)
  updates the monitor, so a bot that lost its network turns ``/healthz`` red after
  :data:`bot.ops.health.DISCONNECTED_LIMIT` and heals by itself when the network returns.

The scheduler reports its own ticks (``runtime.monitor.scheduler_started/scheduler_ticked``,
``runtime.metrics.scheduler_ran``); adapters count commands with ``runtime.metrics.command(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.ops.health import Monitor
from bot.ops.metrics import Metrics
from bot.ops.routes import add_ops_routes

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


def _slack_check(front: Any) -> Check:
    async def check() -> bool:
        await front.app.client.auth_test()
        handler = getattr(front, "socket_handler", None)
        if handler is not None:
            return bool(await handler.client.is_connected())
        return True

    return check


def install_ops(runtime: Any) -> None:
    """Mount the ops routes, report platform starts/stops and add the reachability watch (see above)."""
    from bot.app import Service

    monitor: Monitor = runtime.monitor
    metrics: Metrics = runtime.metrics
    runtime.http.route_setups.append(lambda web_app: add_ops_routes(web_app, monitor, metrics))
    for front_end in (runtime.telegram, runtime.slack):
        if front_end is not None:
            front_end.replies.observe = metrics.command  # commands by platform and name, reply latency

    checks: dict[str, Check] = {}
    if runtime.telegram is not None:
        checks["telegram"] = runtime.telegram.application.bot.get_me
    if runtime.slack is not None:
        checks["slack"] = _slack_check(runtime.slack)
    for name in checks:
        monitor.add_platform(name)

    def reported(service: Any) -> Any:
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

    runtime.services[:] = [reported(s) if s.name in checks else s for s in runtime.services]
    if checks:
        watch = PlatformWatch(checks, monitor, metrics, skip=lambda name: name in runtime.down)
        runtime.services.append(Service("platform-watch", watch.start, watch.stop))
