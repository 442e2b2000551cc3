"""The platform-neutral answer every command returns.

A :class:`Reply` holds plain text only (no markup): the renderers in ``bot.render`` turn it into plain
text, Slack Block Kit or Telegram HTML and do all escaping and splitting there, so an answer cannot
drift between platforms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.i18n import ENGLISH, Translator
from facts.model import PartialDate

BULLET = "• "  # what every renderer writes before an item


@dataclass(frozen=True)
class Item:
    """One line of an answer. ``refs`` are 1-based numbers into :attr:`Reply.citations`."""

    text: str
    refs: tuple[int, ...] = ()
    record_id: str | None = None

    def visible(self) -> str:
        """What a reader sees of the item on every platform: text, citation marks and the record id
        (the id is what ``/source ID`` takes, so the full sentence is one step away)."""
        marks = "".join(f"[{n}]" for n in self.refs)
        shown = f"{self.text} {marks}" if marks else self.text
        return f"{shown} · {self.record_id}" if self.record_id else shown


@dataclass(frozen=True)
class Section:
    heading: str
    items: tuple[Item, ...] = ()
    note: str | None = None  # a line under the heading, e.g. "figures disagree; both shown"


@dataclass(frozen=True)
class SourceRef:
    """A numbered citation in the footer: ``[1] The Astana Times, Jun 2024 (001_54d0e5a8ce81d746.txt)``."""

    number: int
    source_id: str
    label: str


@dataclass(frozen=True)
class Action:
    """A control under an answer (a button, or an option of a Slack select), platform-neutral.

    Pressing it runs ``command`` with ``args`` again and shows ``page`` in ``view``; everything it needs
    travels in the control's payload (:mod:`bot.commands.payload`), so any replica answers it, before or
    after a restart. ``view``: "" the answer itself, "s" the cited sentences, "yN" the year row from
    the N-th year, "r" an answer posted as a new message instead of replacing the pressed one.
    ``admin``: only channel admins may press it (the front end checks, as for /unsubscribe).
    """

    label: str
    command: str
    args: tuple[str, ...] = ()
    page: int = 0
    view: str = ""
    admin: bool = False


@dataclass(frozen=True)
class ActionRow:
    """One row of controls. ``kind``: "buttons", or "years" (Slack shows it as a select menu)."""

    actions: tuple[Action, ...]
    kind: str = "buttons"


@dataclass(frozen=True)
class Attachment:
    """A file sent after the answer's text: an .ics calendar, a PNG chart.

    ``produce`` builds the bytes. Front ends call it off the event loop (a chart takes a while the first
    time it is drawn); what it returns is cached by its producer per data version, not by the front end.
    """

    filename: str
    media_type: str
    produce: Callable[[], bytes]
    caption: str = ""  # Telegram caption, Slack initial comment (plain text)
    alt: str = ""  # what an image shows, for screen readers (Slack alt text)
    lang: str = "en"  # its answer's language: the front end's notes about the file are written in it

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")


@dataclass(frozen=True)
class Reply:
    title: str
    sections: tuple[Section, ...] = ()
    citations: tuple[SourceRef, ...] = ()
    # "answer": facts for the whole channel; "usage" and "error": only for the person who asked
    kind: str = "answer"
    footer: str | None = None
    actions: tuple[ActionRow, ...] = ()  # controls under the answer; text-only front ends ignore them
    attachments: tuple[Attachment, ...] = ()
    # The language it is written in (the renderers word their own labels in it); None until dispatch
    # sets the answering context's language.
    lang: str | None = None

    @property
    def public(self) -> bool:
        return self.kind == "answer"


@dataclass
class ReplyBuilder:
    """Collects sections and numbers each source once, in order of first use."""

    title: str
    kind: str = "answer"
    footer: str | None = None
    sections: list[Section] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)
    _labels: dict[str, str] = field(default_factory=dict)
    _latest: PartialDate | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # The answer's language: its own words ("Sources up to") and the reply's lang (None: dispatch sets it).
    tr: Translator | None = None

    def cite(self, source_id: str, label: str, published: PartialDate | None = None) -> int:
        """The number of ``source_id`` in this answer; ``published`` feeds the "Sources up to" footer."""
        if source_id not in self._numbers:
            self._numbers[source_id] = len(self._numbers) + 1
            self._labels[source_id] = label
        self.dated(published)
        return self._numbers[source_id]

    def dated(self, published: PartialDate | None) -> None:
        """Count a source date towards the footer without citing (e.g. an answer that found nothing)."""
        if published is not None and (self._latest is None or published > self._latest):
            self._latest = published

    def section(self, heading: str, items: list[Item], note: str | None = None) -> None:
        self.sections.append(Section(heading, tuple(items), note))

    def build(self) -> Reply:
        """The reply; its footer ends with how recent the cited sources are ("Sources up to Sep 2024."),
        so a reader years later knows the answer's age."""
        refs = tuple(SourceRef(n, sid, self._labels[sid]) for sid, n in self._numbers.items())
        footer = self.footer
        if self._latest is not None:
            tr = self.tr or ENGLISH
            recency = tr.gettext("Sources up to {date}.").format(date=tr.date(self._latest))
            if recency.endswith(".."):  # "2024 г.." : an abbreviation's point also ends the sentence
                recency = recency[:-1]
            if footer:
                footer = footer if footer.endswith((".", "?", "!")) else footer + "."
            footer = f"{footer} {recency}" if footer else recency
        return Reply(
            self.title,
            tuple(self.sections),
            refs,
            self.kind,
            footer,
            attachments=tuple(replace(a, lang=self.tr.lang) if self.tr else a for a in self.attachments),
            lang=self.tr.lang if self.tr else None,
        )


def usage(message: str, example: str, tr: Translator = ENGLISH) -> Reply:
    """A short hint for the person who asked: what was wrong and an example of the right form."""
    return Reply(
        title=message, sections=(Section(tr.gettext("Try"), (Item(example),)),), kind="usage", lang=tr.lang
    )
