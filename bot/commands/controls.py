"""Answers with controls: the shared core's answer, cut into pages, with platform-neutral actions.

Front ends that can show buttons (Slack, Telegram) call :func:`interactive` for a typed command and for
a pressed control alike (a press is a command too: :class:`bot.commands.payload.Press` carries the
command, its arguments, the page and the view). The console keeps calling ``dispatch`` and shows the
whole answer as text. Every answer here is a pure function of the command and the catalogue (plus the
local date for /upcoming), so a press is answered the same way by any replica, before or after a
restart.

- Long answers (:data:`PAGED`) show :data:`PAGE_ITEMS` lines per page with "Previous" / "Next".
- /agreements and /timeline get a row of the other years with data, latest first, at most
  :data:`YEARS_SHOWN`, then "More years".
- "Sources" shows the cited sentences behind the lines on screen; "Back" returns to them.
"""

from __future__ import annotations

import dataclasses

from bot.commands import ALIASES, dispatch
from bot.commands.context import Context
from bot.commands.format import quote_items
from bot.commands.language import localized
from bot.commands.parse import Command
from bot.i18n import translator
from bot.reply import Action, ActionRow, Item, Reply, ReplyBuilder, Section, SourceRef

PAGED = frozenset({"timeline", "upcoming", "search", "who", "projects"})
YEAR_KINDS = {"agreements": "agreement", "timeline": "event"}  # command -> record kind of its year row
# Commands a control may run. Pure answers, plus /unsubscribe behind the "Pause reminders" control
# (the front end asks the platform whether the presser is an admin, as for the typed command).
PRESSABLE = frozenset(
    {
        "trade",
        "agreements",
        "timeline",
        "upcoming",
        "search",
        "source",
        "help",
        "who",
        "projects",
        "unsubscribe",
    }
)
NO_SOURCES_BUTTON = frozenset({"source", "help"})  # /source already is the sentences
PAGE_ITEMS = 8
PAGE_CHARS = 2400  # a page stays one Telegram message (4096) and one Slack section group
YEARS_SHOWN = 8
SOURCES_CHARS = 3000  # the sentences of one page; beyond this, point at /source
VIEW_SOURCES = "s"
VIEW_NEW_MESSAGE = "r"


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def interactive(command: Command, ctx: Context, page: int = 0, view: str = "") -> Reply:
    """The answer to ``command`` as a platform with buttons shows it: one page, with its controls."""
    name = canonical(command.name)
    ctx = localized(command, ctx)  # the labels below in the answer's language
    _ = ctx.tr.gettext
    reply = dispatch(command, dataclasses.replace(ctx, paged=True) if name in PAGED else ctx)
    if reply.kind != "answer" or name not in PRESSABLE:
        return reply
    pages = split_pages(reply) if name in PAGED else [reply]
    page = min(max(page, 0), len(pages) - 1)  # the data changed since the button was made: nearest page
    shown = pages[page]
    if view == VIEW_SOURCES:
        return sources_view(shown, ctx, Action(_("Back"), name, command.args, page))
    rows = []
    years = _year_row(name, command.args, page, view, ctx)
    if years:
        rows.append(years)
    moves = []
    if page > 0:
        moves.append(Action(_("Previous"), name, command.args, page - 1))
    if page < len(pages) - 1:
        moves.append(Action(_("Next"), name, command.args, page + 1))
    if name not in NO_SOURCES_BUTTON and _record_ids(shown):
        moves.append(Action(_("Sources"), name, command.args, page, VIEW_SOURCES))
    if name == "trade" and [arg.lower() for arg in command.args] != ["chart"]:
        # the figures as a picture (/trade chart comes from bot.feeds' command table), posted as a new message
        moves.append(Action(_("Chart"), "trade", ("chart",), view=VIEW_NEW_MESSAGE))
    if moves:
        rows.append(ActionRow(tuple(moves)))
    return dataclasses.replace(shown, actions=tuple(rows))


# --- pages ------------------------------------------------------------------------------------------


def split_pages(reply: Reply) -> list[Reply]:
    """``reply`` cut between lines into pages of at most :data:`PAGE_ITEMS` lines and about
    :data:`PAGE_CHARS` characters; each page keeps its lines' headings and numbers its own sources."""
    entries = [(index, item) for index, section in enumerate(reply.sections) for item in section.items]
    chunks: list[list[tuple[int, Item]]] = [[]]
    size = 0
    for entry in entries:
        length = len(entry[1].text) + 8
        if chunks[-1] and (len(chunks[-1]) >= PAGE_ITEMS or size + length > PAGE_CHARS):
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += length
    if len(chunks) == 1:
        return [reply]
    return [_page(reply, chunk, number, len(chunks)) for number, chunk in enumerate(chunks)]


