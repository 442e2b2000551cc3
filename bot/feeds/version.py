"""What a cached feed or chart depends on in the catalogue: its data version."""

from __future__ import annotations

from typing import Any


def data_version(catalogue: Any) -> tuple[Any, int, int]:
    """Changes whenever the catalogue could answer differently. The catalogue only grows
    (``Catalogue.add`` indexes a record or raises before touching anything), so the catalogue object
    (compared by identity; held by the key, so its id cannot be reused while cached) with its record and
    source counts identifies what it holds. The same key :class:`bot.platforms.inbound.RenderedReplies`
    caches answers on."""
    return (catalogue, len(catalogue), len(catalogue.sources))
