"""``GET /calendar.ics`` and ``GET /calendar/<token>.ics`` on the runtime's one HTTP server.

Feeds are built off the event loop (``asyncio.to_thread``) and cached per data version; a client that
revalidates with ``If-None-Match`` (weak comparison, RFC 9110 13.1.2) or ``If-Modified-Since`` gets
``304 Not Modified`` with no body while the feed is unchanged.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import web

from bot.commands import Context
from bot.config import Config
from bot.feeds.calendar import FEEDS, MEDIA_TYPE, Feed, FeedCache
from bot.feeds.tokens import subscription_for_token
from bot.feeds.urls import CHANNEL_PATH, PUBLIC_PATH
from bot.http import WebServer

MAX_AGE = 3600  # seconds a cache may reuse a feed without asking
_TOKEN_RE = re.compile(r"^[a-z2-7]{32}$")


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison: ``W/"x"`` and ``"x"`` match; ``*`` matches any current representation."""
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def _not_modified(request: web.Request, feed: Feed) -> bool:
    none_match = request.headers.get("If-None-Match")
    if none_match is not None:  # when both are sent, If-None-Match decides (RFC 9110 13.2.2)
        return _etag_matches(none_match, feed.etag)
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when: datetime = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # an unreadable date is ignored, as the RFC says
    return when.tzinfo is not None and feed.last_modified <= when


def feed_response(request: web.Request, feed: Feed, filename: str) -> web.Response:
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": f"max-age={MAX_AGE}",
    }
    if _not_modified(request, feed):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = MEDIA_TYPE
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return web.Response(body=feed.body, headers=headers)


def add_calendar_routes(web_app: web.Application, ctx: Any, cache: FeedCache, secret: bytes | None) -> None:
    """Mount the public feed and (with a secret) the per-channel feeds."""

    async def public(request: web.Request) -> web.Response:
        now = ctx.clock()
        feed = await asyncio.to_thread(cache.public, ctx.catalogue, now.astimezone(ctx.tz).date(), now)
        return feed_response(request, feed, "kazkor.ics")

    async def channel(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if secret is None or ctx.state is None or not _TOKEN_RE.match(token):
            raise web.HTTPNotFound(text="No such calendar feed.")

        def build() -> Feed | None:
            sub = subscription_for_token(secret, ctx.state, token)
            return None if sub is None else cache.channel(ctx.catalogue, sub, ctx.clock())

        feed = await asyncio.to_thread(build)
        if feed is None:  # rotated, unsubscribed or never issued: all look alike from outside
            raise web.HTTPNotFound(text="No such calendar feed. Ask the bot for the current one: /calendar")
        return feed_response(request, feed, "kazkor-channel.ics")

    web_app.router.add_get(PUBLIC_PATH, public)
    web_app.router.add_get(CHANNEL_PATH, channel)


def install_feeds(ctx: Context, config: Config, http: WebServer) -> None:
    """Called by ``bot.bootstrap.runtime.build_runtime``: the calendar routes on the one HTTP server. The
    command context gets the public URL and the token secret from the same config, so the addresses
    /calendar gives are the ones these routes answer."""
    ctx.public_url = ctx.public_url or config.public_url
    ctx.feed_secret = ctx.feed_secret or config.calendar_secret
    http.route_setups.append(
        lambda web_app: add_calendar_routes(web_app, ctx, FEEDS, ctx.feed_secret)
    )
