"""The addresses of the calendar feeds under KAZKOR_PUBLIC_URL (shared by the routes, /calendar and
reminder posts; no web library imported, so `kazkor ask` stays light)."""

from __future__ import annotations

PUBLIC_PATH = "/calendar.ics"
CHANNEL_PATH = "/calendar/{token}.ics"


def public_feed_url(base: str) -> str:
    return base.rstrip("/") + PUBLIC_PATH


def channel_feed_url(base: str, token: str) -> str:
    return base.rstrip("/") + CHANNEL_PATH.format(token=token)
