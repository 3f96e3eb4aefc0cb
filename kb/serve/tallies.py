"""Facet counts and row counts of the findings from memory: the served file never changes.

A findings page (filtered, searched or whole) asks SQLite for its row count and for seven
facets, each of which selects the page's rows again and groups them: eight passes over the same
rows, the array facets unpacking JSON in each. Here the page's rows are selected once (their
rowids, the page's own ``where`` and parameters, under the same time limit) and every count is
read from arrays loaded when the server starts: each facet column's values as integer codes by
rowid, each array column's distinct values per row (the first occurrence of a value in its
array, as :class:`kb.serve.facets.ArrayFacet` counts). The answers are the rows the SQL would
give, in its order (``count desc, value``); a query of any other shape, or on a column not
loaded, goes to SQLite as before. ``tests/test_serve_tallies.py`` compares both on a fixture.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import sqlite3
from itertools import chain
from typing import Callable

import numpy as np
from datasette import hookimpl
from datasette.database import QueryInterrupted, Results
from datasette.tracer import trace
from datasette.utils import sqlite_timelimit

from ..domain.dictionary import TABLES_BY_NAME
from ..store.public import PUBLIC_NAME
from .search import SEARCH_TIME_LIMIT_MS

# The large table; the others are small enough for SQLite to count quickly.
TABLE = "findings"

# The rowids of a query's rows, by (from-and-where SQL, parameters), for the one request being
# answered (a page's count and its facets select the same rows): set fresh per request.
REQUEST_ROWS: contextvars.ContextVar = contextvars.ContextVar("cotour_rows", default=None)

_FROM = r"(?P<table>\[?\w+\]?)(?P<where>(?:\s+where\s.*?)?)\s*"

# The table view's count (Datasette 0.65, views/table.py).
_COUNT = re.compile(rf"^\s*select count\(\*\) from {_FROM}$", re.S)

# A page's own rows, as the facets wrap them: ``select <columns> from <table> [where …]``.
_INNER = re.compile(rf"^\s*select (?:(?! from ).)+ from {_FROM}$", re.S)

# Datasette 0.65's column facet (datasette/facets.py).
_COLUMN_FACET = re.compile(
    r"^\s*select (?P<col>\S+) as value, count\(\*\) as count from \(\s*(?P<sql>.*)\)\s*"
    r"where (?P=col) is not null\s+group by (?P=col) order by count desc, value "
    r"limit (?P<limit>\d+)\s*$", re.S)

# The array facet as kb.serve.facets.ArrayFacet runs it (with or without a filter).
_ARRAY_FACET = re.compile(
    r"^\s*with inner as \((?P<sql>.*?)\),?\s*(?:arrays as \(select (?P<acol>\S+) as a, .*)?"
    r"select j\.value as value, (?:count\(\*\)|sum\(arrays\.n\)) as count\s+"
    r"from (?:inner|arrays) join json_each\((?:inner\.(?P<col>\S+?)|arrays\.a)\) j\s.*"
    r"limit (?P<limit>\d+)\s*$", re.S)


def _name(identifier: str) -> str:
    return identifier[1:-1] if identifier.startswith("[") else identifier.strip('"')


def _sqlite_order(value) -> tuple:
    """SQLite's order of values of any type (NULL, numbers, text by its bytes, blobs)."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)  # code-point order is UTF-8's byte order (BINARY collation)
    return (3, bytes(value))


class FacetIndex:
    """A table's facet columns in memory: codes by rowid (-1 for NULL) and the values they
    stand for; array columns as (rowid, code) pairs, each value once per row."""

    def __init__(self, size: int, columns: dict, arrays: dict, all_rows: np.ndarray):
        self.size, self.columns, self.arrays = size, columns, arrays
        self.all_rows = all_rows  # an unfiltered page's

    @classmethod
    def load(cls, conn, table: str = TABLE) -> "FacetIndex":
        spec = TABLES_BY_NAME[table]
        size = conn.execute(f"select coalesce(max(rowid), 0) + 1 from [{table}]").fetchone()[0]
        columns, arrays = {}, {}
        for column in spec.facets:
            values: dict = {}
            codes = np.full(size, -1, dtype=np.int32)
            rows = conn.execute(f"select rowid, [{column}] from [{table}] "
                                f"where [{column}] is not null")
            rowids, coded = [], []
            for rowid, value in rows:
                rowids.append(rowid)
                coded.append(values.setdefault(value, len(values)))
            codes[np.array(rowids, dtype=np.int64)] = np.array(coded, dtype=np.int32)
            columns[column] = (codes, list(values))
        for column in spec.array_facets:
            values = {}
            rowids, coded = [], []
            # The same first occurrences as ArrayFacet's query keeps.
            for rowid, value in conn.execute(
                    f"select t.rowid, j.value from [{table}] t join json_each(t.[{column}]) j "
                    f"where not exists (select 1 from json_each(t.[{column}]) d "
                    f"where d.value = j.value and d.key < j.key)"):
                rowids.append(rowid)
                coded.append(values.setdefault(value, len(values)))
            arrays[column] = (np.array(rowids, dtype=np.int64),
                              np.array(coded, dtype=np.int32), list(values))
        all_rows = np.fromiter(chain.from_iterable(conn.execute(
            f"select rowid from [{table}]")), dtype=np.int64)
        return cls(size, columns, arrays, all_rows)

    def counts(self, column: str, rowids: np.ndarray, limit: int) -> list[dict] | None:
        """``[{value, count}]`` of ``column`` over ``rowids``, as the facet's SQL orders and
        cuts them; None when the column is not held."""
        if column in self.columns:
            codes, values = self.columns[column]
            picked = codes[rowids]
            tally = np.bincount(picked[picked >= 0], minlength=len(values))
        elif column in self.arrays:
            rows, codes, values = self.arrays[column]
            mask = np.zeros(self.size, dtype=bool)
            mask[rowids] = True
            tally = np.bincount(codes[mask[rows]], minlength=len(values))
        else:
            return None
        found = [(int(n), values[code]) for code, n in enumerate(tally.tolist()) if n]
        found.sort(key=lambda item: (-item[0], _sqlite_order(item[1])))
        return [{"value": value, "count": n} for n, value in found[:limit]]


