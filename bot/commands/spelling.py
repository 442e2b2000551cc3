"""Spelling correction for /search, with its work bounded so no input is costly.

``difflib.get_close_matches`` against the whole vocabulary costs about 0.5 ms per unknown word at the
shipped size and grows with every word the catalogue learns; 500 characters of non-words (every query
unique, so no cache helps) cost tens of milliseconds and blocked every other chat meanwhile. The
bounds, each cheap to explain to a user:

* only words of :data:`MIN_LEN`-:data:`MAX_LEN` letters are corrected (the records are in English;
  digits, other scripts and 400-letter runs are not misspellings of anything in them);
* a word is compared only with vocabulary words of the same first letter and of a length that can
  reach the cutoff (``ratio >= 0.8`` needs lengths within 2/3 and 3/2 of each other), so the work per
  word does not grow with the whole vocabulary (the approach /source takes for record ids);
* at most :data:`MAX_CORRECTIONS` words per query are corrected, and none after the first word that
  cannot be: /search needs every word, so one word with no match already means "Nothing matches".
"""

from __future__ import annotations

import difflib
import weakref
from collections.abc import Iterable
from typing import Any

CUTOFF = 0.8
MIN_LEN, MAX_LEN = 3, 24
MAX_CORRECTIONS = 3


class SpellingIndex:
    """The correctable vocabulary words, grouped by (first letter, length)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.buckets: dict[tuple[str, int], list[str]] = {}
        for word in vocabulary:
            if MIN_LEN <= len(word) <= MAX_LEN * 3 // 2 and word.isalpha():
                self.buckets.setdefault((word[0], len(word)), []).append(word)

    def candidates(self, word: str) -> list[str]:
        n = len(word)
        low, high = -(-2 * n // 3), 3 * n // 2  # lengths m with 2 * min(n, m) / (n + m) >= 0.8
        out: list[str] = []
        for m in range(low, high + 1):
            out.extend(self.buckets.get((word[0], m), ()))
        return out

    def fix(self, word: str) -> str | None:
        """The closest vocabulary word to ``word`` (a word not in the vocabulary), or None."""
        if not MIN_LEN <= len(word) <= MAX_LEN or not word.isalpha():
            return None
        close = difflib.get_close_matches(word, self.candidates(word), n=1, cutoff=CUTOFF)
        return close[0] if close else None


# One index per catalogue, rebuilt when its vocabulary grew (the catalogue only grows).
_INDEXES: weakref.WeakKeyDictionary[Any, tuple[int, SpellingIndex]] = weakref.WeakKeyDictionary()


def spelling_index(catalogue: Any) -> SpellingIndex:
    vocabulary = catalogue.vocabulary()
    size = len(vocabulary)
    cached = _INDEXES.get(catalogue)
    if cached is None or cached[0] != size:
        cached = (size, SpellingIndex(vocabulary))
        _INDEXES[catalogue] = cached
    return cached[1]


def correct(query: list[str], catalogue: Any, known: Any) -> list[str]:
    """``query`` with unknown words (not in ``known``) replaced by their correction, within the bounds
    above; a word left uncorrected stays as typed."""
    index: SpellingIndex | None = None
    corrected: list[str] = []
    tries = 0
    for position, word in enumerate(query):
        if word in known:
            corrected.append(word)
            continue
        if tries == MAX_CORRECTIONS:
            return corrected + query[position:]
        tries += 1
        index = index or spelling_index(catalogue)
        fix = index.fix(word)
        if fix is None:  # nothing can match now: leave the rest as typed
            return corrected + query[position:]
        corrected.append(fix)
    return corrected
