"""Stand-in platform servers for tests: the real libraries talk HTTP to these on 127.0.0.1.

Importing this package adds ``127.0.0.1`` and ``localhost`` to ``NO_PROXY``/``no_proxy`` so that a
proxy inherited from the environment can never reroute test traffic (httpx honours those variables).

:class:`StandIn` is the small base both fakes share: an aiohttp app on an ephemeral loopback port,
usable from async tests (``await start()`` / ``await stop()`` or ``async with``) or from sync code
through :meth:`StandIn.run_in_thread`, plus call counting, one-shot faults and delays, and bounded
waits.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import web


def _add_no_proxy() -> None:
    """Append the loopback names to NO_PROXY/no_proxy, keeping whatever was there."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [part.strip() for part in os.environ.get(name, "").split(",") if part.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in present:
                present.append(host)
        os.environ[name] = ",".join(present)


_add_no_proxy()

HOST = "127.0.0.1"
DEFAULT_TIMEOUT = 5.0
T = TypeVar("T")


@dataclass
class Fault:
    """A canned failure for the next ``remaining`` calls of ``method`` (optionally one chat/channel only)."""

    method: str
    target: str | None
    remaining: int
    details: dict[str, Any] = field(default_factory=dict)


class FaultQueue:
    """One-shot faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, method: str, target: Any, count: int, **details: Any) -> None:
        self._faults.append(Fault(method, None if target is None else str(target), count, details))

    def take(self, method: str, target: Any) -> Fault | None:
        """The first fault matching this call, with its count decremented; None when there is none."""
        for fault in self._faults:
            if fault.method == method and (fault.target is None or fault.target == str(target)):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None


class RateWindow:
    """Counts events in the last second per key, to answer 429 like a rate-limited platform."""

    def __init__(self, per_second: float | None) -> None:
        self.per_second = per_second
        self._events: dict[Any, list[float]] = {}

    def exceeded(self, key: Any) -> bool:
        """Record one event for ``key``; True when that makes more than ``per_second`` in one second."""
        if not self.per_second:
            return False
        now = time.monotonic()
        recent = [t for t in self._events.get(key, []) if now - t < 1.0]
        if len(recent) >= self.per_second:
            self._events[key] = recent
            return True
        recent.append(now)
        self._events[key] = recent
        return False


class StandIn:
    """Base of the fake platform servers. Subclasses add routes in :meth:`build_app`."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.port: int | None = None
        self._faults = FaultQueue()
        self._delays: dict[tuple[str, str | None], list[float]] = {}
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def start(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._runner = web.AppRunner(self.build_app(), shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self.before_stop()
        await self._runner.cleanup()
        self._runner = None

    async def before_stop(self) -> None:
        """Release long-running handlers (long polls, websockets) so shutdown is quick."""

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the stand-in is not started")
        return f"http://{HOST}:{self.port}"

    @classmethod
    @contextmanager
    def run_in_thread(cls, **kwargs: Any) -> Iterator[Self]:
        """Run a new stand-in on its own event loop in a daemon thread, for sync tests."""
        fake = cls(**kwargs)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"{cls.__name__}-loop", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(DEFAULT_TIMEOUT)
            yield fake
        finally:
            try:
                asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(DEFAULT_TIMEOUT)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(DEFAULT_TIMEOUT)
                loop.close()

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT) -> T:
        """From another thread, run ``coro`` on the server's loop (e.g. ``push_slash_command``)."""
        if self._loop is None:
            raise RuntimeError("the stand-in is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def call_in_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the server's loop: at once when already there, else thread-safely."""
        loop = self._loop
        if loop is None or loop.is_closed():
            fn()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn()
        else:
            loop.call_soon_threadsafe(fn)

    # --- faults and delays -----------------------------------------------------------------------

    def delay_next(self, method: str, seconds: float, count: int = 1, target: Any = None) -> None:
        """Make the next ``count`` calls of ``method`` (to ``target`` only, e.g. a chat id, if given)
        wait ``seconds`` before being answered."""
        key = (method, None if target is None else str(target))
        self._delays.setdefault(key, []).extend([seconds] * count)

    async def apply_delay(self, method: str, target: Any = None) -> None:
        for key in ((method, None if target is None else str(target)), (method, None)):
            delays = self._delays.get(key)
            if delays:
                await asyncio.sleep(delays.pop(0))
                return

    def take_fault(self, method: str, target: Any = None) -> Fault | None:
        return self._faults.take(method, target)

    # --- bounded waits ---------------------------------------------------------------------------

    @staticmethod
    async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Poll ``predicate`` until it holds; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            await asyncio.sleep(0.01)

    @staticmethod
    def wait_until_sync(predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """:meth:`wait_until` for threads that have no event loop of their own."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.01)


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, url-encoded or multipart body, as one dict of raw values."""
    params: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT") and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({key: value for key, value in form.items() if isinstance(value, str)})
    return params
