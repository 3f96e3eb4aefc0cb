"""Canned queries: the questions researchers ask, kept as SQL files in ``kb/serve/queries/``.

Each file is a query a researcher can read and copy, under a small header::

    -- title: Organizzazioni mappate che non hanno mai partecipato
    -- description: Le organizzazioni trovate dalla mappatura ... (continued on lines
    --   that start with "--" and spaces)
    -- param provincia: provinces

A parameter names what it takes (one of :data:`PARAMETERS`): the query accepts what the
interface shows (``Minacce``, ``Bologna``) as well as ids, and :func:`unknown_values` says when
a value matches nothing. Two queries have a column per province or per finding kind: their SQL
is a Jinja template, written out from the database's own vocabulary when it is served, and
the vocabulary's codes are named, not spelled (``{{ EMERGING | sql }}``: see :data:`CODES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..diagnostics import CotourError
from ..domain import vocabulary
from ..domain.dictionary import TABLES_BY_NAME

QUERIES_DIR = Path(__file__).with_name("queries")


class CannedQueryError(CotourError):
    pass


@dataclass(frozen=True)
class Parameter:
    """What a parameter takes: rows of ``table`` matched (ignoring case) on ``columns``, or
    one of ``values``; ``unknown`` is the message's start when a value matches nothing."""
    unknown: str
    label: str = ""  # the form's label
    table: str | None = None
    columns: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    aliases: bool = False  # also the JSON list of other names in ``aliases``


PARAMETERS = {
    "finding_kinds": Parameter("Tipo di risultato sconosciuto", "Tipo di risultato",
                               "finding_kinds", ("id", "label", "label_en")),
    "provinces": Parameter("Provincia sconosciuta", "Provincia", "provinces", ("id", "name")),
    "themes": Parameter("Tema sconosciuto", "Tema", "themes", ("id", "label", "label_en")),
    "organisations": Parameter("Organizzazione sconosciuta", "Organizzazione", "organisations",
                               ("id", "name"), aliases=True),
    "profiles": Parameter("Profilo sconosciuto", "Profilo",
                          values=vocabulary.PROFILE_IDS),
    "initiative_statuses": Parameter("Stato sconosciuto", "Stato",
                                     values=vocabulary.INITIATIVE_STATUS_IDS),
    "text": Parameter("", "Parole da cercare"),
}


@dataclass(frozen=True)
class CannedQuery:
    name: str
    title: str
    description: str
    params: dict[str, str]  # parameter -> what it takes (a key of PARAMETERS)
    sql: str  # a Jinja template (provinces, kinds)


_KEY = re.compile(r"--\s?(title|description|param)(?:\s+(\w+))?:\s*(.*)$")
_MORE = re.compile(r"--\s{2,}(\S.*)$")


def parse_query(path: Path) -> CannedQuery:
    """One ``.sql`` file: its header (up to the first line that is not a comment) and SQL."""
    lines = path.read_text(encoding="utf-8").splitlines()
    fields: dict[str, str] = {}
    params: dict[str, str] = {}
    last = None
    body_start = len(lines)
    for number, line in enumerate(lines, 1):
        key, more = _KEY.match(line), _MORE.match(line)
        if key:
            name, arg, value = key.groups()
            if name == "param":
                if not arg or value.strip() not in PARAMETERS:
                    raise CannedQueryError(
                        f"{path}:{number}: error: a parameter is written "
                        f"'-- param NAME: KIND', KIND one of {', '.join(PARAMETERS)}")
                params[arg] = value.strip()
                last = None
            else:
                fields[name] = value.strip()
                last = name
        elif more and last:
            fields[last] += " " + more[1].strip()
        elif line.startswith("--"):
            raise CannedQueryError(f"{path}:{number}: error: a header line is '-- title: …', "
                                   "'-- description: …' or '-- param NAME: KIND'")
        else:
            body_start = number - 1
            break
    for required in ("title", "description"):
        if not fields.get(required):
            raise CannedQueryError(f"{path}:1: error: the header has no '-- {required}:'")
    sql = "\n".join(lines[body_start:]).strip()
    used = set(re.findall(r"(?<!:):(\w+)", re.sub(r"--[^\n]*", "", sql)))
    if used != set(params):
        raise CannedQueryError(f"{path}:1: error: the header declares parameters "
                               f"{sorted(params)} but the SQL uses {sorted(used)}")
    return CannedQuery(path.stem, fields["title"], fields["description"], params, sql)


def read_queries(directory: Path = QUERIES_DIR) -> list[CannedQuery]:
    """Every canned query, in the order of their file names."""
    return [parse_query(path) for path in sorted(directory.glob("*.sql"))]


def _sql_string(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _sql_name(value: str) -> str:
    return "[" + str(value).replace("]", "") + "]"


_JINJA = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined,
                            keep_trailing_newline=False)
_JINJA.filters.update(sql=_sql_string, name=_sql_name)


# The vocabulary's codes a query may name ({{ EMERGING | sql }} is 'emergente').
CODES = {"EMERGING": vocabulary.EMERGING, "TRADITIONAL": vocabulary.TRADITIONAL,
         "SOURCE": vocabulary.SOURCE, "MENTIONED": vocabulary.MENTIONED,
         "PRACTICE": vocabulary.PRACTICE, "THREAT": vocabulary.THREAT}


def render_sql(query: CannedQuery, provinces: list[dict], kinds: list[dict]) -> str:
    """The query's SQL with the vocabulary's codes and its per-province or per-kind columns
    written out."""
    return _JINJA.from_string(query.sql).render(provinces=provinces, kinds=kinds,
                                                **CODES).strip()


async def unknown_values(execute, params: dict[str, str], args: dict[str, str]) -> list[str]:
    """Messages (Italian) for the values in ``args`` that match nothing the parameter takes;
    ``execute(sql, params)`` runs a query on the served database and returns its rows."""
    messages = []
    for name, kind in params.items():
        value = (args.get(name) or "").strip()
        parameter = PARAMETERS[kind]
        if not value or kind == "text":
            continue
        if parameter.values:
            if value.lower() not in parameter.values:
                messages.append(f"{parameter.unknown}: «{value}». Valori possibili: "
                                f"{', '.join(parameter.values)}.")
            continue
        columns = " or ".join(f"lower({c}) = lower(:v)" for c in parameter.columns)
        if parameter.aliases:
            columns += " or exists (select 1 from json_each(aliases) where lower(value) = lower(:v))"
        if await execute(f"select 1 from {parameter.table} where {columns} limit 1", {"v": value}):
            continue
        shown = parameter.columns[1]
        near = await execute(
            f"select {shown} from {parameter.table} where {shown} like :like "
            f"order by {shown} limit 5", {"like": f"%{value}%"})
        if near:
            hint = "Forse: " + ", ".join(row[0] for row in near) + "."
        else:
            count = (await execute(f"select count(*) from {parameter.table}", {}))[0][0]
            if count <= 12:
                order = "position" if any(c.name == "position" for c in
                                           TABLES_BY_NAME[parameter.table].columns) else shown
                every = await execute(f"select {shown} from {parameter.table} order by {order}",
                                      {})
                hint = "Valori possibili: " + ", ".join(row[0] for row in every) + "."
            else:
                hint = "Nessun nome simile."
        messages.append(f"{parameter.unknown}: «{value}». {hint}")
    return messages
