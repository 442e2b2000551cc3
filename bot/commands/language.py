"""/language [en|ru|ko|kk]: the language a channel is answered in, and how each command's language is
chosen.

The choice, first that applies: the session's own (``kazkor console --lang``), the channel's setting
(``/language``, kept in the state), in a Telegram private chat the user's ``language_code`` when it is
one of the four, else the default (``KAZKOR_LANG``, English), which the front end's context carries.
Like /subscribe, only admins may change a group's language; in a private chat anyone may.
"""

from __future__ import annotations

from typing import Any

from bot.commands.args import UsageError
from bot.commands.context import Context
from bot.commands.parse import Command
from bot.i18n import LANGUAGES, N_, NATIVE_NAMES, language_code, translator
from bot.reply import Item, Reply, ReplyBuilder

SETTING = "language"
# Chats that belong to the person typing: Telegram "private", Slack "im" (a direct message).
PRIVATE_CHATS = frozenset({"private", "im"})
SUMMARY = N_("the language of this channel's answers: en, ru, ko or kk (admins).")


# -- the one get/set pair over the state (its storage may change; callers do not) -------------------


def channel_language(state: Any, platform: str, channel: str) -> str | None:
    """The language set for a channel with /language, or None (no setting, or no state)."""
    if state is None:
        return None
    return language_code(state.channel_setting(platform, str(channel), SETTING))


def set_channel_language(state: Any, platform: str, channel: str, lang: str) -> None:
    state.save_channel_setting(platform, str(channel), SETTING, lang)


# -- choosing the language of one command --------------------------------------------------------


def language_of(command: Command, ctx: Context) -> str:
    explicit = language_code(command.extra.get("lang"))
    if explicit:
        return explicit
    # through the context: a lazily opened state answers this without being opened where it can
    stored = language_code(ctx.channel_setting(command.platform, command.channel, SETTING))
    if stored:
        return stored
    if command.extra.get("chat_type") == "private":
        from_user = language_code(command.extra.get("user_language"))
        if from_user:
            return from_user
    return ctx.tr.lang


def localized(command: Command, ctx: Context) -> Context:
    """``ctx`` answering in the language chosen for ``command``."""
    return ctx.speaking(language_of(command, ctx))


def may_change(command: Command) -> bool:
    if command.platform == "console" or command.extra.get("chat_type") in PRIVATE_CHATS:
        return True
    return command.extra.get("is_admin") is True


# -- the command -----------------------------------------------------------------------------------


def _choices(ctx: Context) -> list[Item]:
    return [Item(f"/language {code} — {NATIVE_NAMES[code]}") for code in LANGUAGES]


def language(command: Command, ctx: Context) -> Reply:
    _ = ctx.tr.gettext
    if not command.args:
        builder = ReplyBuilder(
            _("This channel is answered in {language}.").format(language=ctx.tr.native_name)
        )
        builder.section(_("Choose another"), _choices(ctx))
        return builder.build()
    if len(command.args) > 1:
        raise UsageError(_("Give one language: en, ru, ko or kk."))
    lang = language_code(command.args[0])
    if lang is None or command.args[0].lower() != lang:
        raise UsageError(
            _("{word!r} is not a language I answer in: choose en, ru, ko or kk.").format(
                word=command.args[0][:40]
            )
        )
    if not may_change(command):
        builder = ReplyBuilder(_("Only channel admins can change this channel's language."), kind="usage")
        builder.section(_("Try"), [Item(_("/language — see this channel's language"))])
        return builder.build()
    if ctx.state is None:
        return Reply(
            title=_(
                "Choosing a language needs the state file (KAZKOR_DB); this session has none. "
                "In the console, use kazkor console --lang ru."
            ),
            kind="error",
        )
    set_channel_language(ctx.state, command.platform, command.channel, lang)
    chosen = translator(lang)  # the confirmation is already in the new language
    return Reply(
        title=chosen.gettext("This channel is now answered in {language}.").format(
            language=chosen.native_name
        ),
        lang=lang,
    )
