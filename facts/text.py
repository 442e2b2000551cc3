"""Word normalisation shared by the search index and the search command.

Names reach us in several spellings (Tokayev / Toqayev, Yoon Suk Yeol / Yoon Suk-yeol, Astana / Nur-Sultan):
each known variant folds to one canonical token before indexing and before searching.
"""

from __future__ import annotations

import re

from facts.multilingual import fold, is_foreign

# Latin, Russian and Kazakh Cyrillic, and Hangul words (see facts.multilingual for the last two).
WORD_RE = re.compile(r"[0-9a-zа-яёәғқңөұүһі\uac00-\ud7a3]+", re.IGNORECASE)

# Whole-phrase variants, folded before splitting into words.
_PHRASES = {
    "nur-sultan": "astana",
    "nur sultan": "astana",
    "nursultan": "astana",
    "suk-yeol": "suk yeol",
    "sukyeol": "suk yeol",
    "jae-in": "jae in",
    "hong kong's remains": "hong beom-do's remains",
    "c5+k": "c5k",
    "c5 + k": "c5k",
    "k-silk": "ksilk",
    "south korea": "korea",
    "republic of korea": "korea",
    "rok": "korea",
}
# Single-word variants (transliterations and the seeds' misspellings).
_WORDS = {
    "toqayev": "tokayev",
    "toqayey": "tokayev",
    "tokaev": "tokayev",
    "qasym": "kassym",
    "kasym": "kassym",
    "yun": "yoon",
    "mou": "memorandum",
    "mous": "memorandum",
    "memoranda": "memorandum",
    "kazakh": "kazakhstan",
    "korean": "korea",
    "koreans": "korea",
    "usd": "dollar",
    "us": "dollar",
    "bln": "billion",
    "bn": "billion",
}
_PHRASE_RE = re.compile(
    r"(?<![0-9a-z])(?:"
    + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True))
    + r")(?![0-9a-z])"
)
STOP_WORDS = frozenset(
    "a an and the of in on at to for with by from as is are was were be its it this that".split()
)


def normalise_word(word: str) -> str:
    word = word.lower()
    word = _WORDS.get(word, word)
    # a light plural fold: "agreements" finds "agreement", "visits" finds "visit"
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The normalised, stop-word-free words of a text, in order."""
    folded = _PHRASE_RE.sub(lambda m: _PHRASES[m.group(0)], text.lower())
    out: list[str] = []
    for raw in WORD_RE.findall(folded):
        if is_foreign(raw):  # Russian, Kazakh, Korean: one token whatever the ending (литий, лития)
            out.extend(token for token in fold(raw) if token not in STOP_WORDS)
            continue
        word = normalise_word(raw)
        if word not in STOP_WORDS:
            out.append(word)
    return out


# A number as written in a figure or a quoted amount (4, 1.2, 1,000, 6,5), and the scale after it.
_NUMBER_RE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)")
_SCALE_RE = re.compile(r"\s*(billion|bln|bn|million|mln|thousand|trillion|млрд|млн)(?!\w)", re.IGNORECASE)
_SCALES = {"bln": "billion", "bn": "billion", "mln": "million", "млрд": "billion", "млн": "million"}
# "(1.China, 2. Italy, 3. Russia; ...)": a list's numbering, not an amount. A number ends a sentence
# ("... in 2023. The") after a word; a list number follows an opening bracket, a comma, a colon, a
# semicolon or the start of a line.
_ENUMERATED_AFTER = re.compile(r"\.\s*[^\W\d_]")
_LIST_OPENERS = "(,;:\n"
_WORD_PART_RE = re.compile(r"\w|-[^\W\d_]")


def _is_enumeration(text: str, start: int, end: int) -> bool:
    if end - start > 2 or not _ENUMERATED_AFTER.match(text, end):
        return False
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in _LIST_OPENERS


def _plain_number(number: str) -> str:
    """``1,000`` -> ``1000``; ``6,5`` (a decimal comma) -> ``6.5``."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", number):
        return number.replace(",", "")
    return number.replace(",", ".")


def amount_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, amount) of each number a text states, alone and with its scale (see ``amounts``)."""
    found: list[tuple[int, int, str]] = []
    for match in _NUMBER_RE.finditer(text):
        if _is_enumeration(text, match.start(), match.end()):
            continue
        scale = _SCALE_RE.match(text, match.end())
        if not scale and _WORD_PART_RE.match(text, match.end()):
            continue  # part of a word: "4th", "C5", "60억", the ordinals "4-е", "4-ші"
        number = _plain_number(match.group(1))
        found.append((match.start(), match.end(), number))
        if scale:
            word = scale.group(1).lower()
            found.append((match.start(), scale.end(), f"{number} {_SCALES.get(word, word)}"))
    return found


def amounts(text: str) -> set[str]:
    """The numbers a text states, each alone and with its scale: ``USD 4 Billion`` -> {"4", "4 billion"};
    a list's numbering ("4. China") is none. /search matches a number in the query against these, so
    "4 billion" finds US$4 billion and not a "4." in a list beside "$6 billion"."""
    return {amount for _, _, amount in amount_spans(text)}
