"""What the Slack and Telegram front ends share on the way in: text -> Command (with the platform's
``extra``) -> the shared core -> Reply. The adapters only translate events and send the rendered parts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from bot.commands import ALIASES, COMMANDS, Command, Context, parse
from bot.commands.controls import PRESSABLE, interactive
from bot.commands.language import language_of
from bot.commands.parse import PARSE_EXAMPLE, ParseError
from bot.commands.payload import EXPIRED, Press, decode, derive_key, encode
from bot.i18n import ENGLISH, N_, translator
from bot.reply import Action, Attachment, Reply, usage

log = logging.getLogger(__name__)

# Commands that change what a channel receives: the adapter checks whether the asker may do that.
ADMIN_COMMANDS = frozenset({"subscribe", "unsubscribe", "language"})
# The subscription commands (bot.commands.subscriptions): the adapters answer them after reading state.
SUBSCRIPTION_COMMANDS = ("subscribe", "unsubscribe", "subscriptions")


def parse_text(
    text: str, *, platform: str, channel: str, user: str, ctx: Context | None = None, **extra: Any
) -> Command | Reply:
    """The Command for ``text``, or a usage Reply when it cannot be parsed (e.g. far too long), in the
    language the command would have been answered in (``ctx`` and ``extra``: chat type, user language)."""
    try:
        return parse(text, platform=platform, channel=channel, user=user)
    except ParseError as exc:
        spec = COMMANDS.get(ALIASES.get(exc.name, exc.name))  # the typed command's own example
        tr = (
            ENGLISH
            if ctx is None
            else translator(language_of(Command(exc.name, (), platform, channel, user, extra), ctx))
        )
        return usage(exc.message(tr), spec.example if spec else PARSE_EXAMPLE, tr)


def canonical_name(command: Command) -> str:
    return ALIASES.get(command.name, command.name)


def needs_admin_check(command: Command) -> bool:
    name = canonical_name(command)
    if name == "calendar":  # only "/calendar rotate" changes anything
        return [arg.lower() for arg in command.args] == ["rotate"]
    return name in ADMIN_COMMANDS


def with_extra(command: Command, **extra: Any) -> Command:
    return dataclasses.replace(command, extra={**command.extra, **extra})


def answer(command: Command, ctx: Context, page: int = 0, view: str = "") -> Reply:
    """The shared core, one page with its controls (see :mod:`bot.commands.controls`). Commands are
    in-memory and fast, so this runs on the event loop directly."""
    return interactive(command, ctx, page, view)


class Controls:
    """Payloads of one front end's controls, signed with a key derived from that platform's secret
    (the same in every replica, so a button outlives the process that made it)."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret)

    def encode(self, action: Action) -> str | None:
        return encode(self._key, action)

    def decode(self, payload: str) -> Press:
        """The press in ``payload``; :class:`bot.commands.payload.Expired` when forged or stale."""
        return decode(self._key, payload, PRESSABLE)


def expired_text(ctx: Context, *, platform: str, channel: str, user: str, **extra: Any) -> str:
    """The alert for a forged or stale control, in the language the presser would be answered in
    there (the channel's /language; in a Telegram private chat the user's own language)."""
    return translator(language_of(Command("", (), platform, channel, user, extra), ctx)).gettext(EXPIRED)


def press_command(press: Press, *, platform: str, channel: str, user: str, **extra: Any) -> Command:
    """A pressed control as the command it stands for."""
    return Command(press.command, press.args, platform, channel, user, extra)


FILE_FAILED = N_("Sorry, the file could not be made. It has been logged; please try again later.")
NOT_SHARED = N_(
    "Could not share {filename} here (Slack said: {error}). "
    "Invite the bot to this channel (/invite @kazkor), or use the link above."
)


def file_failed(attachment: Attachment) -> str:
    """The apology for a file that could not be made, in its answer's language."""
    return translator(attachment.lang).gettext(FILE_FAILED)


async def produce_file(attachment: Attachment) -> bytes | None:
    """The bytes of an attached file, built in a worker thread (the first chart takes a while to draw);
    None, and the failure logged, when it cannot be built: the answer's text has gone out already."""
    try:
        return await asyncio.to_thread(attachment.produce)
    except Exception:
        log.exception("could not build the attached file %s", attachment.filename)
        return None


# --- rendered replies, cached ---------------------------------------------------------------------

