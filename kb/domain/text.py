"""Italian words: folding and the stemmer shared by the index, the CLI and Datasette.

SQLite's FTS5 has no Italian stemmer, and a custom tokenizer registered through apsw would be
invisible to Datasette's sqlite3. So the index holds *stemmed* text (``cooperativa``,
``cooperative`` and ``cooperativo`` all become ``cooper``) and every query is stemmed the same
way before it reaches ``MATCH``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_stemmer = Stemmer.Stemmer("italian")

WORD = re.compile(r"\w+")

# A word with its combining accents (not \w): "Mu\u0308ller", as decomposed text writes "Müller",
# is one word, whose accent fold() then drops.
_WORD_WITH_MARKS = re.compile(r"(?:\w|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
                              r"\ufe20-\ufe2f])+")


class _DropCombining(dict):
    """A ``str.translate`` table that deletes combining marks (accents), filled as it meets them."""

    def __missing__(self, code: int):
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_DROP_COMBINING = _DropCombining()


def fold(text: str) -> str:
    """Lower case, accents dropped (``Perché`` -> ``perche``): the one folding of text, under
    the stems and every matching key (:func:`kb.normalise.match_key` and the keys built on it)."""
    return unicodedata.normalize("NFKD", text.casefold()).translate(_DROP_COMBINING)


@lru_cache(maxsize=1 << 18)
def _word_stems(word: str) -> tuple[str, ...]:
    """A word's stems, accents dropped first (so perché = perche); usually one, more when
    dropping them splits it (``½`` -> ``1⁄2``). A corpus repeats its words: each is folded and
    stemmed once."""
    return tuple(_stemmer.stemWords(WORD.findall(fold(word))))


def words(text: str) -> list[str]:
    """The words of ``text``, lower case, accents still on: what is stemmed, one at a time."""
    return _WORD_WITH_MARKS.findall(text.casefold().replace("_", " "))


def stem_words(text: str) -> list[str]:
    """The Italian stems of the words of ``text``."""
    return [stem for word in words(text) for stem in _word_stems(word)]


def stem_text(text: str | None) -> str:
    """What the full-text index stores for ``text``."""
    return " ".join(stem_words(text or ""))
