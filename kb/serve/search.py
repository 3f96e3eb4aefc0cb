"""Search in Italian in Datasette: typed words -> stemmed FTS5 expression, ranked by relevance."""

from __future__ import annotations

import contextvars
import re
from urllib.parse import parse_qsl, urlencode

from datasette import hookimpl

from ..domain.text import stem_text
from ..store.search import fts_match
from .cells import SEARCHABLE, TABLE_PATH, TYPED


def stem_search_args(query_string: str) -> tuple[str, str | None]:
    """The query string with ``_search`` as the FTS5 expression of the typed words (kept in
    ``_cotour_search``); and the typed words (None when there is no ``_search``)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    given = dict(pairs)
    if "_search" not in given:
        return query_string, None
    search, typed = given["_search"], given.get(TYPED)
    if typed is None or fts_match(typed) != search:
        typed = search  # new words from the box or the address bar
    rest = [(k, v) for k, v in pairs if k not in ("_search", TYPED)]
    match = fts_match(typed)
    # No words at all (an empty box, only punctuation) means no search, as in Datasette.
    search = [("_search", match)] if match else []
    return urlencode(rest + search + [(TYPED, typed)]), typed


def searchable_path(path: str) -> bool:
    match = TABLE_PATH.search(path)
    return bool(match) and match["table"] in SEARCHABLE


# (table, offset, "search" or "reading") while Datasette builds a table's page in our order:
# a search's by relevance, or the table's reading order when the page is not sorted.
RANKED: contextvars.ContextVar = contextvars.ContextVar("cotour_ranked", default=None)

# A table's order when no sort is asked for: findings as the notes tell them (Datasette sorts
# by one column; the metadata's sort, the event's date, is what its JSON pages keep).
READING_ORDER = {"findings": "date, note_id, position"}

# The table view's page query (Datasette 0.65, views/table.py), ordered by the primary key.
_PAGE_SQL = re.compile(r"^select (?P<columns>(?:(?! from ).)+) from (?P<table>\w+) "
                       r"(?P<where>where .+ )?order by (?P<order>[\w, \[\]]+) "
                       r"limit (?P<limit>\d+)$", re.S)


def ranked_sql(sql: str, table: str, offset: int, mode: str = "search") -> str | None:
    """The table view's page query joined to the index's bm25 rank, best first (``search``),
    or in the table's reading order (``reading``); None for any other query."""
    match = _PAGE_SQL.match(sql)
    if not match or match["table"] != table:
        return None
    if mode == "reading":
        return (f"select {match['columns']} from {table} {match['where'] or ''}"
                f"order by {READING_ORDER[table]}, id limit {match['limit']} offset {offset}")
    if not match["where"]:
        return None
    # The search's own condition names rowid, which the join makes ambiguous.
    where = match["where"].replace(f"rowid in (select rowid from {table}_fts",
                                   f"{table}.rowid in (select rowid from {table}_fts")
    return (f"select {match['columns']} from {table} join (select rowid as cotour_rowid, "
            f"rank as cotour_rank from {table}_fts where {table}_fts match :search) cotour_ranked "
            f"on cotour_ranked.cotour_rowid = {table}.rowid {where}"
            f"order by cotour_ranked.cotour_rank, {table}.id limit {match['limit']} "
            f"offset {offset}")


# A search's own queries (its rows, its count) and each facet over its hits have time limits
# of their own: a word in most findings (cooperativa: 200,000 of them at 500,000 findings)
# gets an answer within about a second — the facets that could not be counted in time named,
# or a page that says to narrow the search — rather than after several seconds.
SEARCH_TIME_LIMIT_MS = 1000
SEARCH_FACET_TIME_LIMIT_MS = 200


def _rank_searches(db) -> None:
    execute = db.execute

    async def execute_ranked(sql, params=None, *args, **kwargs):
        ranked = RANKED.get()
        searching = bool(params) and "search" in params
        if ranked and (ranked[2] == "reading" or searching):
            sql = ranked_sql(sql, *ranked) or sql
        if searching:
            given = kwargs.get("custom_time_limit")  # a facet's (or the page's _timelimit)
            kwargs["custom_time_limit"] = (min(given, SEARCH_FACET_TIME_LIMIT_MS) if given
                                           else SEARCH_TIME_LIMIT_MS)
        return await execute(sql, params, *args, **kwargs)

    db.execute = execute_ranked


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if not getattr(db, "_cotour_ranked", False):
            _rank_searches(db)
            db._cotour_ranked = True


@hookimpl
def prepare_connection(conn):
    conn.create_function("cotour_match", 1, _match, deterministic=True)
    conn.create_function("cotour_stem", 1, lambda text: stem_text(text), deterministic=True)


def _match(query):
    # An empty expression is a syntax error in FTS5; the empty phrase matches nothing.
    return fts_match(query or "") or '""'
