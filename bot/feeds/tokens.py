"""Unguessable, rotatable addresses for per-channel calendar feeds: ``/calendar/<token>.ics``.

A token is an HMAC (SHA-256, 160 bits kept, base32) of the channel's key, its subscription's creation
time and a generation counter, under a server secret (``Config.calendar_secret``). Nothing secret is
stored: the state keeps only the counter, so a copy of the state file does not reveal any feed address.
Rotating bumps the counter (the old address stops working at once); unsubscribing and subscribing
again gives a new creation time and so a new address as well.

The state is touched only by :func:`_generation` and :func:`_set_generation`: the counter is the
channel's ``calendar_generation`` setting (``bot.state`` keeps per-channel settings apart from the
subscription record, so /subscribe rewriting the record cannot reset it and bring an old address back).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

SETTING = "calendar_generation"


def _generation(state: Any, platform: str, channel: str) -> int:
    return int(state.channel_setting(platform, str(channel), SETTING) or 0)


def _set_generation(state: Any, platform: str, channel: str, generation: int) -> None:
    state.save_channel_setting(platform, str(channel), SETTING, generation)


def _active(state: Any, platform: str, channel: str) -> dict[str, Any] | None:
    sub = state.subscription(platform, channel)
    return sub if sub is not None and sub.get("active", True) else None


def _token(secret: bytes, sub: dict[str, Any], generation: int) -> str:
    message = "\0".join((sub["platform"], str(sub["channel"]), str(sub.get("created_at")), str(generation)))
    digest = hmac.new(secret, message.encode(), hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode().lower()  # 32 characters, no padding, safe in any URL


def feed_token(secret: bytes, state: Any, platform: str, channel: str) -> str | None:
    """The channel's current feed token; None when it has no active subscription (no reminders)."""
    sub = _active(state, platform, channel)
    return None if sub is None else _token(secret, sub, _generation(state, platform, channel))


def rotate_feed_token(secret: bytes, state: Any, platform: str, channel: str) -> str | None:
    """A new token for the channel (the old one stops working); None when it has no subscription."""
    sub = _active(state, platform, channel)
    if sub is None:
        return None
    generation = _generation(state, platform, channel) + 1
    _set_generation(state, platform, channel, generation)
    return _token(secret, sub, generation)


def subscription_for_token(secret: bytes, state: Any, token: str) -> dict[str, Any] | None:
    """The active subscription whose current token is ``token`` (compared in constant time), or None."""
    given = token.lower().encode()
    found = None
    for sub in state.subscriptions():
        if not sub.get("active", True):
            continue
        generation = _generation(state, sub["platform"], sub["channel"])
        if hmac.compare_digest(_token(secret, sub, generation).encode(), given):
            found = sub
    return found
