"""Array facets that count JSON lists quickly, with Italian labels."""

from __future__ import annotations

import json
import re

from datasette import facets, hookimpl


def _once(configs: list[dict]) -> list[dict]:
    """Each facet once: a page that asks (``_facet=kind``) for a facet the metadata already
    gives would have it counted twice, the second count replacing the first. The last one
    stays (the one asked for, which the page may remove)."""
    last = {json.dumps(c["config"], sort_keys=True): i for i, c in enumerate(configs)}
    return [c for i, c in enumerate(configs)
            if last[json.dumps(c["config"], sort_keys=True)] == i]


class ColumnFacet(facets.ColumnFacet):
    """Datasette's column facet, each facet counted once per page."""

    def get_configs(self):
        return _once(super().get_configs())


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

    def get_configs(self):
        return _once(super().get_configs())

    async def facet_results(self):
        execute = self.ds.execute

        async def fast_execute(database, sql, params=None, **kwargs):
            return await execute(database, array_facet_sql(sql), params, **kwargs)

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


def array_facet_sql(sql: str) -> str:
    """Datasette's array-facet query as :class:`ArrayFacet` runs it (the same counts, reading
    only the array column); any other query as it is."""
    match = _DATASETTE_ARRAY_FACET.search(sql)
    if not match:
        return sql
    shape = ArrayFacet.FACET_SQL if _WHERE.search(match["sql"]) else ArrayFacet.FACET_SQL_ALL_ROWS
    return shape.format(sql=match["sql"], col=match["col"], limit=match["limit"])


@hookimpl(hookwrapper=True)
def register_facet_classes():
    """Our facets in place of Datasette's (same types, same results)."""
    ours = {facets.ArrayFacet: ArrayFacet, facets.ColumnFacet: ColumnFacet}
    outcome = yield
    outcome.force_result([[ours.get(c, c) for c in classes] for classes in outcome.get_result()])
