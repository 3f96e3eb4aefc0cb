"""Italian full-text search over the knowledge base, for ``cotour search`` and the canned queries."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..domain.text import stem_words

# A query: "a phrase" or a bare word; OR and NOT pass through as FTS5 operators.
QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')

OPERATORS = {"OR", "NOT", "AND"}


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
