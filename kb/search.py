"""Italian full-text search: the stemmer shared by the index, the CLI and Datasette.

SQLite's FTS5 has no Italian stemmer, and a custom tokenizer registered through apsw would be
invisible to Datasette's sqlite3. So the index holds *stemmed* text (``cooperativa``,
``cooperative`` and ``cooperativo`` all become ``cooper``) and every query is stemmed the same
way before it reaches ``MATCH``.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import Stemmer

_stemmer = Stemmer.Stemmer("italian")
WORD = re.compile(r"\w+")
# A word with its combining accents (not \w): "Mu\u0308ller", as decomposed text writes "Müller",
# is one word, whose accent fold() then drops.
_WORD_WITH_MARKS = re.compile(r"(?:\w|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff"
                              r"\ufe20-\ufe2f])+")
# A query: "a phrase" or a bare word; OR and NOT pass through as FTS5 operators.
QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')
OPERATORS = {"OR", "NOT", "AND"}


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


def stem_query(query: str) -> str:
    """A query as plain stemmed words: what Datasette's ``_search`` gets (it quotes each term)."""
    return " ".join(stem_words(query))


def fts_match(query: str) -> str:
    """An FTS5 ``MATCH`` expression for a user's query: every word stemmed, all required;
    ``"a phrase"`` stays a phrase; ``OR`` and ``NOT`` work as in FTS5; ``coop*`` matches the
    words whose stem starts with the stem of ``coop``."""
    parts = []
    for phrase, word in QUERY_PART.findall(query):
        if word in OPERATORS:
            if parts and parts[-1] not in OPERATORS:
                parts.append(word)
            continue
        prefix = not phrase and word.endswith("*")
        stems = stem_words(phrase if phrase else word.rstrip("*"))
        if not stems:
            continue
        if prefix:
            parts.extend([f'"{s}"' for s in stems[:-1]] + [f'"{stems[-1]}" *'])
        elif phrase:
            parts.append('"' + " ".join(stems) + '"')
        else:
            parts.extend(f'"{s}"' for s in stems)
    while parts and parts[-1] in OPERATORS:
        parts.pop()
    return " ".join(parts)


@dataclass(frozen=True)
class Hit:
    table: str  # findings or notes
    id: str
    kind: str
    event_id: str | None
    city: str | None
    title: str
    text: str
    source_path: str
    source_line: int
    rank: float


def search(db_path: Path | str, query: str, limit: int = 20,
           tables: tuple[str, ...] = ("findings", "notes")) -> list[Hit]:
    """Findings and notes matching ``query``, best first (bm25 on the stemmed index)."""
    match = fts_match(query)
    if not match:
        return []
    selects = {
        "findings": """
            select 'findings', f.id, f.kind, f.event_id, e.city, n.title, f.text,
                   f.source_path, f.source_line, bm25(findings_fts) as rank
            from findings_fts join findings f on f.rowid = findings_fts.rowid
            join notes n on n.id = f.note_id left join events e on e.id = f.event_id
            where findings_fts match :q""",
        "notes": """
            select 'notes', n.id, n.kind, n.event_id, e.city, n.title, n.text,
                   n.source_path, n.source_line, bm25(notes_fts) as rank
            from notes_fts join notes n on n.rowid = notes_fts.rowid
            left join events e on e.id = n.event_id
            where notes_fts match :q""",
    }
    sql = " union all ".join(selects[t] for t in tables) + " order by rank, 2 limit :limit"
    conn = sqlite3.connect(f"{Path(db_path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [Hit(*row) for row in conn.execute(sql, {"q": match, "limit": limit})]
    finally:
        conn.close()
