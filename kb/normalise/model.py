"""The rows of the knowledge base as normalise builds them, and the index of organisation names."""

from __future__ import annotations

import difflib
import json
import re
from typing import Callable

from ..diagnostics import Diagnostics
from ..domain.syntax import organisation_key
from ..ingest.records import Source


class Model:
    """The rows of the knowledge base (see :mod:`kb.dictionary`), per table.

    A row is stored as a tuple, with the table's column names once in :attr:`columns`: a dict
    per row would take more memory than the rest of a large build together. :meth:`add`
    takes a dict and keeps its values; :meth:`extend` takes rows already made as tuples.
    ``model[table]`` gives the rows as dicts (a new list each time), for tests and tools.
    """

    def __init__(self) -> None:
        self.columns: dict[str, tuple[str, ...]] = {}
        self.rows: dict[str, list[tuple]] = {}
        self.streamed: dict[str, int] = {}  # rows handed to a sink instead (see normalise())

    def add(self, table: str, row: dict) -> None:
        """Add a row; every row of a table has the same keys, in the same order."""
        rows = self.rows.get(table)
        if rows is None:
            self.columns[table] = tuple(row)
            rows = self.rows[table] = []
        rows.append(tuple(row.values()))

    def extend(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Add rows given as tuples of ``columns`` (the same columns as the table's other rows)."""
        if table not in self.rows:
            self.columns[table] = columns
            self.rows[table] = []
        self.rows[table].extend(rows)

    def __getitem__(self, table: str) -> list[dict]:
        columns = self.columns.get(table, ())
        return [dict(zip(columns, row)) for row in self.rows.get(table, [])]

    @property
    def tables(self) -> dict[str, list[dict]]:
        return {table: self[table] for table in self.rows}

    def counts(self) -> dict[str, int]:
        return {table: len(rows) + self.streamed.get(table, 0)
                for table, rows in self.rows.items()}


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _json(value) -> str:
    """``json.dumps(value, ensure_ascii=False)``; a list of plain strings (ids) is written
    directly, in the same form, since there are several per finding."""
    if type(value) is list and all(type(v) is str and not _JSON_ESCAPED.search(v) for v in value):
        return '["' + '", "'.join(value) + '"]' if value else "[]"
    return json.dumps(value, ensure_ascii=False)


class OrganisationIndex:
    """Resolves an id, name or alias to an organisation id; finds shared names."""

    def __init__(self, source: Source, diags: Diagnostics):
        self.ids = {o.id for o in source.organisations}
        self.by_key: dict[str, str] = {}
        self._resolved: dict[str, str | None] = {}
        lines: dict[str, int] = {}
        for org in source.organisations:
            if org.id in lines:  # a duplicate id, already reported
                continue
            lines[org.id] = org.line
            clashes = set()
            for name in [org.name, *org.aliases, org.id]:
                key = organisation_key(name)
                if not key:
                    continue
                other = self.by_key.setdefault(key, org.id)
                if other != org.id and other not in clashes:
                    clashes.add(other)
                    diags.error(
                        source.organisations_path, org.line,
                        f"name or alias '{name}' of '{org.id}' is also a name or alias of "
                        f"'{other}' (line {lines[other]}); make it unique",
                    )

    def resolve(self, name: str) -> str | None:
        if name in self.ids:
            return name
        try:
            return self._resolved[name]
        except KeyError:  # the same names come back in note after note: fold each once
            org_id = self._resolved[name] = self.by_key.get(organisation_key(name))
            return org_id

    def suggestion(self, name: str) -> str:
        close = difflib.get_close_matches(organisation_key(name), list(self.by_key), n=1, cutoff=0.6)
        return f"; did you mean '{self.by_key[close[0]]}'?" if close else ""


# Receives each note's rows as it is normalised: table -> rows (tuples of NOTE_TABLES[table]),
# and table -> the stemmed text of those rows' STEM_COLUMNS, in the same order.
NoteSink = Callable[[dict[str, list[tuple]], dict[str, list[tuple]]], None]

