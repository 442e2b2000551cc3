"""Run kazkor's real front ends in-process (or as a ``kazkor run`` subprocess) against the stand-ins.

Every wait is bounded: a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.app import serve
from bot.bootstrap.runtime import Runtime, build_runtime
from bot.config import Config

TIMEOUT = 5.0
STOP_TIMEOUT = 12.0


def run(coro: Any, limit: float = 40.0) -> Any:
    """Run one test coroutine with an overall bound."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, limit)

    return asyncio.run(bounded())


def free_port() -> int:
    """A loopback port that was free a moment ago (for servers that must know their URL up front)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_config(tmp_path: Path, **settings: Any) -> Config:
    """A Config on loopback with an ephemeral port (0) unless one is given."""
    settings.setdefault("port", 0)
    return Config(db_path=tmp_path / "state.json", host="127.0.0.1", **settings)


@asynccontextmanager
async def running(config: Config, ctx: Any) -> AsyncIterator[Runtime]:
    """``kazkor run``'s runtime, started; stopped (and checked to exit 0) when the block ends."""
    runtime = build_runtime(config, ctx)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(runtime, stop))
    ready = asyncio.create_task(runtime.ready.wait())
    done, _ = await asyncio.wait({task, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        stop.set()
        status = await asyncio.wait_for(task, STOP_TIMEOUT)
        raise AssertionError(f"the runtime did not start (serve returned {status})")
    try:
        yield runtime
    finally:
        stop.set()
        status = await asyncio.wait_for(task, STOP_TIMEOUT)
    assert status == 0


def base_url(runtime: Runtime) -> str:
    return f"http://127.0.0.1:{runtime.http.bound_port}"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a ``kazkor`` subprocess: no inherited bot settings or proxies."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "SLACK_", "KAZKOR_", "PORT")) and "proxy" not in k.lower()
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def start_kazkor(*args: str, env: dict[str, str], **popen: Any) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_sync(predicate: Any, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    """Poll ``predicate`` (bounded); fail early with the process output if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate(timeout=TIMEOUT)
            raise AssertionError(f"kazkor exited with {proc.returncode} while waiting for {what}:\n{err}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
