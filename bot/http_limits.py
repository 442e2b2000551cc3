"""Limits that keep the one HTTP server of ``kazkor run`` answering when clients misbehave.

Without them, about 1,000 connections that send ``POST /slack/events HTTP/1.1`` and a ``Host`` header and
then nothing stayed open for an hour (aiohttp's default keep-alive timeout is 3,630 s); at the process's
file limit ``/healthz``, Slack commands and Telegram polling all failed. What holds now:

* **Idle / header timeout** (``idle_timeout``): aiohttp's own ``keepalive_timeout`` closes a connection
  that has not delivered a whole request head within this many seconds of connecting, and one that sits
  idle this long between requests.
* **Body timeout** (``body_timeout``): the whole body must arrive within this many seconds of the head,
  else 408 and the connection is closed (aiohttp has no body timeout of its own). The body is read up
  front, so the size cap (``max_body``, 413) applies before any handler runs. After such an answer the
  rest of the body is drained for at most ``linger`` seconds (aiohttp's default: 10), then closed.
* **Keep-alive limit** (``max_requests_per_connection``): the answer to the last allowed request closes
  the connection.
* **Accept errors** (e.g. ``EMFILE`` at the file limit): asyncio reports each failed ``accept()``
  through the loop's exception handler, which wrote 147,000 ERROR lines in 35 s under a flood.
  :class:`ThrottledLoopErrors` lets one line per kind through per :data:`REPORT_INTERVAL`, then says how
  many it held back.
* **Malformed requests** (a header line over 8,190 bytes, too many headers, bad syntax): aiohttp answers
  400 and logs an ERROR with a traceback for each; :class:`QuietBadRequests` turns those into one
  WARNING line per :data:`BAD_REQUEST_INTERVAL`, so no client can fill the log with tracebacks.
* **Connection cap** (``max_connections``): aiohttp has none. When a new connection would exceed it, the
  oldest *idle* connection (no request being handled: a flood of silent sockets, or a keep-alive client)
  is closed to make room, so a real request still gets through at once; only when every connection is
  busy with a request is the new one refused with 503. Keep it well under the file limit
  (``LimitNOFILE``): each connection is one file descriptor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)

REPORT_INTERVAL = 60.0  # seconds between two warnings about closed or refused connections
BAD_REQUEST_INTERVAL = 10.0  # seconds between two warnings about malformed requests
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
    b"Retry-After: 5\r\nConnection: close\r\n\r\nbusy, retry\n"
)


@dataclass(frozen=True)
class HttpLimits:
    idle_timeout: float = 15.0  # s: connect to whole request head, and idle between requests
    body_timeout: float = 10.0  # s: request head to whole body
    max_connections: int = 500  # open connections at once
    max_requests_per_connection: int = 100
    max_body: int = 1024 * 1024  # bytes; Slack and Telegram payloads are a few kilobytes
    # s: after answering a request whose body was not read to the end (408, 413), aiohttp keeps reading
    # and dropping it this long so the client sees the answer rather than a reset (its default: 10 s)
    linger: float = 1.0


class _Refuse(asyncio.Protocol):
    """A connection over the cap while every other one is busy: 503 and close, at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(REFUSAL)
        transport.close()


