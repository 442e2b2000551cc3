"""Argument checks shared by commands: each failure becomes a short usage reply with an example."""

from __future__ import annotations

# The years a command or the command line accepts: wide enough for any anniversary in the data, narrow
# enough that `kazkor reminders --days` added to one never leaves Python's calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2100


class UsageError(ValueError):
    """What was wrong with the arguments; the dispatcher adds the command's example."""


def optional_year(args: tuple[str, ...]) -> int | None:
    if not args:
        return None
    if len(args) > 1:
        raise UsageError(f"Too many words: {' '.join(args)!r}. Give one year or nothing.")
    text = args[0]
    if not (text.isdecimal() and len(text) == 4):
        raise UsageError(f"{text!r} is not a year.")
    year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise UsageError(f"{year} is outside {FIRST_YEAR}–{LAST_YEAR}.")
    return year


def optional_int(args: tuple[str, ...], *, default: int, low: int, high: int, what: str) -> int:
    if not args:
        return default
    if len(args) > 1:
        raise UsageError(f"Too many words: {' '.join(args)!r}. Give one number of {what} or nothing.")
    text = args[0]
    if not text.isdecimal() or not low <= int(text) <= high:
        raise UsageError(f"{text!r} is not a number of {what} from {low} to {high}.")
    return int(text)
