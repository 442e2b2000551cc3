"""Search words in Russian, Kazakh and Korean: one token per word whatever its ending, and names and key
terms folded to the English token, so ``/search литий``, ``/search 리튬`` and ``/search lithium`` find the
same record, and ``Токаев`` / ``Тоқаевпен`` / ``토카예프`` all find ``Tokayev``.

* Russian (and any Cyrillic word): the Snowball Russian stemmer (``лития`` and ``литий`` -> ``лит``).
* Kazakh: a word with Kazakh letters first loses its case, plural and possessive endings (Kazakh is
  agglutinative: ``литийді``, ``Тоқаевпен``), then goes through the same stemmer.
* Korean: a trailing particle is dropped (``카자흐스탄과`` -> ``카자흐스탄``).

Indexing and searching use the same folding, so a word matches however it is inflected on either side.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import snowballstemmer

_KAZAKH_LETTERS = frozenset("әғқңөұүһі")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")

# Names and key terms: a word starting with one of these (Cyrillic) or equal to one (Hangul) stands
# for the English tokens the English text is indexed under.
_TERMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("токаев", ("tokayev",)),
    ("тоқаев", ("tokayev",)),
    ("토카예프", ("tokayev",)),
    ("윤석열", ("yoon", "suk", "yeol")),
    ("문재인", ("moon", "jae")),
    ("лити", ("lithium",)),
    ("리튬", ("lithium",)),
    ("казахстан", ("kazakhstan",)),
    ("қазақстан", ("kazakhstan",)),
    ("카자흐스탄", ("kazakhstan",)),
    ("казах", ("kazakhstan",)),
    ("қазақ", ("kazakhstan",)),
    ("коре", ("korea",)),
    ("한국", ("korea",)),
    ("대한민국", ("korea",)),
    ("астан", ("astana",)),
    ("아스타나", ("astana",)),
    ("сеул", ("seoul",)),
    ("서울", ("seoul",)),
)
# Whole Cyrillic words (too short to match by their start without catching other words).
_EXACT = {"юн": ("yoon",), "мун": ("moon",), "чжэ": ("jae",), "сок": ("suk",)}
_PREFIX_ONLY = (("ёл", ("yeol",)),)

# Kazakh endings, longest first: case, plural, possessive and the instrumental -мен/-пен/-бен.
_KAZAKH_ENDINGS = tuple(
    sorted(
        (
            "лардың ләрдің лердің дардың дердің тардың тердің "
            "ларды лерді дарды дерді тарды терді "
            "ларға лерге дарға дерге тарға терге "
            "ларда лерде дарда дерде тарда терде "
            "лардан лерден дардан дерден тардан терден "
            "лары лері дары дері тары тері "
            "лар лер дар дер тар тер "
            "ының інің ның нің дың дің тың тің "
            "ынан інен нан нен дан ден тан тен "
            "ында інде нда нде да де та те "
            "ына іне ға ге қа ке на не "
            "ын ін ды ді ты ті ны ні "
            "мен пен бен "
            "сы сі ы і"
        ).split(),
        key=len,
        reverse=True,
    )
)
# Korean particles, longest first.
_KOREAN_PARTICLES = tuple(
    sorted(
        (
            "에서는 으로는 에서의 에게서 에서 으로 에게 까지 부터 "
            "와의 과의 은 는 이 가 을 를 의 에 와 과 로 도 만"
        ).split(),
        key=len,
        reverse=True,
    )
)


_STEMMER = snowballstemmer.stemmer("russian")
_STEMMER_LOCK = threading.Lock()  # a Snowball stemmer keeps state while it works: one word at a time


def _russian_stem(word: str) -> str:
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word)


def _strip_kazakh(word: str) -> str:
    for _ in range(2):  # e.g. "серіктестерінің": -і, then -лер... at most two endings
        for ending in _KAZAKH_ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)]
                break
        else:
            break
    return word


def _strip_particle(word: str) -> str:
    for particle in _KOREAN_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def is_foreign(word: str) -> bool:
    """A Cyrillic or Hangul word: one :func:`fold` handles."""
    return bool(_CYRILLIC.search(word) or _HANGUL.search(word))


@lru_cache(maxsize=65536)
def fold(word: str) -> tuple[str, ...]:
    """The search tokens of one lower-case Cyrillic or Hangul word."""
    if _HANGUL.search(word):
        for term, tokens in _TERMS:
            if word.startswith(term) and _HANGUL.match(term):
                return tokens
        return (_strip_particle(word),)
    if word in _EXACT:
        return _EXACT[word]
    for term, tokens in (*_TERMS, *_PREFIX_ONLY):
        if word.startswith(term) and not _HANGUL.match(term):
            return tokens
    if _KAZAKH_LETTERS & set(word):
        word = _strip_kazakh(word)
    return (_russian_stem(word),)
