"""The one place that decides what is public.

:func:`derive_public` writes the public database fresh from the filtered rows of the knowledge
base: personal columns dropped, internal notes and their findings and links left out, the
full-text index built anew. It is never a copy with rows deleted, since SQLite's free pages and
FTS5's index segments keep deleted text.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

from ..diagnostics import CotourError
from ..domain.vocabulary import PUBLIC, sql_string
from ..normalise.privacy import Names
from ..outputs import Progress, _noop
from .database import DatabaseError, build_info, checked_database, connect_read_only
from .writer import Writer, write_database

# The public database's name wherever it is served or shipped: Datasette serves it as /cotour, a
# row's address is {base_url}/cotour/{table}/{id}, and the release ships it as cotour.db.
PUBLIC_NAME = "cotour"


class NotPublicError(CotourError):
    pass


def sibling_public(db_path: Path | str) -> Path:
    """``build/cotour.db`` -> ``build/cotour-public.db``."""
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}-public{db_path.suffix}")


def public_path_for(db_path: Path | str) -> Path:
    """The public database to read for ``--db``: its sibling, or itself if it is public."""
    db_path = Path(db_path)
    if os.path.lexists(db_path) and is_public(checked_database(db_path, "knowledge base")):
        return db_path
    return sibling_public(db_path)


def file_digest(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# The rows that may be published, as conditions on each table of the knowledge base (attached
# as ``src``); every other table is published whole. Personal columns are dropped by the public
# schema (:attr:`kb.dictionary.Table.public_columns`).
_PUBLIC_NOTES = f"select id from src.notes where visibility = {sql_string(PUBLIC)}"
_PUBLIC_FINDINGS = f"select id from src.findings where note_id in ({_PUBLIC_NOTES})"
PUBLIC_ROWS = {
    "notes": f"visibility = {sql_string(PUBLIC)}",
    "note_participants": f"note_id in ({_PUBLIC_NOTES})",
    "findings": f"note_id in ({_PUBLIC_NOTES})",
    "finding_organisations": f"finding_id in ({_PUBLIC_FINDINGS})",
    "finding_themes": f"finding_id in ({_PUBLIC_FINDINGS})",
}


def derive_public(kb_path: Path, public_path: Path, progress: Progress = _noop,
                  stems: Path | None = None, stamp: bool = True,
                  search_later: bool = False) -> Writer | None:
    """Write the public database from the rows of ``PUBLIC_ROWS``, streamed by SQLite.

    ``stems``: the stemmed text kept while the knowledge base was written
    (:class:`kb.store.Writer`), so that the public full-text index, built anew from the
    public rows only, needs no second stemming. ``stamp=False`` leaves the knowledge base's
    digest to :func:`restamp`, for a caller that changes the knowledge base afterwards (so the
    large file is hashed once). With ``search_later`` the tables and their indexes are
    written and committed, and the writer is returned open: the caller builds the full-text
    index and the statistics (:meth:`Writer.index_search`) and closes it. The file is the
    same, byte for byte: the rows are committed with their indexes, so it takes as many
    transactions as one written in one go.
    """
    named = names_in_public_ids(kb_path)
    if named:
        raise PrivacyError("the public database would carry personal names in its ids and "
                           f"paths ({'; '.join(named[:5])}); run 'cotour check' and rename "
                           "those files", kb_path)
    info = build_info(kb_path)
    info.update({"public": "1", "source_digest": file_digest(kb_path) if stamp else ""})
    if not search_later:
        write_database(public_path, {}, info, public=True, progress=progress,
                       source=kb_path, where=PUBLIC_ROWS, stems=stems)
        return None
    writer = Writer(public_path, public=True, source=kb_path, stems=stems)
    try:
        writer.write_all({}, info, PUBLIC_ROWS, progress, commit=False)
        writer.build_indexes(search=False)
    except BaseException:
        writer.close()
        raise
    return writer


class PrivacyError(CotourError):
    pass


def names_in_public_ids(kb_path: Path | str) -> list[str]:
    """``'<id or path>' names '<name>'`` for each public note or staff text whose id or path
    holds a name from a personal field: the last guard before the public database, whatever
    the input checks let through (ids and paths reach every public output and every link)."""
    conn = connect_read_only(kb_path)
    try:
        names = Names()
        for facilitator, rapporteur, interviewees in conn.execute(
                "select facilitator, rapporteur, interviewees from notes"):
            for key, value in (("facilitator", facilitator), ("rapporteur", rapporteur)):
                for name in (value or "").split(", "):
                    names.add(key, name)
            for name in json.loads(interviewees or "[]"):
                names.add("interviewees", str(name))
        if not names:
            return []
        # The same judgement of surnames as 'cotour check' (kb.normalise.privacy.Names.judge).
        organisations, places = [], [p for (p,) in conn.execute("select name from provinces")]
        for name, aliases, municipality in conn.execute(
                "select name, aliases, municipality from organisations"):
            organisations += [name, *json.loads(aliases or "[]")]
            places.append(municipality)
        places += [p for row in conn.execute("select city, venue from events") for p in row]
        names.judge(organisations, places)
        rows = conn.execute(f"select id, source_path from notes where {PUBLIC_ROWS['notes']} "
                            "union all select id, source_path from documents")
        return [f"'{value}' names '{hit.name}'"
                for row in rows for value in row if value
                for hit in names.find(value) if hit.is_error]
    finally:
        conn.close()


def restamp(public_path: Path | str, kb_path: Path | str, digest: str | None = None) -> None:
    """Record ``kb_path``'s current digest (``digest``, if the caller has it already) as the
    public database's source.

    For rows written into both files after :func:`derive_public` that are public by
    construction (the hybridisation tables, computed from the public database alone), so the
    public file need not be derived a second time to stay fresh.
    """
    conn = sqlite3.connect(public_path)
    try:
        with conn:
            conn.execute("update cotour_build set value = ? where key = 'source_digest'",
                         (digest or file_digest(kb_path),))
    finally:
        conn.close()


def is_public(path: Path | str) -> bool:
    return build_info(Path(path)).get("public") == "1"


def require_public(path: Path | str) -> Path:
    """The public database to show people, refusing a full knowledge base by mistake."""
    try:
        path = checked_database(path, "public database")
    except DatabaseError as exc:
        raise NotPublicError(exc.message, exc.path) from None
    if not is_public(path):
        raise NotPublicError("not a public database (it may hold personal data); "
                             "run 'cotour build' and use the -public file", path)
    return path


def is_stale(public_path: Path | str, kb_path: Path | str) -> bool:
    """True when the knowledge base changed after the public database was derived from it."""
    kb_path = Path(kb_path)
    if not kb_path.exists():
        return False
    return build_info(Path(public_path)).get("source_digest") != file_digest(kb_path)
