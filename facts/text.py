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
