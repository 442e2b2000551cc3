"""Telegram updates from different chats answered concurrently, each chat's in the order they came.

python-telegram-bot processes updates one at a time by default: a slow ``sendMessage`` to one chat
(a 429 wait, a slow network) holds up every other chat's answer, and the bot answers at most one
update per round trip to the Bot API. ``concurrent_updates(True)`` lifts that but may answer two
commands from one chat out of order. This update processor (the library's own extension point,
:class:`telegram.ext.BaseUpdateProcessor`) keeps one lock per chat: chats run side by side, a chat's
updates one after another. The library starts the update tasks in arrival order and its semaphore
and ``asyncio.Lock`` both wake waiters first in, first out, so each chat's answers keep that order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in progress at once, across chats. Small on purpose: at Telegram's round trips (~0.1 s) four
# in flight already reach its ~30 messages/s overall limit, and more only cost CPU (bench_telegram.py
# measured 16 at about 0.55 of the throughput of 4: the HTTP client's pool does more work per request
# the more requests it holds).
MAX_CONCURRENT_UPDATES = 4
# Updates taken from the queue at once (running or waiting for their chat or a free slot).
MAX_WAITING_UPDATES = 1024


def chat_of(update: object) -> int | None:
    """The chat an update belongs to; None for updates without one (they run unordered)."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatOrder(BaseUpdateProcessor):
    __slots__ = ("_chats", "_running")

    def __init__(self, max_running: int = MAX_CONCURRENT_UPDATES) -> None:
        # The library's own semaphore is taken before an update knows it must wait for its chat: at a
        # small limit, one chat's queued commands would fill it and stall every other chat. So it only
        # bounds waiting updates (generously), and ``_running`` bounds the ones actually running.
        super().__init__(max_concurrent_updates=MAX_WAITING_UPDATES)
        self._running = asyncio.Semaphore(max_running)
        # chat id -> [its lock, updates holding or waiting for it]; dropped when the count is 0, so
        # the table holds only chats with work in progress.
        self._chats: dict[int, list[Any]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = chat_of(update)
        if chat is None:
            async with self._running:
                await coroutine
            return
        entry = self._chats.setdefault(chat, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0], self._running:
                await coroutine
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._chats[chat]

    async def initialize(self) -> None:
        """Nothing to allocate: locks are made per chat as updates come."""

    async def shutdown(self) -> None:
        """Nothing to free: the library awaits the update tasks before it shuts the processor."""