class ConnectionGuard:
    """The connection cap (a protocol factory wrapping aiohttp's ``Server``) and the per-request limits
    (a middleware): both need to know which connections are handling a request right now."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self._busy: dict[Any, int] = {}  # RequestHandler -> requests in progress on it
        self._served: dict[Any, int] = {}  # RequestHandler -> requests answered on it
        self.closed_idle = 0  # totals, for tests and the periodic warning
        self.refused = 0
        self._reported = (0, 0)
        self._next_report = 0.0
        self._server: web.Server | None = None

    # --- the cap ---------------------------------------------------------------------------------

    def protocol_factory(self, server: web.Server) -> Callable[[], asyncio.BaseProtocol]:
        """What ``loop.create_server`` calls for each accepted connection."""
        self._server = server

        def factory() -> asyncio.BaseProtocol:
            connections = server.connections  # oldest first
            if len(connections) >= self.limits.max_connections and not self._make_room(connections):
                self.refused += 1
                self._report(len(connections))
                return _Refuse()
            return server()

        return factory

    def _make_room(self, connections: list[Any]) -> bool:
        """Close the oldest idle connections until one slot is free; False when all are busy."""
        excess = len(connections) - self.limits.max_connections + 1
        for handler in connections:
            if excess <= 0:
                break
            if handler in self._busy:
                continue
            handler.force_close()
            self._served.pop(handler, None)
            self.closed_idle += 1
            excess -= 1
        self._report(len(connections))
        return excess <= 0

    def _report(self, open_now: int) -> None:
        now = time.monotonic()
        if now < self._next_report:
            return
        closed, refused = self.closed_idle - self._reported[0], self.refused - self._reported[1]
        self._reported = (self.closed_idle, self.refused)
        self._next_report = now + REPORT_INTERVAL
        log.warning(
            "HTTP: %d connections open, the cap (%d) reached: closed %d idle connection(s) and refused %d "
            "since the last report (at most one report per %.0f s)",
            open_now, self.limits.max_connections, closed, refused, REPORT_INTERVAL,
        )  # fmt: skip

    # --- per request -----------------------------------------------------------------------------

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        protocol = request.protocol
        self._busy[protocol] = self._busy.get(protocol, 0) + 1
        try:
            if request.can_read_body:
                try:
                    async with asyncio.timeout(self.limits.body_timeout):
                        await request.read()  # kept by aiohttp: handlers read it again for free
                except TimeoutError:
                    log.warning(
                        "HTTP: %s %s: the body did not arrive within %.0f s; closed",
                        request.method, request.path, self.limits.body_timeout,
                    )  # fmt: skip
                    response: web.StreamResponse = web.Response(status=408, text="request timeout")
                    response.force_close()
                    return response
            response = await handler(request)
            served = self._served.get(protocol, 0) + 1
            self._served[protocol] = served
            if len(self._served) > 2 * self.limits.max_connections and self._server is not None:
                # connections closed by a timeout, not through here: forget them
                open_now = set(self._server.connections)
                self._served = {h: n for h, n in self._served.items() if h in open_now}
            if served >= self.limits.max_requests_per_connection:
                response.force_close()
            return response
        finally:
            left = self._busy.pop(protocol) - 1
            if left:
                self._busy[protocol] = left
            if protocol.transport is None or protocol.transport.is_closing():
                self._served.pop(protocol, None)


class ThrottledLoopErrors:
    """An event loop exception handler that passes on the first error of each kind (the context's
    message and exception type) per ``interval`` and counts the rest, so a storm of identical errors
    (a failing ``accept()`` is reported again on every try) cannot flood the log or fill the disk."""

    def __init__(
        self, interval: float = REPORT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._next: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._previous: Any = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop.get_exception_handler() is self:
            loop.set_exception_handler(self._previous)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        key = (str(context.get("message", "")), type(exc).__name__ if exc is not None else "")
        now = self.clock()
        if now < self._next.get(key, float("-inf")):
            self._held[key] = self._held.get(key, 0) + 1
            return
        self._next[key] = now + self.interval
        held = self._held.pop(key, 0)
        if held:
            context = {**context, "message": f"{context.get('message', '')} ({held} more like it held back "
                       f"in the last {self.interval:.0f} s)"}  # fmt: skip
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


class QuietBadRequests(logging.Filter):
    """On aiohttp's server logger: a malformed request (``HttpProcessingError``, answered 400 by aiohttp)
    becomes one WARNING line without a traceback, at most one per ``interval`` (with a count of those
    held back); every other record passes unchanged."""

    def __init__(self, interval: float = BAD_REQUEST_INTERVAL, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.interval = interval
        self.clock = clock
        self._next = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, HttpProcessingError):
            return True
        now = self.clock()
        if now < self._next:
            self._held += 1
            return False
        self._next = now + self.interval
        held, self._held = self._held, 0
        reason = " ".join(str(exc.message).split())[:120]
        record.msg = "HTTP: a malformed request refused (%s): %s%s"
        record.args = (exc.code, reason, f" ({held} more held back)" if held else "")
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True
