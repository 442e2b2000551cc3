"""A :class:`Service`: something with an async start and stop, run for the lifetime of ``kazkor run``.

``bot.bootstrap`` lists them in start order; ``bot.app`` starts them in that order and stops them in
reverse. It lives apart from both so ``bot.ops`` and ``bot.reminders`` can hand services over without
importing the layers above them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Service:
    name: str
    start: Callable[[], Awaitable[Any]]
    stop: Callable[[], Awaitable[Any]]
    # The platform this service belongs to. If it cannot start, the other platforms serve on and it is
    # tried again in the background (unless its token was refused); anything else failing stops kazkor.
    platform: str | None = None
