"""Argument checks shared by commands: each failure becomes a short usage reply with an example."""

from __future__ import annotations

from bot.i18n import ENGLISH, Translator

# The years a command or the command line accepts: wide enough for any anniversary in the data, narrow
# enough that `kazkor reminders --days` added to one never leaves Python's calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2100


class UsageError(ValueError):
    """What was wrong with the arguments; the dispatcher adds the command's example."""


def optional_year(args: tuple[str, ...], tr: Translator = ENGLISH) -> int | None:
    _ = tr.gettext
    if not args:
        return None
    if len(args) > 1:
        raise UsageError(
            _("Too many words: {words!r}. Give one year or nothing.").format(words=" ".join(args))
        )
    text = args[0]
    if not (text.isdecimal() and len(text) == 4):
        raise UsageError(_("{word!r} is not a year.").format(word=text))
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(
            _("{year} is outside {first}–{last}.").format(year=year, first=FIRST_YEAR, last=LAST_YEAR)
        )
    return year


def optional_int(
    args: tuple[str, ...], *, default: int, low: int, high: int, what: str, tr: Translator = ENGLISH
) -> int:
    """``what``: the unit in ``tr``'s language already (e.g. "days")."""
    _ = tr.gettext
    if not args:
        return default
    if len(args) > 1:
        raise UsageError(
            _("Too many words: {words!r}. Give one number of {what} or nothing.").format(
                words=" ".join(args), what=what
            )
        )
    text = args[0]
    if not text.isdecimal() or not low <= int(text) <= high:
        raise UsageError(
            _("{word!r} is not a number of {what} from {low} to {high}.").format(
                word=text, what=what, low=low, high=high
            )
        )
    return int(text)