def _page(reply: Reply, chunk: list[tuple[int, Item]], number: int, count: int) -> Reply:
    by_old = {c.number: c for c in reply.citations}
    renumber: dict[int, int] = {}
    sections = []
    for index, section in enumerate(reply.sections):
        items = [item for at, item in chunk if at == index]
        if not items and (section.items or number > 0):
            continue  # a section without lines (a note only) goes on the first page
        fixed = []
        for item in items:
            for ref in item.refs:
                renumber.setdefault(ref, len(renumber) + 1)
            fixed.append(dataclasses.replace(item, refs=tuple(sorted(renumber[r] for r in item.refs))))
        sections.append(Section(section.heading, tuple(fixed), section.note))
    citations = tuple(
        SourceRef(new, by_old[old].source_id, by_old[old].label)
        for old, new in renumber.items()
        if old in by_old
    )
    where = translator(reply.lang or "en").gettext("Page {n} of {count}.").format(n=number + 1, count=count)
    footer = f"{where} {reply.footer}" if reply.footer else where
    return dataclasses.replace(reply, sections=tuple(sections), citations=citations, footer=footer)


# --- the year row ----------------------------------------------------------------------------------


def _shown_year(name: str, args: tuple[str, ...], years: list[int]) -> int | None:
    if len(args) == 1 and args[0].isdecimal():
        return int(args[0])
    return years[-1] if name == "agreements" and years else None  # /agreements shows the latest year


def _year_row(name: str, args: tuple[str, ...], page: int, view: str, ctx: Context) -> ActionRow | None:
    kind = YEAR_KINDS.get(name)
    if kind is None:
        return None
    years = ctx.catalogue.years(kind)
    current = _shown_year(name, args, years)
    others = [year for year in reversed(years) if year != current]
    offset = int(view[1:]) if view[:1] == "y" and view[1:].isdecimal() else 0
    offset = offset if offset < len(others) else 0
    actions = [Action(str(year), name, (str(year),)) for year in others[offset : offset + YEARS_SHOWN]]
    if offset + YEARS_SHOWN < len(others):
        actions.append(Action(ctx.tr.gettext("More years"), name, args, page, f"y{offset + YEARS_SHOWN}"))
    elif offset:
        actions.append(Action(ctx.tr.gettext("Latest years"), name, args, page))
    return ActionRow(tuple(actions), "years") if actions else None


# --- sources -----------------------------------------------------------------------------------------


def _record_ids(reply: Reply) -> list[str]:
    ids = (item.record_id for section in reply.sections for item in section.items if item.record_id)
    return list(dict.fromkeys(ids))


def sources_view(shown: Reply, ctx: Context, back: Action) -> Reply:
    """The cited sentences behind every line of ``shown``, record by record, with a "Back" control.

    Capped at about :data:`SOURCES_CHARS` characters (one message); the rest is named with /source.
    """
    catalogue = ctx.catalogue
    _ = ctx.tr.gettext
    builder = ReplyBuilder(_("Sources for: {title}").format(title=shown.title), tr=ctx.tr)
    size = 0
    left: list[str] = []
    for record_id in _record_ids(shown):
        record = catalogue.by_id.get(record_id)
        if record is None:
            continue
        probe = ReplyBuilder("")
        items = quote_items(probe, catalogue, record)
        summary = record.text("summary", ctx.tr.lang)
        length = len(summary) + sum(len(item.text) + 8 for item in items)
        if builder.sections and size + length > SOURCES_CHARS:
            left.append(record_id)
            continue
        size += length
        # the sentences stay as the source wrote them (in English): said so in another language
        note = _("Quoted as the source wrote it, untranslated.") if ctx.tr.lang != "en" else None
        builder.section(summary, quote_items(builder, catalogue, record), note)
    if left:
        builder.footer = _("More: {commands}").format(
            commands=", ".join(f"/source {record_id}" for record_id in left)
        )
    reply = builder.build()
    return dataclasses.replace(reply, actions=(ActionRow((back,)),))
