"""What every platform adapter shares: the outbound ``Sender`` and platform-neutral delivery faults.

Inbound: an adapter turns a platform event into ``bot.commands.parse(...)`` + ``dispatch`` and renders the
Reply with its platform's renderer. Outbound (scheduled posts, ``kazkor post-due``): a Sender posts a Reply
to a channel and translates the platform library's errors into the faults below, so delivery logic
(ledger, retries, deactivation) is written once for every platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.reply import Reply


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
