"""Our Datasette hooks: Italian full-text search wherever Datasette searches.

The index of ``findings`` and ``notes`` holds Italian stems (see :mod:`kb.search`), so a query
must be stemmed the same way before it reaches ``MATCH``. Datasette 0.65 has no hook to rewrite
``?_search=``, so an ASGI wrapper does it:

* ``?_search=cooperativa`` on a searchable table becomes ``?_search=cooper`` (what Datasette
  matches) plus ``_cotour_search=cooperativa`` (what the user typed). Datasette carries every
  argument into its links (next page, facets, sort, JSON, CSV), so the typed words travel with
  them; a request whose ``_search`` is the stem of ``_cotour_search`` is one of those links and
  is left alone (stemming a stem again is not always a no-op: ``plenaria`` -> ``plenar`` ->
  ``plen``). Anything else in ``_search`` is new input, typed in the box, and is stemmed.
* :func:`extra_template_vars` puts the typed words back in the search box.

Canned queries and researchers' own SQL use the SQL functions ``cotour_match(text)`` (the same
``MATCH`` expression as ``cotour search``) and ``cotour_stem(text)``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from datasette import facets, hookimpl

from .dictionary import TABLES
from .search import fts_match, stem_query, stem_text

SEARCHABLE = tuple(t.name for t in TABLES if t.fts)
TYPED = "_cotour_search"  # must not start with "_search": Datasette reads those as searches
TABLE_PATH = re.compile(r"/[^/]+/(?P<table>[^/.]+)(?:\.(?:json|csv))?$")


def stem_search_args(query_string: str) -> tuple[str, str | None]:
    """The query string with ``_search`` stemmed and the typed words kept in ``_cotour_search``;
    and the typed words (None when there is no ``_search``)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    given = dict(pairs)
    if "_search" not in given:
        return query_string, None
    search, typed = given["_search"], given.get(TYPED)
    if typed is None or stem_query(typed) != search:
        typed = search  # new words from the box or the address bar
    rest = [(k, v) for k, v in pairs if k not in ("_search", TYPED)]
    stems = stem_query(typed)
    # No words at all (an empty box, only punctuation) means no search, as in Datasette.
    search = [("_search", stems)] if stems else []
    return urlencode(rest + search + [(TYPED, typed)]), typed


def searchable_path(path: str) -> bool:
    match = TABLE_PATH.search(path)
    return bool(match) and match["table"] in SEARCHABLE


@hookimpl
def asgi_wrapper():
    def wrap(app):
        async def stem_search(scope, receive, send):
            if scope["type"] == "http" and searchable_path(scope.get("path", "")):
                query_string = scope.get("query_string", b"").decode("latin-1")
                if "_search" in query_string:
                    rewritten, typed = stem_search_args(query_string)
                    if typed is not None:
                        scope = dict(scope, query_string=rewritten.encode("latin-1"))
            await app(scope, receive, send)

        return stem_search

    return wrap


@hookimpl
def extra_template_vars(view_name, table, request):
    """The search box shows what the user typed, not the stems Datasette searched for."""
    if view_name == "table" and table in SEARCHABLE and request is not None:
        typed = request.args.get(TYPED)
        if typed is not None:
            return {"search": typed}
    return {}


# Datasette lists every column's description above the table; folded, the rows come first.
FOLD_COLUMN_DESCRIPTIONS = """
document.querySelectorAll("dl.column-descriptions").forEach(function (list) {
  var details = document.createElement("details");
  var summary = document.createElement("summary");
  summary.textContent = "Descrizione delle colonne (" + list.querySelectorAll("dt").length + ")";
  list.parentNode.insertBefore(details, list);
  details.appendChild(summary);
  details.appendChild(list);
});
"""


@hookimpl
def extra_body_script(view_name):
    return FOLD_COLUMN_DESCRIPTIONS if view_name == "table" else ""


