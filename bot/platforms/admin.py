"""Who may change a channel's reminders: the inbound adapters ask these before /subscribe, /unsubscribe
and pass the answer to the core as ``Command.extra["is_admin"]``.

``admins`` is ``Config.admins`` (KAZKOR_ADMINS): user ids that are admins everywhere, written as the
bare id (``123456``, ``U0123ABC``) or with the platform in front (``telegram:123456``, ``slack:U0123ABC``).
Any failure to ask the platform answers "not an admin" (and is logged): refusing is the safe side.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

TELEGRAM_ADMIN_STATUSES = frozenset({"creator", "administrator"})
# Telegram's "GroupAnonymousBot": messages of group admins who post anonymously come from this user.
TELEGRAM_ANONYMOUS_ADMIN = 1087968824


def listed_admin(platform: str, user_id: Any, admins: frozenset[str]) -> bool:
    user = str(user_id)
    return user in admins or f"{platform}:{user}" in admins


async def telegram_is_admin(
    bot: Any, chat_id: int | str, chat_type: str | None, user_id: int | str | None, admins: frozenset[str]
) -> bool:
    """True in a private chat, for KAZKOR_ADMINS, for channel posts and anonymous group admins, and for
    members whose ``getChatMember`` status is creator or administrator."""
    if chat_type == "private":
        return True
    if chat_type == "channel":
        return True  # only a channel's admins can post in it
    if user_id is None:
        return False
    if listed_admin("telegram", user_id, admins):
        return True
    if str(user_id) == str(TELEGRAM_ANONYMOUS_ADMIN):
        return True
    from telegram.error import TelegramError

    try:
        member = await bot.get_chat_member(chat_id, int(user_id))
    except (TelegramError, ValueError, OSError) as exc:
        log.warning("telegram: could not check admin rights of %s in %s: %s", user_id, chat_id, exc)
        return False
    return getattr(member, "status", None) in TELEGRAM_ADMIN_STATUSES


async def slack_is_admin(client: Any, user_id: str | None, admins: frozenset[str]) -> bool:
    """True for KAZKOR_ADMINS and for workspace admins and owners (``users.info``)."""
    if not user_id:
        return False
    if listed_admin("slack", user_id, admins):
        return True
    from slack_sdk.errors import SlackClientError

    try:
        response = await client.users_info(user=user_id)
    except (SlackClientError, OSError) as exc:
        log.warning("slack: could not check admin rights of %s: %s", user_id, exc)
        return False
    user = (response.get("user") if hasattr(response, "get") else None) or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