def _results(rows: list, columns: tuple[str, ...]) -> Results:
    return Results(rows, False, [(c, None, None, None, None, None, None) for c in columns])


def _select_rowids(where: str, params, limit_ms: int) -> Callable:
    """The rowids of ``where``'s rows, read in the database's thread under ``limit_ms`` (as
    ``db.execute`` would: an interrupted query raises :class:`QueryInterrupted`), straight into
    an array (a search's 200,000 rows as Row objects cost more than counting them)."""
    sql = f"select rowid from [{TABLE}] {where}"

    def select(conn) -> np.ndarray:
        with sqlite_timelimit(conn, limit_ms):
            try:
                cursor = conn.cursor()
                cursor.row_factory = None
                cursor.execute(sql, params if params is not None else {})
                return np.fromiter(chain.from_iterable(cursor), dtype=np.int64)
            except sqlite3.OperationalError as exc:
                if exc.args == ("interrupted",):
                    raise QueryInterrupted(exc, sql, params) from None
                raise

    return select


def tally_from_memory(db, index: FacetIndex) -> None:
    """``db.execute`` answering the findings' counts and facets from ``index``."""
    execute = db.execute

    async def rowids(where: str, params) -> np.ndarray:
        if not where.strip():
            return index.all_rows
        memo = REQUEST_ROWS.get()
        key = (where, tuple(sorted((params or {}).items())))
        if memo is None:
            memo = {}
        if key not in memo:
            # Under the time limit the page's count has (a search's, kb.serve.search).
            limit = (SEARCH_TIME_LIMIT_MS if params and "search" in params
                     else db.ds.setting("sql_time_limit_ms"))
            memo[key] = asyncio.ensure_future(select(where, params, limit))
        return await asyncio.shield(memo[key])

    async def select(where: str, params, limit: int) -> np.ndarray:
        # Traced as Datasette traces its own SQL (?_trace=1, benchmarks' floors).
        with trace("sql", database=db.name, sql=f"select rowid from [{TABLE}] {where}".strip(),
                   params=params):
            return await db.execute_fn(_select_rowids(where, params, limit))

    def own_rows(sql: str) -> str | None:
        match = _INNER.match(sql)
        return match["where"] if match and _name(match["table"]) == TABLE else None

    async def execute_tallied(sql, params=None, *args, **kwargs):
        count = _COUNT.match(sql)
        if count and _name(count["table"]) == TABLE:
            return _results([(len(await rowids(count["where"], params)),)], ("count(*)",))
        facet = _COLUMN_FACET.match(sql) or _ARRAY_FACET.match(sql)
        if facet:
            column = _name(facet.groupdict().get("col") or facet["acol"] or "")
            where = own_rows(facet["sql"])
            if where is not None and (column in index.columns or column in index.arrays):
                rows = index.counts(column, await rowids(where, params), int(facet["limit"]))
                return _results(rows, ("value", "count"))
        return await execute(sql, params, *args, **kwargs)

    db.execute = execute_tallied


@hookimpl(specname="startup")
def load_tallies(datasette):
    async def inner():
        db = datasette.databases.get(PUBLIC_NAME)
        if db is None or getattr(db, "_cotour_tallied", False):
            return
        if TABLE in await db.table_names():
            index = await db.execute_fn(FacetIndex.load)
            tally_from_memory(db, index)
        db._cotour_tallied = True

    return inner


class FreshRows:
    """Each request its own memo of selected rows (:data:`REQUEST_ROWS`)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = REQUEST_ROWS.set({})
        try:
            await self.app(scope, receive, send)
        finally:
            REQUEST_ROWS.reset(token)


