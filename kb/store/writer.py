"""Write rows into a SQLite database shaped by the data dictionary.

The same :class:`Writer` writes the knowledge base and the public database: schema from
:mod:`kb.domain.dictionary`, rows in an order fixed by the input (so rowids, and therefore the
full-text index, are the same on every rebuild) — the notes' rows in the order of the files and
of their items as they are normalised, every other table in primary-key order —, an index on
every foreign key, the views, and the Italian full-text index built from the stemmed text.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from pathlib import Path
from typing import Iterable, Sequence, Union

import sqlite_utils

from ..domain.dictionary import SQLITE_TYPES, TABLES, TABLES_BY_NAME, VIEWS, Table
from ..domain.text import stem_text
from ..outputs import Progress, _noop


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
    One ``executemany`` of plain tuples: sqlite-utils' ``insert_all`` costs a multiple of the
    raw insert on large tables (``benchmarks/bench.py`` measures both).
    """
    table = TABLES_BY_NAME[table_name]
    names = [c.name for c in (table.public_columns if public else table.columns)]
    if columns is None:
        ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in table.pk))
        values: Iterable[tuple] = (tuple(row.get(c) for c in names) for row in ordered)
    else:
        index = {c: i for i, c in enumerate(columns)}
        pk = [index[k] for k in table.pk]
        if all(type(r[i]) is str for r in rows for i in pk):
            # Keys already text (those of the hybridisation's batches of pairs): compared as
            # they are, with no str() per value and no tuple per row for a one-column key.
            ordered = sorted(rows, key=itemgetter(*pk))
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
    indexed table keyed by the rowid of the knowledge base. Without ``reuse`` it is read if
    :meth:`Writer.append` already wrote it (the rows' stems came with them), else written here
    (stemming each row once); with ``reuse`` it is read, through the knowledge base attached
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
            if not _has_table(db, stems, table.name):
                continue  # no row of that table was written (a data folder without notes)
            on = " and ".join(f"k.[{k}] = t.[{k}]" for k in table.pk)
            picked = ", ".join(f"s.[{c}]" for c in table.fts)
            db.execute(f"insert into [{fts}] (rowid, {columns}) select t.rowid, {picked} "
                       f"from main.[{table.name}] t join src.[{table.name}] k on {on} "
                       f"join {stems}.[{table.name}] s on s.rowid = k.rowid order by t.rowid")
            continue
        if stems and _has_table(db, stems, table.name):
            counted = f"select count(*), max(rowid) from {{}}.[{table.name}]"
            if (db.execute(counted.format("main")).fetchone()
                    != db.execute(counted.format(stems)).fetchone()):
                raise AssertionError(f"{table.name}: the stemmed rows do not match the rows")
        else:
            rows = db.conn.cursor().execute(
                f"select rowid, {columns} from [{table.name}] order by rowid")
            stemmed = ((row[0], *(stem_text(v) for v in row[1:])) for row in rows)
            marks = ", ".join("?" * (len(table.fts) + 1))
            if not stems:
                db.conn.executemany(f"insert into [{fts}] (rowid, {columns}) values ({marks})",
                                    stemmed)
                continue
            _create_stems_table(db, stems, table)
            db.conn.executemany(f"insert into {stems}.[{table.name}] values ({marks})", stemmed)
        db.execute(f"insert into [{fts}] (rowid, {columns}) select rowid, {columns} "
                   f"from {stems}.[{table.name}] order by rowid")


def _create_stems_table(db: sqlite_utils.Database, schema: str, table: Table) -> None:
    """The scratch table of ``table``'s stemmed full-text columns, keyed by the row's rowid."""
    columns = ", ".join(f"[{c}]" for c in table.fts)
    db.execute(f"create table {schema}.[{table.name}] (rowid integer primary key, {columns})")


def _has_table(db: sqlite_utils.Database, schema: str, name: str) -> bool:
    return db.execute(f"select 1 from {schema}.sqlite_master where type = 'table' and name = ?",
                      [name]).fetchone() is not None


# A table's rows: dicts, or (column names, tuples of their values).
Rows = Union[list[dict], tuple[Sequence[str], list[tuple]]]

# Rows appended are inserted by the batch (one executemany per table per note costs more).
APPEND_BATCH = 20_000


class Writer:
    """A new database at ``path`` (which must not exist), written in one transaction.

    Rows may be streamed in with :meth:`append` in the order they come (their rowids follow
    it); :meth:`finish` then writes every other table in primary-key order, builds the indexes,
    the views and the full-text index, and gathers the planner's statistics. :meth:`close`
    in any case.

    With ``source``, the rows of each table not given come from that database instead,
    filtered by SQL (``where``: table -> condition on the table's columns, which may refer to
    the source database as ``src``): streamed by SQLite, never held in memory.

    ``stems`` is a scratch file for the stemmed text of the full-text index: written when
    ``source`` is not given (the knowledge base), read with it (the public database; see
    :func:`create_search_index`). It never becomes part of either database.
    """

    def __init__(self, path: Path, public: bool, source: Path | None = None,
                 stems: Path | None = None) -> None:
        self.public, self.source, self.stems = public, source, stems
        self.appended: dict[str, int] = {}
        self._batches: dict[str, tuple[list[tuple], list[tuple]]] = {}
        # Usable from another thread, one at a time: see kb.pipeline.build, which builds the
        # knowledge base's indexes while the public database is derived from its tables.
        self.db = db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
        # A new file, renamed into place only when whole: no rollback journal, no fsync; and
        # a page cache large enough for the primary-key indexes of rows that come unsorted.
        db.execute("pragma journal_mode = off")
        db.execute("pragma synchronous = off")
        db.execute("pragma cache_size = -65536")
        create_schema(db, public)
        if source is not None:
            db.execute("attach database ? as src", [str(source)])
        if stems is not None:
            db.execute("attach database ? as stems", [str(stems)])
            if source is None:
                db.execute("pragma stems.journal_mode = off")
                db.execute("pragma stems.synchronous = off")
        db.conn.execute("begin")

    def append(self, rows: dict[str, list[tuple]], stems: dict[str, list[tuple]]) -> None:
        """Queue one note's rows (:data:`kb.normalise.NoteSink`): ``rows`` are tuples of the
        table's columns in the dictionary's order, ``stems`` the stemmed text of each table's
        full-text columns for the same rows."""
        for table, table_rows in rows.items():
            if not table_rows:
                continue
            batch, stemmed = self._batches.setdefault(table, ([], []))
            batch.extend(table_rows)
            stemmed.extend(stems.get(table, ()))
            if len(batch) >= APPEND_BATCH:
                self._flush(table)

    def _flush(self, table_name: str) -> None:
        batch, stemmed = self._batches.pop(table_name)
        table = TABLES_BY_NAME[table_name]
        names = [c.name for c in (table.public_columns if self.public else table.columns)]
        self.db.conn.executemany(_insert_sql(table, names), batch)
        self.appended[table_name] = self.appended.get(table_name, 0) + len(batch)
        if stemmed:
            if self.stems is None or len(stemmed) != len(batch):
                raise ValueError(f"{table_name}: stemmed rows without a stems file, or too few")
            self._flush_stems(table, stemmed)

    def _flush_stems(self, table: Table, stemmed: list[tuple]) -> None:
        if not _has_table(self.db, "stems", table.name):
            _create_stems_table(self.db, "stems", table)
        columns = ", ".join(f"[{c}]" for c in table.fts)
        marks = ", ".join("?" * len(table.fts))
        # The same order as the rows, so the same rowids: the index is keyed by them.
        self.db.conn.executemany(f"insert into stems.[{table.name}] ({columns}) "
                                 f"values ({marks})", stemmed)

    def write_tables(self, tables: dict[str, Rows], build_info: dict[str, str],
                     where: dict[str, str] | None = None, progress: Progress = _noop,
                     commit: bool = True) -> None:
        """Every table not appended: from ``tables``, else from ``source``; then commit
        (unless not ``commit``: :meth:`build_indexes` then commits the rows with the
        indexes)."""
        db, public = self.db, self.public
        total = len(TABLES)
        for done, table in enumerate(TABLES, 1):
            if table.name in self.appended:
                pass
            elif table.name == "cotour_build":
                rows = [{"key": k, "value": v} for k, v in build_info.items()]
                write_rows(db, table.name, rows, public)
            elif self.source is not None and table.name not in tables:
                if _has_table(db, "src", table.name):
                    copy_rows(db, table.name, (where or {}).get(table.name), public)
            elif isinstance(tables.get(table.name), tuple):
                columns, rows = tables[table.name]
                write_rows(db, table.name, rows, public, columns=columns)
            else:
                write_rows(db, table.name, tables.get(table.name, []), public)
            progress("scrittura tabelle", done, total)
        if commit:
            db.conn.commit()

    def build_indexes(self, search: bool = True) -> None:
        """Foreign-key and facet indexes, views, the full-text index (unless not ``search``)."""
        db = self.db
        with db.atomic():
            db.index_foreign_keys()
            # Datasette's array facets (kb.serve.plugin) count equal arrays through these.
            for table in TABLES:
                for column in table.array_facets:
                    db.execute(f"create index [idx_{table.name}_{column}] "
                               f"on [{table.name}] ([{column}])")
            for name, view in VIEWS.items():
                db.create_view(name, view.sql.strip())
            if search:
                self._build_search_index()
        if db.conn.in_transaction:  # the rows write_tables(commit=False) left: with these
            db.conn.commit()

    def _build_search_index(self) -> None:
        create_search_index(self.db, "stems" if self.stems is not None else None,
                            reuse=self.source is not None)

    def finish(self, tables: dict[str, Rows], build_info: dict[str, str],
               where: dict[str, str] | None = None, progress: Progress = _noop) -> None:
        """:meth:`write_all`, then :meth:`index`."""
        self.write_all(tables, build_info, where, progress)
        self.index(progress)

    def write_all(self, tables: dict[str, Rows], build_info: dict[str, str],
                  where: dict[str, str] | None = None, progress: Progress = _noop,
                  commit: bool = True) -> None:
        """The rows still queued, then every other table (:meth:`write_tables`)."""
        for name in list(self._batches):
            self._flush(name)
        self.write_tables(tables, build_info, where, progress, commit)

    def index(self, progress: Progress = _noop) -> None:
        """Indexes, views, full-text index (:meth:`build_indexes`), then the statistics."""
        self.build_indexes()
        self._detach_and_analyze(progress)

    def index_search(self, progress: Progress = _noop) -> None:
        """What :meth:`index` does after ``build_indexes(search=False)``: the full-text index,
        then the statistics."""
        with self.db.atomic():
            self._build_search_index()
        self._detach_and_analyze(progress)

    def _detach_and_analyze(self, progress: Progress) -> None:
        db = self.db
        for name in (["src"] if self.source is not None else []) + (
                ["stems"] if self.stems else []):
            db.execute(f"detach database {name}")
        progress("indici e ricerca", 1, 1)
        gather_statistics(db)

    def close(self) -> None:
        self.db.close()


def gather_statistics(db: sqlite_utils.Database) -> None:
    """Statistics for the query planner from a sample of each index (exact ones take long on a
    large file for no better plan). No VACUUM: a file written once has no free pages to
    reclaim."""
    db.execute("pragma analysis_limit = 1000")
    db.execute("analyze")


def write_database(path: Path, tables: dict[str, Rows], build_info: dict[str, str],
                   public: bool, progress: Progress = _noop,
                   source: Path | None = None, where: dict[str, str] | None = None,
                   stems: Path | None = None) -> None:
    """Write a new database at ``path`` (which must not exist) from rows per table (see
    :class:`Writer`, which this drives with nothing appended)."""
    writer = Writer(path, public, source=source, stems=stems)
    try:
        writer.finish(tables, build_info, where, progress)
    finally:
        writer.close()