class ArrayFacet(facets.ArrayFacet):
    """Datasette's array facet with a query that holds on large tables.

    Datasette 0.65 deduplicates a row's repeated values with ``select distinct j.value,
    inner.*``: a temporary index over every column of every row (the whole text of 460,000
    findings, three times per page, each cut short by ``facet_time_limit_ms``). Here a value
    counts once per row because only its first occurrence in the array is kept (``not
    exists`` an equal value at a smaller index): the same counts, with only the array column
    read. The rest (results, toggle links, time limit) is Datasette's own.
    """

    FACET_SQL = """
        with inner as ({sql})
        select j.value as value, count(*) as count
        from inner join json_each(inner.{col}) j
        where not exists (select 1 from json_each(inner.{col}) d
                          where d.value = j.value and d.key < j.key)
        group by j.value
        order by count(*) desc, j.value limit {limit}"""
    # Unfiltered (the table page as it opens): equal arrays first, through the column's index
    # (kb.store indexes every array facet column), then each distinct array's values once.
    # With a filter SQLite would walk that index instead of the filter's, so not then.
    FACET_SQL_ALL_ROWS = """
        with inner as ({sql}),
        arrays as (select {col} as a, count(*) as n from inner group by {col})
        select j.value as value, sum(arrays.n) as count
        from arrays join json_each(arrays.a) j
        where not exists (select 1 from json_each(arrays.a) d
                          where d.value = j.value and d.key < j.key)
        group by j.value
        order by sum(arrays.n) desc, j.value limit {limit}"""

    async def facet_results(self):
        execute = self.ds.execute

        async def fast_execute(database, sql, params=None, **kwargs):
            match = _DATASETTE_ARRAY_FACET.search(sql)
            if match:
                shape = (self.FACET_SQL if _WHERE.search(match["sql"])
                         else self.FACET_SQL_ALL_ROWS)
                sql = shape.format(sql=match["sql"], col=match["col"], limit=match["limit"])
            return await execute(database, sql, params, **kwargs)

        self.ds = _Proxy(self.ds, execute=fast_execute)
        try:
            return await super().facet_results()
        finally:
            self.ds = self.ds._target


class _Proxy:
    """``target`` with some attributes replaced."""

    def __init__(self, target, **replaced):
        self._target = target
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(self._target, name)


_WHERE = re.compile(r"\bwhere\b", re.I)

# The SQL of Datasette 0.65's ArrayFacet (datasette/facets.py), to replace it with ours.
_DATASETTE_ARRAY_FACET = re.compile(
    r"^\s*with inner as \((?P<sql>.*)\),\s*deduped_array_items as \(\s*select\s+distinct "
    r"j\.value,\s+inner\.\*\s+from\s+json_each\(\[inner\]\.(?P<col>.+?)\) j\s+join inner"
    r"\s*\).*limit (?P<limit>\d+)\s*$", re.S)


@hookimpl(hookwrapper=True)
def register_facet_classes():
    """Our :class:`ArrayFacet` in place of Datasette's (same type, same results)."""
    outcome = yield
    outcome.force_result([[ArrayFacet if c is facets.ArrayFacet else c for c in classes]
                          for classes in outcome.get_result()])


def _match(query):
    # An empty expression is a syntax error in FTS5; the empty phrase matches nothing.
    return fts_match(query or "") or '""'


@hookimpl
def prepare_connection(conn):
    conn.create_function("cotour_match", 1, _match, deterministic=True)
    conn.create_function("cotour_stem", 1, lambda text: stem_text(text), deterministic=True)


@hookimpl
def render_cell(value, column, database, datasette):
    """Lists of finding ids (``evidence_findings``, the canned queries' ``risultati``): each
    finding id a link to its row."""
    if column not in ("evidence_findings", "risultati", "da_emergenti", "da_tradizionali") or not isinstance(value, str) or not value.startswith("["):
        return None
    import json

    from markupsafe import Markup, escape

    try:
        ids = [str(i) for i in json.loads(value)]
    except (ValueError, TypeError):
        return None
    return Markup(", ".join(
        f'<a href="{escape(datasette.urls.row(database, "findings", i))}">{escape(i)}</a>'
        for i in ids))
