"""The one HTTP server of ``kazkor run``: every inbound route (Slack events, the Telegram webhook, and
whatever else is plugged in, e.g. ``/healthz`` and ``/metrics``) is served by one aiohttp application
on ``PORT``.

Extension point: a *route setup* is any ``Callable[[web.Application], None]`` that adds routes (and, if
it wants, ``on_startup`` / ``on_cleanup`` hooks) to the web application. Append one to
:attr:`WebServer.route_setups` before the server starts::

    def health_routes(app: web.Application) -> None:
        app.router.add_get("/healthz", healthz)

    runtime.http.route_setups.append(health_routes)

The server is started by ``bot.app`` only when at least one route setup was registered, so a bot that
needs no inbound HTTP (Telegram long polling, Slack Socket Mode) opens no port. We own the
``AppRunner`` / ``TCPSite`` (never ``web.run_app``, which would own the event loop). Timeouts, the
connection cap and the body size limit: :mod:`bot.http_limits` (and docs/operations.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web

from bot.http_limits import ConnectionGuard, HttpLimits, QuietBadRequests, ThrottledLoopErrors

log = logging.getLogger(__name__)

RouteSetup = Callable[[web.Application], None]

SHUTDOWN_TIMEOUT = 2.0  # seconds given to in-flight requests when the server stops
MAX_BODY = HttpLimits.max_body


def build_web_app(route_setups: list[RouteSetup], guard: ConnectionGuard | None = None) -> web.Application:
    """A web application with every route setup applied, in order (behind ``guard``'s limits if given)."""
    limits = guard.limits if guard is not None else HttpLimits()
    app = web.Application(
        client_max_size=limits.max_body, middlewares=[guard.middleware] if guard is not None else []
    )
    for setup in route_setups:
        setup(app)
    return app


class _CappedSite(web.TCPSite):
    """``TCPSite`` whose accepted connections go through the guard's cap first (aiohttp has no cap)."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard) -> None:
        super().__init__(runner, host, port)
        self._guard = guard

    async def start(self) -> None:
        # TCPSite.start, with the guard's protocol factory in place of the runner's server
        self._runner._reg_site(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._guard.protocol_factory(server), self._host, self._port, backlog=self._backlog
        )
        self._bound_port = self._server.sockets[0].getsockname()[1] if self._server.sockets else self._port


class WebServer:
    """One aiohttp server on ``host:port`` that we start and stop ourselves."""

    def __init__(self, host: str, port: int, limits: HttpLimits | None = None) -> None:
        self.host = host
        self.port = port
        self.limits = limits or HttpLimits()
        self.route_setups: list[RouteSetup] = []
        self.app: web.Application | None = None
        self.guard: ConnectionGuard | None = None
        self._runner: web.AppRunner | None = None
        self._loop_errors = ThrottledLoopErrors()
        self._bad_requests = QuietBadRequests()

    @property
    def wanted(self) -> bool:
        """True when something registered a route: only then is a port opened."""
        return bool(self.route_setups)

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (useful with port 0 in tests); None before start."""
        if self._runner is None or not self._runner.addresses:
            return None
        return self._runner.addresses[0][1]

    async def start(self) -> None:
        self._loop_errors.install(asyncio.get_running_loop())
        logging.getLogger("aiohttp.server").addFilter(self._bad_requests)
        self.guard = ConnectionGuard(self.limits)
        self.app = build_web_app(self.route_setups, self.guard)
        self._runner = web.AppRunner(
            self.app,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            access_log=None,
            keepalive_timeout=self.limits.idle_timeout,  # also bounds the wait for a request head
            lingering_time=self.limits.linger,
        )
        await self._runner.setup()
        site = _CappedSite(self._runner, self.host, self.port, self.guard)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            self._loop_errors.uninstall(asyncio.get_running_loop())
            logging.getLogger("aiohttp.server").removeFilter(self._bad_requests)
            raise
        routes = sorted(
            {f"{r.method} {r.resource.canonical}" for r in self.app.router.routes() if r.resource}
        )
        log.info("HTTP server listening on %s:%s (%s)", self.host, self.bound_port, ", ".join(routes))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._loop_errors.uninstall(asyncio.get_running_loop())
        logging.getLogger("aiohttp.server").removeFilter(self._bad_requests)
