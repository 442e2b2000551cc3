"""/calendar (feed links + the .ics file) and /trade chart, registered into the shared command core.

They live here, not in ``bot.commands``, because they build feeds and charts (``bot.feeds`` sits above
the core). :data:`COMMANDS` is joined to the core's table in ``bot.bootstrap.context``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bot import commands as core
from bot.commands import Handler, Spec
from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.format import cite, figure_value
from bot.commands.parse import Command
from bot.commands.subscriptions import is_admin
from bot.feeds.tokens import feed_token, rotate_feed_token
from bot.feeds.urls import channel_feed_url, public_feed_url
from bot.i18n import N_
from bot.reply import Attachment, Item, Reply, ReplyBuilder
from bot.subscription import describe_leads, leads_of

SET_PUBLIC_URL = N_(
    "Set KAZKOR_PUBLIC_URL to the address people reach this bot at for feed links, "
    "e.g. KAZKOR_PUBLIC_URL=https://kazkor.example.org"
)
NEEDS_SECRET = N_("Per-channel feeds need a secret: set KAZKOR_FEED_SECRET (16+ characters).")
NO_REMINDERS = N_("This channel has no reminders, so no feed of its own: /subscribe first.")
ROTATE_REFUSAL = N_("Only channel admins can change this channel's calendar address.")


def calendar_file(ctx: Context, sub: dict[str, Any] | None) -> Attachment:
    """The .ics file: the channel's feed when it has reminders, else the public one."""
    from bot.feeds.calendar import FEEDS, MEDIA_TYPE

    catalogue, clock, tz = ctx.catalogue, ctx.clock, ctx.tz

    def produce() -> bytes:
        now = clock()
        if sub is not None:
            return FEEDS.channel(catalogue, sub, now).body
        return FEEDS.public(catalogue, now.astimezone(tz).date(), now).body

    name = "kazkor-channel.ics" if sub is not None else "kazkor.ics"
    caption = (
        "This channel's reminders as a calendar: open it to import."
        if sub is not None
        else "Kazakhstan–Korea anniversaries and events as a calendar: open it to import."
    )
    return Attachment(name, MEDIA_TYPE.split(";")[0], produce, caption=caption)


def _subscription(ctx: Context, command: Command) -> dict[str, Any] | None:
    if ctx.state is None:
        return None
    sub = ctx.state.subscription(command.platform, command.channel)
    return sub if sub is not None and sub.get("active", True) else None


