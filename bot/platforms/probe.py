"""Reachability probes for ``kazkor doctor``: can we reach each platform, and does it accept our token?

Kept here because only ``bot/platforms`` imports the platform libraries. Each probe makes one cheap,
read-only call with a bounded timeout and returns a :class:`Probe`; it never raises and never puts a token
in its text (the caller scrubs anyway).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

PROBE_TIMEOUT = 5.0

_SLACK_TOKEN_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}


@dataclass(frozen=True)
class Probe:
    ok: bool
    detail: str
    fix: str | None = None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


async def probe_telegram(token: str, api_url: str, timeout: float = PROBE_TIMEOUT) -> Probe:
    """``getMe`` with ``token`` against ``api_url`` (``TELEGRAM_API_URL``)."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
    from telegram.request import HTTPXRequest

    host = _host(api_url)
    request = HTTPXRequest(
        connect_timeout=timeout, read_timeout=timeout, write_timeout=timeout, pool_timeout=timeout
    )
    bot = Bot(token, base_url=api_url, request=request)
    try:
        async with asyncio.timeout(timeout * 2):
            me = await bot.get_me()
    except InvalidToken:
        return Probe(
            False,
            f"getMe at {host}: the token was refused (Unauthorized)",
            "set TELEGRAM_BOT_TOKEN to the token @BotFather gives you (/mybots → your bot → API Token); "
            "if you revoked it, copy the new one",
        )
    except (TimedOut, TimeoutError):
        return Probe(
            False,
            f"getMe at {host}: no answer within {timeout:g} s",
            f"check that this machine can reach {host} over HTTPS (firewall, proxy: HTTPS_PROXY) "
            "or fix TELEGRAM_API_URL",
        )
    except NetworkError as exc:
        return Probe(
            False,
            f"getMe at {host}: network error ({exc})",
            f"check that this machine can reach {host} over HTTPS (DNS, firewall, proxy) "
            "or fix TELEGRAM_API_URL",
        )
    except TelegramError as exc:
        return Probe(False, f"getMe at {host}: {exc}", "check TELEGRAM_BOT_TOKEN and TELEGRAM_API_URL")
    finally:
        try:
            await bot.shutdown()
        except Exception:  # noqa: BLE001, S110 - closing a client that never opened
            pass
    return Probe(True, f"getMe at {host}: @{me.username} (id {me.id})")


async def _slack_call(token: str, api_url: str, method: str, timeout: float, **kwargs: object) -> dict:
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=token, base_url=api_url, timeout=int(max(1, timeout)))
    async with asyncio.timeout(timeout * 2):
        response = await client.api_call(method, params=kwargs or None)
    return dict(response.data) if isinstance(response.data, dict) else {}


async def probe_slack(
    bot_token: str, api_url: str, app_token: str | None = None, timeout: float = PROBE_TIMEOUT
) -> Probe:
    """``auth.test`` with the bot token and, for Socket Mode, ``apps.connections.open`` with the app token."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    host = _host(api_url)
    network_fix = (
        f"check that this machine can reach {host} over HTTPS (DNS, firewall, proxy: HTTPS_PROXY) "
        "or fix SLACK_API_URL"
    )
    try:
        data = await _slack_call(bot_token, api_url, "auth.test", timeout)
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        if error in _SLACK_TOKEN_ERRORS:
            fix = (
                "set SLACK_BOT_TOKEN to the Bot User OAuth Token (xoxb-…) from your app's "
                "OAuth & Permissions page; reinstall the app to the workspace if it was revoked"
            )
        elif error == "not_allowed_token_type":
            fix = "SLACK_BOT_TOKEN holds another kind of token: use the Bot User OAuth Token (xoxb-…)"
        else:
            fix = (
                "check SLACK_BOT_TOKEN and SLACK_API_URL; see https://api.slack.com/methods/auth.test#errors"
            )
        return Probe(False, f"auth.test at {host}: refused ({error})", fix)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        return Probe(False, f"auth.test at {host}: no answer within {timeout:g} s", network_fix)
    except aiohttp.ClientError as exc:
        return Probe(False, f"auth.test at {host}: network error ({type(exc).__name__}: {exc})", network_fix)
    who = f"{data.get('user', '?')} in {data.get('team', '?')} ({data.get('team_id', '?')})"
    detail = f"auth.test at {host}: {who}"
    if not app_token:
        return Probe(True, detail + "; HTTP mode")
    try:
        await _slack_call(app_token, api_url, "apps.connections.open", timeout)
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        return Probe(
            False,
            f"{detail}; but apps.connections.open refused the app token ({error})",
            "set SLACK_APP_TOKEN to an app-level token (xapp-…) with the connections:write scope "
            "(Basic Information → App-Level Tokens) and turn on Socket Mode for the app",
        )
    except (TimeoutError, aiohttp.ClientError) as exc:
        return Probe(False, f"{detail}; apps.connections.open failed ({type(exc).__name__})", network_fix)
    return Probe(True, detail + "; Socket Mode token accepted")
