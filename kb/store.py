"""Write rows into a SQLite database shaped by the data dictionary.

The same function writes the knowledge base and the public database: schema from
:mod:`kb.dictionary`, rows in primary-key order (so rowids, and therefore the full-text index,
are the same on every rebuild), an index on every foreign key, the views, and the Italian
full-text index built from the stemmed text.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable, Iterable, Sequence, Union

import sqlite_utils

from .dictionary import SQLITE_TYPES, TABLES, TABLES_BY_NAME, VIEWS, Table
from .search import stem_text

Progress = Callable[[str, int, int], None]


def _noop(label: str, done: int, total: int) -> None:
    pass


def connect_read_only(path: Path | str) -> sqlite3.Connection:
    """A connection that cannot change the file: the databases people see are never edited."""
    return sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)


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


def _insert_sql(table: Table, columns: list[str]) -> str:
    names = ", ".join(f"[{c}]" for c in columns)
    return f"insert into [{table.name}] ({names}) values ({', '.join('?' * len(columns))})"


def write_rows(db: sqlite_utils.Database, table_name: str, rows: Iterable[dict] | Iterable[tuple],
               public: bool, columns: Sequence[str] | None = None) -> None:
    """Insert ``rows`` into a dictionary table: its (public) columns, in primary-key order.

    ``rows`` are dicts, or with ``columns`` tuples of those columns' values (what
    :class:`kb.normalise.Model` holds: no dict per row). A column a row lacks is null.
    One ``executemany`` of plain tuples: sqlite-utils' ``insert_all`` costs several times the
    raw insert on large tables (the benchmark in ``benchmarks/`` measures both).
    """
    table = TABLES_BY_NAME[table_name]
    names = [c.name for c in (table.public_columns if public else table.columns)]
    if columns is None:
        ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in table.pk))
        values: Iterable[tuple] = (tuple(row.get(c) for c in names) for row in ordered)
    else:
        index = {c: i for i, c in enumerate(columns)}
        pk = [index[k] for k in table.pk]
        if len(pk) == 1:  # the same order as a 1-tuple of str, without building one per row
            ordered = sorted(rows, key=lambda r, i=pk[0]: str(r[i]))
        else:
            ordered = sorted(rows, key=lambda r: tuple(str(r[i]) for i in pk))
        if list(columns) == names:
            values = ordered
        else:
            where = [index.get(c) for c in names]
            values = (tuple(None if i is None else row[i] for i in where) for row in ordered)
    if ordered:
        db.conn.executemany(_insert_sql(table, names), values)


def copy_rows(db: sqlite_utils.Database, table_name: str, where: str | None,
              public: bool) -> None:
    """Insert the rows of the attached database ``src`` that satisfy ``where``, in primary-key
    order, into the same table of ``db`` (only the table's (public) columns)."""
    table = TABLES_BY_NAME[table_name]
    columns = ", ".join(f"[{c.name}]" for c in (table.public_columns if public else table.columns))
    order = ", ".join(f"[{k}]" for k in table.pk)
    db.execute(f"insert into main.[{table.name}] ({columns}) select {columns} "
               f"from src.[{table.name}] {f'where {where} ' if where else ''}order by {order}")


def create_search_index(db: sqlite_utils.Database, stems: str | None = None,
                        reuse: bool = False) -> None:
    """FTS5 over stemmed text, declared with ``content=`` the table so Datasette finds it.

    The index is filled with stemmed text explicitly: never run FTS5's 'rebuild' on it, which
    would index the table's unstemmed text instead.

    ``stems`` names an attached scratch database that keeps the stemmed text, one table per
    indexed table keyed by the rowid of the knowledge base: without ``reuse`` it is written
    (stemming each row once), with ``reuse`` it is read, through the knowledge base attached
    as ``src``, for the rows of this database: the public database's index is then built anew
    from its own rows without stemming them again.
    """
    for table in (t for t in TABLES if t.fts):
        fts = f"{table.name}_fts"
        columns = ", ".join(f"[{c}]" for c in table.fts)
        db.execute(
            f"create virtual table [{fts}] using fts5({columns}, content=[{table.name}], "
            "tokenize='unicode61 remove_diacritics 2')"
        )
        if stems and reuse:
            on = " and ".join(f"k.[{k}] = t.[{k}]" for k in table.pk)
            picked = ", ".join(f"s.[{c}]" for c in table.fts)
            db.execute(f"insert into [{fts}] (rowid, {columns}) select t.rowid, {picked} "
                       f"from main.[{table.name}] t join src.[{table.name}] k on {on} "
                       f"join {stems}.[{table.name}] s on s.rowid = k.rowid order by t.rowid")
            continue
        rows = db.conn.cursor().execute(
            f"select rowid, {columns} from [{table.name}] order by rowid")
        stemmed = ((row[0], *(stem_text(v) for v in row[1:])) for row in rows)
        marks = ", ".join("?" * (len(table.fts) + 1))
        if stems:
            db.execute(f"create table {stems}.[{table.name}] (rowid integer primary key, "
                       f"{columns})")
            db.conn.executemany(f"insert into {stems}.[{table.name}] values ({marks})", stemmed)
            db.execute(f"insert into [{fts}] (rowid, {columns}) select rowid, {columns} "
                       f"from {stems}.[{table.name}] order by rowid")
        else:
            db.conn.executemany(f"insert into [{fts}] (rowid, {columns}) values ({marks})",
                                stemmed)


# A table's rows: dicts, or (column names, tuples of their values).
Rows = Union[list[dict], tuple[Sequence[str], list[tuple]]]


def write_database(path: Path, tables: dict[str, Rows], build_info: dict[str, str],
                   public: bool, progress: Progress = _noop,
                   source: Path | None = None, where: dict[str, str] | None = None,
                   stems: Path | None = None) -> None:
    """Write a new database at ``path`` (which must not exist) from rows per table.

    With ``source``, the rows of each table not in ``tables`` come from that database instead,
    filtered by SQL (``where``: table -> condition on the table's columns, which may refer to
    the source database as ``src``): streamed by SQLite, never held in memory.

    ``stems`` is a scratch file for the stemmed text of the full-text index: written when
    ``source`` is not given (the knowledge base), read with it (the public database; see
    :func:`create_search_index`). It never becomes part of either database.
    """
    db = sqlite_utils.Database(path)
    try:
        # A new file, renamed into place only when whole: no rollback journal, no fsync.
        db.execute("pragma journal_mode = off")
        db.execute("pragma synchronous = off")
        create_schema(db, public)
        if source is not None:
            db.execute("attach database ? as src", [str(source)])
        if stems is not None:
            db.execute("attach database ? as stems", [str(stems)])
            if source is None:
                db.execute("pragma stems.journal_mode = off")
                db.execute("pragma stems.synchronous = off")
        total = len(TABLES)
        with db.atomic():
            for done, table in enumerate(TABLES, 1):
                if table.name == "cotour_build":
                    rows = [{"key": k, "value": v} for k, v in build_info.items()]
                    write_rows(db, table.name, rows, public)
                elif source is not None and table.name not in tables:
                    if db.execute("select 1 from src.sqlite_master where type = 'table' "
                                  "and name = ?", [table.name]).fetchone():
                        copy_rows(db, table.name, (where or {}).get(table.name), public)
                elif isinstance(tables.get(table.name), tuple):
                    columns, rows = tables[table.name]
                    write_rows(db, table.name, rows, public, columns=columns)
                else:
                    write_rows(db, table.name, tables.get(table.name, []), public)
                progress("scrittura tabelle", done, total)
        with db.atomic():
            db.index_foreign_keys()
            # Datasette's array facets (kb.datasette_plugin) count equal arrays through these.
            for table in TABLES:
                for column in table.array_facets:
                    db.execute(f"create index [idx_{table.name}_{column}] "
                               f"on [{table.name}] ([{column}])")
            for name, view in VIEWS.items():
                db.create_view(name, view.sql.strip())
            create_search_index(db, "stems" if stems is not None else None,
                                reuse=source is not None)
        for name in (["src"] if source is not None else []) + (["stems"] if stems else []):
            db.execute(f"detach database {name}")
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


def table_counts(path: Path) -> dict[str, int]:
    """How many rows each dictionary table of a database holds."""
    db = sqlite_utils.Database(path)
    try:
        return {t.name: db[t.name].count for t in TABLES if db[t.name].exists()}
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
