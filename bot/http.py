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
``AppRunner`` / ``TCPSite`` (never ``web.run_app``, which would own the event loop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)

RouteSetup = Callable[[web.Application], None]

SHUTDOWN_TIMEOUT = 2.0  # seconds given to in-flight requests when the server stops
MAX_BODY = 1024 * 1024  # Slack and Telegram payloads are a few kilobytes


def build_web_app(route_setups: list[RouteSetup]) -> web.Application:
    """A web application with every route setup applied, in order."""
    app = web.Application(client_max_size=MAX_BODY)
    for setup in route_setups:
        setup(app)
    return app


class WebServer:
    """One aiohttp server on ``host:port`` that we start and stop ourselves."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.route_setups: list[RouteSetup] = []
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

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
        self.app = build_web_app(self.route_setups)
        self._runner = web.AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        routes = sorted(
            {f"{r.method} {r.resource.canonical}" for r in self.app.router.routes() if r.resource}
        )
        log.info("HTTP server listening on %s:%s (%s)", self.host, self.bound_port, ", ".join(routes))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
