"""Idle-connection floods against a server on 127.0.0.1 (tests/test_http_limits.py and
bench/bench_connections.py).

Each idle connection sends what issue 10 measured, ``POST /slack/events HTTP/1.1`` and a ``Host`` header,
and then nothing. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time

IDLE_HEAD = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
OPEN_CONCURRENCY = 200  # connects in flight at once (the server's listen backlog is 128)


def raise_own_file_limit(wanted: int) -> None:
    """Let this process hold ``wanted`` sockets (soft limit up to the hard one), if it may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


async def open_idle(
    port: int, count: int, timeout: float = 60.0, connect_timeout: float = 3.0
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """Up to ``count`` connections that each sent an unfinished request head: those not connected within
    ``connect_timeout`` (a server that stopped accepting) are left out; those the server refused or
    closed at once are included (their reader sees EOF)."""
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)

    async def one() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        async with gate:
            try:
                async with asyncio.timeout(connect_timeout):
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.write(IDLE_HEAD)
                    await writer.drain()
                return reader, writer
            except (OSError, TimeoutError):
                return None

    async with asyncio.timeout(timeout):
        opened = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in opened if c is not None]


async def still_open(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]], wait: float) -> int:
    """How many of ``conns`` the server has not closed after waiting up to ``wait`` seconds for it."""
    deadline = time.monotonic() + wait

    async def closed(reader: asyncio.StreamReader) -> bool:
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                while await reader.read(65536):  # a 503 refusal or 408, then EOF
                    pass
            return True
        except TimeoutError:
            return False
        except OSError:  # reset by the server: closed too
            return True

    results = await asyncio.gather(*(closed(reader) for reader, _ in conns))
    return results.count(False)


def close_all(conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> None:
    for _, writer in conns:
        with contextlib.suppress(Exception):
            writer.transport.abort()