# Commands whose answer is a pure function of (command name, arguments, catalogue, local date): they
# read ``ctx.catalogue``, the answer's language and (only /upcoming) ``ctx.today()`` and nothing else —
# not the channel, the user, ``extra`` (chat type, thread, admin flag) nor the state store. Never add a
# command here that reads or changes state (/subscribe, /unsubscribe, /subscriptions, /language).
CACHEABLE_COMMANDS = frozenset({"trade", "agreements", "timeline", "upcoming", "search", "source", "help"})
CACHE_SIZE = 512  # rendered answers kept (least recently used dropped first)
# Commands that read or write the state database: answered on a worker thread, so a database write
# (fsync on SQLite, a round trip to PostgreSQL) never stalls the event loop.
STATE_COMMANDS = frozenset({"subscribe", "unsubscribe", "subscriptions"})


@dataclasses.dataclass(frozen=True)
class Rendered:
    """A Reply rendered for one platform: its message parts, in order, and whether all may see it.
    Shared between requests when cached: senders must not modify the parts."""

    parts: tuple[Any, ...]
    public: bool
    attachments: tuple[Attachment, ...] = ()  # files sent after the parts (see bot.reply.Attachment)


class RenderedReplies:
    """Command -> rendered answer for one front end, with a bounded LRU cache for the commands in
    :data:`CACHEABLE_COMMANDS`.

    Why serving a cached answer is safe: such an answer depends on nothing but the command text and
    the catalogue (plus, for /upcoming, today's date in ``ctx.tz``), and the key holds all of it:

    * the platform (each renders differently) and the normalised command: the canonical name (aliases
      and the ``/kazkor`` umbrella resolved, ``@BotName`` dropped) and the arguments, split on
      whitespace but kept verbatim (/search and /source echo them back);
    * the local date in ``ctx.tz`` and the zone itself, so /upcoming moves on at local midnight;
    * the language the answer is written in (chosen per channel before the look-up);
    * the catalogue object, ``len(catalogue)`` and the number of sources: the catalogue only grows
      (``Catalogue.add`` indexes a new record or raises before touching anything), so any added fact
      or source changes the key and the next request recomputes; a replaced catalogue is another key.

    Errors (``kind == "error"``, an unexpected failure) are never cached, so a retry recomputes. The
    /help text comes from the command registry, which is complete once ``bot.commands`` is imported;
    a cache lives as long as its front end. Everything runs on the event loop: no locking needed.
    """

    def __init__(self, platform: str, render: Callable[[Reply], Any], maxsize: int = CACHE_SIZE) -> None:
        self.platform = platform
        self._render = render
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple, Rendered] = OrderedDict()
        self.hits = self.misses = 0
        # (platform, command name, seconds from receipt to reply sent): set by `kazkor run` to the metrics
        self.observe: Callable[[str, str, float], None] | None = None

    def report(self, parsed: Command | Reply | None, started: float) -> None:
        """Count one answered command or pressed control (``started``: ``time.perf_counter()`` when it
        arrived); a press of a forged or expired control counts as ``other``."""
        if self.observe is not None:
            name = canonical_name(parsed) if isinstance(parsed, Command) else "other"
            self.observe(self.platform, name, time.perf_counter() - started)

    def render(self, reply: Reply) -> Rendered:
        return Rendered(tuple(self._render(reply)), reply.public, reply.attachments)

    async def answer_async(self, command: Command, ctx: Context, page: int = 0, view: str = "") -> Rendered:
        """:meth:`answer`, on a worker thread for :data:`STATE_COMMANDS` (they do blocking I/O)."""
        if canonical_name(command) in STATE_COMMANDS:
            return await asyncio.to_thread(self.answer, command, ctx, page, view)
        return self.answer(command, ctx, page, view)

    def answer(self, command: Command, ctx: Context, page: int = 0, view: str = "") -> Rendered:
        """Dispatch and render ``command`` (``page`` and ``view`` of a pressed control), from the
        cache when its answer cannot have changed."""
        name = canonical_name(command)
        if name not in CACHEABLE_COMMANDS:
            return self.render(answer(command, ctx, page, view))
        catalogue = ctx.catalogue
        lang = language_of(command, ctx)
        command = with_extra(command, lang=lang)  # dispatch answers in it without choosing again
        key = (
            self.platform,
            name,
            lang,
            command.args,
            page,
            view,
            ctx.today(),
            ctx.tz,
            catalogue,  # by identity (Catalogue does not define __eq__)
            len(catalogue),
            len(catalogue.sources),
        )
        entries = self._entries
        cached = entries.get(key)
        if cached is not None:
            entries.move_to_end(key)
            self.hits += 1
            return cached
        self.misses += 1
        reply = answer(command, ctx, page, view)
        rendered = self.render(reply)
        if reply.kind != "error":
            entries[key] = rendered
            if len(entries) > self._maxsize:
                entries.popitem(last=False)
        return rendered

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
