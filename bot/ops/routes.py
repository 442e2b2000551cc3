"""``GET /healthz`` and ``GET /metrics``, mounted on the runtime's one aiohttp server (PORT).

``kazkor run`` calls :func:`add_ops_routes` on the same ``web.Application`` that serves ``/slack/events``
and the Telegram webhook, so health and metrics need no second port.
"""

from __future__ import annotations

from aiohttp import web

from bot.ops.health import Monitor
from bot.ops.metrics import Metrics

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def add_ops_routes(web_app: web.Application, monitor: Monitor, metrics: Metrics) -> None:
    """Add ``/healthz`` (200 or 503 with the reasons, JSON) and ``/metrics`` (Prometheus text)."""

    async def healthz(request: web.Request) -> web.Response:
        health = monitor.check()
        return web.json_response(
            health.as_json(), status=health.status_code, headers={"Cache-Control": "no-store"}
        )

    async def metrics_handler(request: web.Request) -> web.Response:
        metrics.sync_from(monitor)
        return web.Response(
            body=metrics.render(), headers={"Content-Type": metrics.content_type, "Cache-Control": "no-store"}
        )

    web_app.router.add_get(HEALTH_PATH, healthz)
    web_app.router.add_get(METRICS_PATH, metrics_handler)
