"""A control's payload: the command, its arguments, the page and the view, signed, in at most 64 bytes.

Button state lives in the button (Telegram ``callback_data``, Slack ``value``), never in the process, so
a press on a message posted before a restart or by another replica is answered the same way. Telegram
allows 64 bytes of callback data; Slack allows more, but both carry the same payload so the code is one.

The payload is ``<signature><body>``: an 11-character base64url HMAC-SHA256 tag (64 bits) over the
body ``1|name|page|view|args``. The key comes from the platform's own secret (see :func:`derive_key`),
the same in every replica. A payload that is not ours, was tampered with, comes from an older format
(the leading ``1``) or names a command that cannot be pressed is refused with :class:`Expired`: the
front end answers "This button has expired, send the command again".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from bot.i18n import N_
from bot.reply import Action

MAX_BYTES = 64  # Telegram's limit for callback_data
FORMAT = "1"
_SIG_CHARS = 11  # base64url of 8 bytes, without padding
MAX_PAGE = 999
# In the presser's channel language (bot.platforms.inbound.expired_text).
EXPIRED = N_("This button has expired, send the command again.")


class Expired(ValueError):
    """A payload we did not make, or can no longer answer."""


@dataclass(frozen=True)
class Press:
    """What a pressed control asks for."""

    command: str
    args: tuple[str, ...] = ()
    page: int = 0
    view: str = ""


def derive_key(secret: str) -> bytes:
    """A signing key from a platform secret (bot token, signing secret): stable across restarts and
    replicas, and a rotated secret retires the old buttons with it."""
    return hmac.new(b"kazkor-buttons", secret.encode(), hashlib.sha256).digest()


def _tag(key: bytes, body: bytes) -> str:
    digest = hmac.new(key, body, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode(key: bytes, action: Action) -> str | None:
    """The payload for ``action``, or None when it would not fit in :data:`MAX_BYTES` (the front end
    then leaves that control out; the text answer is complete without it)."""
    if "|" in action.command or "|" in action.view or not 0 <= action.page <= MAX_PAGE:
        return None
    body = f"{FORMAT}|{action.command}|{action.page}|{action.view}|{' '.join(action.args)}".encode()
    payload = _tag(key, body) + body.decode()
    return payload if len(payload.encode()) <= MAX_BYTES else None


def decode(key: bytes, payload: str, allowed: frozenset[str] | set[str]) -> Press:
    """The :class:`Press` in ``payload``; :class:`Expired` when it is forged, stale or not pressable."""
    if not isinstance(payload, str) or len(payload.encode()) > MAX_BYTES or len(payload) <= _SIG_CHARS:
        raise Expired("malformed payload")
    tag, body = payload[:_SIG_CHARS], payload[_SIG_CHARS:]
    if not hmac.compare_digest(tag, _tag(key, body.encode())):
        raise Expired("bad signature")
    fields = body.split("|", 4)
    if len(fields) != 5 or fields[0] != FORMAT:
        raise Expired("unknown payload format")
    _, command, page, view, args = fields
    if command not in allowed:
        raise Expired(f"/{command} cannot be pressed")
    if not page.isdecimal() or int(page) > MAX_PAGE:
        raise Expired("bad page")
    return Press(command, tuple(args.split()), int(page), view)
