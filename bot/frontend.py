"""The contract between kazkor and a chat platform: what the runtime, ops and reminders may use.

* :class:`FrontEnd` (in the manner of opsdroid's connectors): start, stop, routes, sender, health. The
  Telegram and Slack front ends in ``bot.platforms`` implement it; ``bot.app``, ``bot.ops`` and
  ``bot.reminders`` use only this, never the platform library's objects behind it.
* Inbound: a front end turns a platform event into ``bot.commands.parse(...)`` + ``dispatch`` and renders
  the Reply with its platform's renderer.
* Outbound (scheduled posts, ``kazkor post-due``): a :class:`Sender` posts a Reply to a channel and
  translates the platform library's errors into the faults below, so delivery logic (ledger, retries,
  deactivation) is written once for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.reply import Reply

if TYPE_CHECKING:  # aiohttp only for the annotation: `kazkor ask` imports this module and starts fast
    from aiohttp import web


class DeliveryFault(Exception):
    """Base of every platform-neutral send failure."""


class RetryLater(DeliveryFault):
    """Rate limited (Telegram RetryAfter, Slack HTTP 429): wait ``seconds`` and try again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited; retry after {seconds:g} s")
        self.seconds = seconds


class ChannelGone(DeliveryFault):
    """The bot can no longer post there (blocked, kicked, archived, not found): deactivate it."""


class ChannelMoved(DeliveryFault):
    """The chat has a new id (a Telegram group became a supergroup): move the subscription and resend."""

    def __init__(self, new_channel: str) -> None:
        super().__init__(f"chat moved to {new_channel}")
        self.new_channel = new_channel


class AuthFailed(DeliveryFault):
    """The platform refused our credentials: nothing will work on it until an operator fixes the token."""


class Transient(DeliveryFault):
    """A network error before the request left, or a 5xx: retry with backoff, a bounded number of times."""


class OutcomeUnknown(DeliveryFault):
    """The request left but no answer came (a read timeout): the post may or may not be in the channel.
    Never retried blindly (that is how posts got doubled): handled like a post in flight at a crash,
    its claim kept, counted as unconfirmed and reported."""


@dataclass(frozen=True)
class Target:
    platform: str  # "telegram" or "slack"
    channel: str  # Telegram chat id or Slack channel id, as a string
    thread: str | None = None  # Telegram forum topic (message_thread_id); Slack thread_ts


class Sender(Protocol):
    platform: str

    async def send(self, target: Target, reply: Reply) -> None:
        """Post ``reply`` (all its parts, in order) or raise a :class:`DeliveryFault`."""


class FrontEnd(Protocol):
    """One platform, as ``kazkor run`` drives it."""

    platform: str  # "telegram" or "slack": the name in logs, /healthz, metrics and subscriptions

    async def start(self) -> None:
        """Sign in and begin receiving. A refused token raises :class:`AuthFailed` (retrying cannot
        help); any other failure is worth retrying later. Undone by :meth:`stop`, even part way."""

    async def stop(self) -> None:
        """Stop receiving and close connections; safe after a failed or partial start."""

    def routes(self, web_app: web.Application) -> None:
        """Add this platform's inbound HTTP routes to the one server (none in polling / Socket Mode)."""

    def sender(self) -> Sender:
        """A sender that posts through this front end's own client (used once it has started)."""

    async def health(self) -> bool:
        """One cheap authenticated call: True when reachable and connected; False or raises otherwise."""
