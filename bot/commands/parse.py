"""Text in, :class:`Command` out: one parser for the console, Slack and Telegram."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.i18n import ENGLISH, N_, Translator

MAX_INPUT = 500  # characters; longer input is refused with a hint rather than parsed
PARSE_EXAMPLE = "/agreements 2024"  # the hint for text that names no command
TOO_LONG = N_("That message is {length} characters long; commands are at most {limit}.")
# Characters no one means to type into a command: control characters (an ANSI escape echoed back would
# drive the reader's terminal) and invisible format characters (a zero-width space pasted before
# "/trade" would make it look unknown while it looks right), among them the bidirectional controls
# (U+061C, U+200E/F, U+202A-202E, U+2066-2069): echoed into a public answer, "/search \u202eexe.txt"
# would show reversed, spoofed text to the whole channel.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


# Lone surrogates: bytes that are not UTF-8 in a command-line argument arrive as U+DC80-U+DCFF
# (Python's surrogateescape); echoed back, they cannot be printed ("UnicodeEncodeError").
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean(text: str) -> str:
    """User text without control and invisible characters, undecodable bytes shown as U+FFFD, in
    Unicode NFC."""
    return unicodedata.normalize("NFC", _SURROGATES.sub("\ufffd", _INVISIBLE.sub("", text)))


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...] = ()
    platform: str = "console"
    channel: str = "console"
    user: str = "console"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def arg_text(self) -> str:
        return " ".join(self.args)


class ParseError(ValueError):
    """Text too long to parse. ``str()`` is the English (for logs); :meth:`message` is the reader's."""

    def __init__(self, length: int, name: str = "") -> None:
        self.length = length
        self.name = name  # the command the refused text began with ("" if none): its example is the hint
        super().__init__(self.message(ENGLISH))

    def message(self, tr: Translator) -> str:
        return tr.gettext(TOO_LONG).format(length=self.length, limit=MAX_INPUT)


def _name(head: str) -> str:
    return head.lstrip("/").split("@", 1)[0].lower()


def parse(
    text: str, *, platform: str = "console", channel: str = "console", user: str = "console"
) -> Command:
    """Parse ``/agreements 2024``, ``/agreements@KazkorBot 2024``, ``agreements 2024`` or the umbrella form
    ``/kazkor agreements 2024`` (for Slack workspaces where a short name is taken)."""
    text = clean(text).strip()
    if len(text) > MAX_INPUT:
        words = text[:80].split()  # enough for "/kazkor search": never split the whole of a huge text
        name = _name(words[0]) if words else ""
        if name == "kazkor" and len(words) > 1:
            name = _name(words[1])
        raise ParseError(len(text), name)
    parts = text.split()
    if not parts:
        return Command("help", (), platform, channel, user)
    head, args = parts[0], parts[1:]
    name = _name(head)
    if name == "kazkor":
        if not args:
            return Command("help", (), platform, channel, user)
        name, args = args[0].lstrip("/").lower(), args[1:]
    return Command(name, tuple(args), platform, channel, user)
