"""Write rows into a SQLite database shaped by the data dictionary.

The same function writes the knowledge base and the public database: schema from
:mod:`kb.dictionary`, rows in primary-key order (so rowids, and therefore the full-text index,
are the same on every rebuild), an index on every foreign key, the views, and the Italian
full-text index built from the stemmed text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import sqlite_utils

from .dictionary import SQLITE_TYPES, TABLES, TABLES_BY_NAME, VIEWS, Table
from .search import stem_text

Progress = Callable[[str, int, int], None]


def _noop(label: str, done: int, total: int) -> None:
    pass


def create_schema(db: sqlite_utils.Database, public: bool) -> None:
    for table in TABLES:
        columns = table.public_columns if public else table.columns
        names = {c.name for c in columns}
        db[table.name].create(
            {c.name: SQLITE_TYPES[c.type] for c in columns},
            pk=table.pk[0] if len(table.pk) == 1 else table.pk,
            foreign_keys=[fk for fk in table.foreign_keys if fk[0] in names],
            not_null={c.name for c in columns if c.required},
        )


def _sorted(table: Table, rows: Iterable[dict], public: bool) -> list[dict]:
    columns = [c.name for c in (table.public_columns if public else table.columns)]
    ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in table.pk))
    return [{c: row.get(c) for c in columns} for row in ordered]


def write_rows(db: sqlite_utils.Database, table_name: str, rows: Iterable[dict],
               public: bool) -> None:
    """Insert ``rows`` into a dictionary table: its (public) columns, in primary-key order."""
    table = TABLES_BY_NAME[table_name]
    rows = _sorted(table, rows, public)
    if rows:
        db[table.name].insert_all(rows, batch_size=500)


def create_search_index(db: sqlite_utils.Database) -> None:
    """FTS5 over stemmed text, declared with ``content=`` the table so Datasette finds it.

    The index is filled with stemmed text explicitly: never run FTS5's 'rebuild' on it, which
    would index the table's unstemmed text instead.
    """
    for table in (t for t in TABLES if t.fts):
        fts = f"{table.name}_fts"
        columns = ", ".join(f"[{c}]" for c in table.fts)
        db.execute(
            f"create virtual table [{fts}] using fts5({columns}, content=[{table.name}], "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        rows = db.execute(f"select rowid, {columns} from [{table.name}] order by rowid").fetchall()
        db.conn.executemany(
            f"insert into [{fts}] (rowid, {columns}) values ({', '.join('?' * (len(table.fts) + 1))})",
            [(row[0], *(stem_text(v) for v in row[1:])) for row in rows],
        )


def write_database(path: Path, tables: dict[str, list[dict]], build_info: dict[str, str],
                   public: bool, progress: Progress = _noop) -> None:
    """Write a new database at ``path`` (which must not exist) from rows per table."""
    db = sqlite_utils.Database(path)
    try:
        create_schema(db, public)
        total = len(TABLES)
        with db.atomic():
            for done, table in enumerate(TABLES, 1):
                rows = tables.get(table.name, [])
                if table.name == "cotour_build":
                    rows = [{"key": k, "value": v} for k, v in build_info.items()]
                write_rows(db, table.name, rows, public)
                progress("scrittura tabelle", done, total)
        with db.atomic():
            db.index_foreign_keys()
            for name, (_, _, sql) in VIEWS.items():
                db.create_view(name, sql.strip())
            create_search_index(db)
        progress("indici e ricerca", 1, 1)
        db.execute("analyze")
        db.vacuum()
    finally:
        db.close()


def read_tables(path: Path) -> dict[str, list[dict]]:
    """Every dictionary table of a database as rows (for deriving the public database)."""
    db = sqlite_utils.Database(path)
    try:
        return {t.name: list(db[t.name].rows) for t in TABLES if db[t.name].exists()}
    finally:
        db.close()


def build_info(path: Path) -> dict[str, str]:
    db = sqlite_utils.Database(path)
    try:
        if not db["cotour_build"].exists():
            return {}
        return {r["key"]: r["value"] for r in db["cotour_build"].rows}
    finally:
        db.close()
