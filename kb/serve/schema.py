"""The served files' schema read once: they never change.

Datasette 0.65 asks a database for its tables, columns, keys and foreign keys several times on
every page (a dozen trips to its SQL threads for a findings page, a few milliseconds in all), and
looks its schema up in ``sqlite_master``. For a database opened immutable the answers cannot
change, so each is kept the first time, by its arguments, and handed out as a copy (a caller
may change what it gets).
"""

from __future__ import annotations

import copy
import re

from datasette import hookimpl
from datasette.database import Results

# Database's questions about the schema, whose answers depend on their arguments only.
QUESTIONS = ("table_exists", "table_names", "table_columns", "table_column_details",
             "primary_keys", "fts_table", "label_column_for_table", "foreign_keys_for_table",
             "hidden_table_names", "view_names", "get_all_foreign_keys", "get_table_definition",
             "get_view_definition")

# SQL that reads only the schema: kept like the answers above.
SCHEMA_SQL = re.compile(r"^\s*(?:pragma schema_version|select [^;]* from sqlite_master "
                        r"(?:(?!\b(?:join|union|from)\b)[^;])*)\s*$", re.I | re.S)


def remember(db) -> None:
    """``db``'s schema questions and schema SQL answered once each."""
    for name in QUESTIONS:
        setattr(db, name, _kept(getattr(db, name)))
    execute, kept = db.execute, {}

    async def execute_schema_once(sql, params=None, *args, **kwargs):
        if not SCHEMA_SQL.match(sql):
            return await execute(sql, params, *args, **kwargs)
        key = (sql, repr(params))
        if key not in kept:
            kept[key] = await execute(sql, params, *args, **kwargs)
        found = kept[key]
        return Results(list(found.rows), found.truncated, found.description)

    db.execute = execute_schema_once


def _kept(ask):
    answers: dict = {}

    async def ask_once(*args, **kwargs):
        key = (args, tuple(sorted(kwargs.items())))
        if key not in answers:
            answers[key] = await ask(*args, **kwargs)
        return copy.deepcopy(answers[key])

    return ask_once


@hookimpl(specname="startup")
def remember_schemas(datasette):
    for db in datasette.databases.values():
        if not db.is_mutable and not getattr(db, "_cotour_schema_kept", False):
            remember(db)
            db._cotour_schema_kept = True