def calendar(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    words = [w.lower() for w in command.args]
    if words == ["rotate"]:
        return _rotate(command, ctx)
    if words:
        raise UsageError(
            _("/calendar takes no words or just “rotate” (got “{words}”).").format(
                words=" ".join(command.args)[:40]
            )
        )
    sub = _subscription(ctx, command)
    builder = ReplyBuilder(
        _("Calendar feeds: Kazakhstan–Korea anniversaries and events, each with its source"), tr=ctx.tr
    )
    items = []
    note = None
    if ctx.public_url:
        # Lines kept within the answers' 160 characters: the addresses alone, what they hold in the note.
        items.append(Item(_("Everyone: {url}").format(url=public_feed_url(ctx.public_url))))
        note = _("Everyone's holds every anniversary (next ten years) and dated event.")
        token = (
            feed_token(ctx.feed_secret, ctx.state, command.platform, command.channel)
            if (sub is not None and ctx.feed_secret is not None)
            else None
        )
        if token is not None:
            assert sub is not None
            items.append(Item(_("This channel: {url}").format(url=channel_feed_url(ctx.public_url, token))))
            note += " " + _(
                "This channel's holds what it is reminded of, with alerts at {time} ({zone}), {leads}."
            ).format(time=sub.get("time"), zone=sub.get("tz"), leads=describe_leads(leads_of(sub), ctx.tr))
        else:
            items.append(Item(_(NO_REMINDERS) if sub is None else _(NEEDS_SECRET)))
    else:
        items.append(Item(_(SET_PUBLIC_URL)))
    builder.section(_("Subscribe in Outlook or Google Calendar (add calendar → from URL)"), items, note)
    builder.attachments.append(calendar_file(ctx, sub))
    builder.footer = _(
        "Dates known only to the month or year are left out (no made-up days): see /upcoming. "
        "Admins: /calendar rotate gives this channel a new address."
    )
    return builder.build()


def _rotate(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    if not is_admin(command):
        builder = ReplyBuilder(_(ROTATE_REFUSAL), kind="usage", tr=ctx.tr)
        builder.section(_("Try"), [Item(_("/calendar — this channel's feed address"))])
        return builder.build()
    if ctx.feed_secret is None:
        return Reply(title=_(NEEDS_SECRET), kind="error")
    if _subscription(ctx, command) is None:
        return Reply(title=_(NO_REMINDERS), kind="usage")
    token = rotate_feed_token(ctx.feed_secret, ctx.state, command.platform, command.channel)
    assert token is not None
    builder = ReplyBuilder(
        _("This channel's calendar address has changed; the old one no longer works."), tr=ctx.tr
    )
    where = channel_feed_url(ctx.public_url, token) if ctx.public_url else _(SET_PUBLIC_URL)
    builder.section(
        _("New address (calendars subscribed to the old one must subscribe again)"), [Item(where)]
    )
    return builder.build()


CHART_TITLE = N_("Kazakhstan–Korea trade and Korean investment: chart")


def trade_chart(ctx: Context) -> Reply:
    """The figures the chart draws, as text (what the picture shows, for anyone who cannot see it),
    with the PNG attached; the picture is drawn by the front end off the event loop, once per data
    version and language. All of it in the answer's language (see bot.feeds.chart on Korean fonts)."""
    from bot.feeds.chart import CHARTS, METRIC_NAMES, TITLE, alt_text, chart_data

    tr = ctx.tr
    _ = tr.gettext
    catalogue = ctx.catalogue
    data = chart_data(catalogue, tr)
    builder = ReplyBuilder(_(CHART_TITLE), tr=tr)
    for _n, source_id, _label in data.sources:  # number the sources as the picture does
        cite(builder, catalogue, source_id)
    for title, bars in data.panels:
        items = []
        for bar in bars:
            figure = catalogue.by_id[bar.record_ids[0]]
            items.append(Item(bar.words(figure_value(figure, tr)), bar.refs, bar.record_ids[0]))
        note = None
        if any(c.startswith(tuple(_(METRIC_NAMES[b.metric]) for b in bars)) for c in data.conflicts):
            note = _("Sources differ for the same year: both are drawn side by side.")
        builder.section(title, items or [Item(_("No figures in the fact store."))], note)
    caption = f"{_(TITLE)}. {data.data_to().rstrip('.')}."
    builder.attachments.append(
        Attachment(
            "kazkor-trade-chart.png",
            "image/png",
            lambda: CHARTS.png(catalogue, tr.lang),
            caption=caption,
            alt=alt_text(data),
        )
    )
    figures_to = (
        _("Figures up to {date}.").format(date=tr.date(data.figures_to)) + " " if data.figures_to else ""
    )
    builder.footer = figures_to + _(
        "Hatched bars are lower bounds (“more than”). The sentence behind a bar: /source ID."
    )
    return builder.build()


def _with_chart(plain: Handler) -> Handler:
    def trade(command: Command, ctx: Context) -> Reply:
        if [arg.lower() for arg in command.args] == ["chart"]:
            return trade_chart(ctx)
        return plain(command, ctx)

    return trade


# Joined to the core's table in bot.bootstrap.context: /trade gains "chart", /calendar is new.
COMMANDS: dict[str, Spec] = {
    "trade": dataclasses.replace(core.COMMANDS["trade"], handler=_with_chart(core.COMMANDS["trade"].handler)),
    **{
        spec.name: spec
        for spec in (
            Spec(
                "calendar",
                calendar,
                N_("anniversaries and events as a calendar feed and file; admins: /calendar rotate."),
                "/calendar",
            ),
        )
    },
}
