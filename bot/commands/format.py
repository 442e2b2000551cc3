"""Wording shared by the commands: money, ranks, ordinals and citations."""

from __future__ import annotations

from typing import Any

from bot.reply import Item, ReplyBuilder
from facts.model import Figure
from facts.store import Catalogue

_QUALIFIER_WORDS = {"exact": "", "about": "about ", "more_than": "more than ", "at_least": "at least "}


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def money(value: float) -> str:
    if value >= 1e9:
        amount, unit = value / 1e9, "billion"
    elif value >= 1e6:
        amount, unit = value / 1e6, "million"
    else:
        return f"US${value:,.0f}"
    return f"US${amount:g} {unit}"


def figure_value(figure: Figure) -> str:
    """``more than US$6 billion``, ``4th``, ``among the top 10``, ``120,000``."""
    qualifier = _QUALIFIER_WORDS[figure.qualifier]
    if figure.unit == "USD":
        return qualifier + money(figure.value)
    if figure.unit == "rank":
        if figure.qualifier == "at_least":
            return f"among the top {figure.value:g}"
        return qualifier + ordinal(int(figure.value))
    if figure.unit == "percent":
        return f"{qualifier}{figure.value:g}%"
    if figure.unit == "ratio":
        return f"{qualifier}{figure.value:g}×"
    if figure.unit == "MW":
        return f"{qualifier}{figure.value:,.0f} MW"
    return f"{qualifier}{figure.value:,.0f}"


def cite_all(builder: ReplyBuilder, catalogue: Catalogue, record: Any) -> tuple[int, ...]:
    return tuple(sorted(builder.cite(s, catalogue.source_label(s)) for s in record.sources))


def record_item(builder: ReplyBuilder, catalogue: Catalogue, record: Any, text: str | None = None) -> Item:
    """An item citing every source of ``record``; the text defaults to its summary."""
    return Item(text or record.summary, cite_all(builder, catalogue, record), record.id)


def merge_refs(*groups: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted({n for group in groups for n in group}))
