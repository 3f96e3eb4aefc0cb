"""Italian pages: labels, facets, canned queries' parameters and the dossiers of an organisation,
an event, a theme and a finding.
"""

from __future__ import annotations

import asyncio
import json
import re

from datasette import hookimpl
from datasette.utils import tilde_decode, to_css_class
from markupsafe import Markup, escape

from ..domain.dictionary import TABLES, TABLES_BY_NAME
from ..domain.vocabulary import FINDING_KIND_IDS, PROVINCE_IDS
from .canned import PARAMETERS, read_queries, unknown_values
from .dossiers import OrganisationIndex, index_of
from .cells import (
    BOOLEANS,
    ID_LISTS,
    SEARCHABLE,
    TYPED,
    VALUE_WORDS,
    Labels,
    _link,
    column_label,
    labels_for,
    render_note_text,
)
from .search import RANKED

_CANNED = {q.name: q for q in read_queries()}


@hookimpl
def extra_template_vars(view_name, database, table, request, datasette):
    async def inner():
        described = (datasette.table_metadata(database, table).get("columns") or {}) \
            if database and table else {}
        out = {"cotour_column_label": lambda t, c: column_label(t, c, described),
               "cotour_count": count,
               "cotour_operator": lambda key, shown: OPERATORS.get(key, shown),
               "cotour_date": italian_date,
               "cotour_title": lambda db, table=None: title_of(datasette, db, table)}
        if request is not None and view_name == "table" and table in SEARCHABLE:
            typed = request.args.get(TYPED)
            if typed is not None:
                out["search"] = typed
                if request.args.get("_search"):  # words that search (not "!!!")
                    out["cotour_typed"] = typed
            ranked = RANKED.get()
            if ranked:
                out["cotour_ranked_offset"] = ranked[1]
        if table and view_name == "table":
            out["cotour_facets_in_order"] = lambda results: facets_in_order(table, results)
            out["cotour_rows_html"] = rows_html
        if database and database in datasette.databases:
            labels = await labels_for(datasette, database)
            out["cotour_value_choices"] = lambda column: value_choices(labels, table, column)
            out["cotour_facet_label"] = lambda column, value, label: facet_label(
                labels, table, column, value, label)
            out["cotour_note_text"] = lambda text: render_note_text(
                text or "", labels, datasette, database)
            out["cotour_fk_link"] = lambda column, value: fk_link(
                datasette, database, labels, table, column, value)
            if view_name == "row" and table in Labels.TABLES and request is not None:
                pk = tilde_decode(request.url_vars.get("pks", ""))
                out["cotour_row_title"] = labels.label(table, pk)
        if request is not None and database and view_name != "row":
            name = request.path.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
            if name in _CANNED:  # a canned query's page (Datasette renders it as a table's)
                db = datasette.get_database(database)

                async def execute(sql, params):
                    return list(await db.execute(sql, params))

                params = _CANNED[name].params
                out["cotour_unknown"] = await unknown_values(execute, params, dict(request.args))
                out["cotour_param_label"] = lambda param: param_label(params, param)
                out["cotour_param_choices"] = lambda param: param_choices(
                    labels, params.get(param))
        if view_name == "row" and table in DOSSIERS and request is not None:
            pk = tilde_decode(request.url_vars.get("pks", ""))
            db = datasette.get_database(database)
            out["cotour_dossier"] = await DOSSIERS[table](db, pk, datasette, database)
        return out

    return inner


def rows_html(rows) -> Markup:
    """A table page's rows, each cell ``<td class="col-… type-…">value</td>`` (the value
    escaped unless it is markup), as a Jinja loop over every cell would write them: a page
    holds hundreds of cells, and Datasette's asynchronous templates cost more a cell than the
    cell's own value."""
    classes: dict[str, str] = {}
    out = []
    for row in rows:
        cells = []
        for cell in row:
            column = cell["column"]
            css = classes.get(column)
            if css is None:
                css = classes[column] = escape(to_css_class(column))
            cells.append(f'<td class="col-{css} type-{escape(cell["value_type"])}">'
                         f'{escape(cell["value"])}</td>')
        out.append("\n<tr>" + "".join(cells) + "</tr>\n")
    return Markup("".join(out))


# Facets in the dictionary's order (Datasette puts the longest first).
FACET_ORDER = {t.name: [*t.facets, *t.array_facets] for t in TABLES}


def facets_in_order(table: str, results) -> list:
    """The facets in the dictionary's order, each once: a facet the page asks for again
    (``?_facet=province``, from a column's menu) is the same facet as the metadata's."""
    order = FACET_ORDER.get(table, [])
    seen, unique = set(), []
    for facet in results:
        if facet["name"] not in seen:
            seen.add(facet["name"])
            unique.append(facet)
    return sorted(unique, key=lambda f: order.index(f["name"]) if f["name"] in order
                  else len(order))


# Vocabulary tables whose every value a filter box may offer by name, in the vocabulary's order.
CHOICE_TABLES = {"provinces": PROVINCE_IDS, "finding_kinds": FINDING_KIND_IDS}


def value_choices(labels: Labels, table: str | None, column: str) -> list[tuple[str, str]]:
    """(code, word) of every value a column may hold when it holds a vocabulary's codes (a
    kind, a status, a province…): the filter box offers the words, as the page shows them."""
    if (table, column) in VALUE_WORDS:
        return list(VALUE_WORDS[table, column].items())
    fk = _foreign_key(table, column)
    if fk and fk[0] in CHOICE_TABLES:
        names = labels.names.get(fk[0], {})
        return [(code, names[code]) for code in CHOICE_TABLES[fk[0]] if code in names]
    return []

OPERATORS = {"exact": "=", "not": "≠", "contains": "contiene", "endswith": "finisce con",
             "startswith": "comincia con", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
             "like": "like", "notlike": "not like", "glob": "glob", "in": "è fra",
             "notin": "non è fra", "arraycontains": "la lista contiene",
             "arraynotcontains": "la lista non contiene", "date": "data", "isnull": "è nullo",
             "notnull": "non è nullo", "isblank": "è vuoto", "notblank": "non è vuoto"}


def count(n, singular: str, plural: str) -> str:
    """``1 riga``, ``1.234 righe``."""
    return f"{n:,}".replace(",", ".") + " " + (singular if n == 1 else plural)


def italian_date(value) -> str:
    """``2015-12-09`` -> ``9 dicembre 2015``."""
    from datetime import date

    from babel.dates import format_date

    try:
        return format_date(date.fromisoformat(str(value)), "d MMMM y", locale="it")
    except ValueError:
        return str(value)


def title_of(datasette, database: str, table: str | None = None) -> str:
    if table is None:
        return datasette.metadata("title", database=database) or database
    return datasette.table_metadata(database, table).get("title") or table


def param_label(params: dict, name: str) -> str:
    number = re.search(r"_(\d+)$", name)
    label = PARAMETERS[params[name]].label if name in params else name
    return f"{label} {number[1]}" if number else label


def param_choices(labels: "Labels", kind: str | None) -> list[str]:
    """What a canned query's parameter offers as it is typed (the form's datalist)."""
    if kind is None or kind == "text":
        return []
    parameter = PARAMETERS[kind]
    if parameter.values:
        return list(parameter.values)
    names = labels.names.get(parameter.table, {})
    return sorted(names.values(), key=str.casefold) if len(names) <= 2000 else []


def fk_link(datasette, database, labels, table, column, value):
    """A foreign key's value as a link to its row, named (None when the column is not one)."""
    if table not in TABLES_BY_NAME or value is None:
        return None
    found = [c for c in TABLES_BY_NAME[table].columns if c.name == column and c.fk]
    if not found:
        return None
    target = found[0].fk[0]
    return Markup(_link(datasette, database, target, value, labels.label(target, value)))


def facet_label(labels: Labels, table, column, value, label):
    if (table, column) in BOOLEANS:
        return {1: "sì", 0: "no", "1": "sì", "0": "no"}.get(value, label)
    if (table, column) in VALUE_WORDS:
        return VALUE_WORDS[table, column].get(value, label)
    where = ID_LISTS.get(column)
    if where and where != "findings":
        return labels.label(where, value)
    fk = _foreign_key(table, column)
    if fk and fk[0] in Labels.TABLES and label == value:  # a filter's value: its label
        return labels.label(fk[0], value)
    return label


def _foreign_key(table: str | None, column: str) -> tuple[str, str] | None:
    spec = TABLES_BY_NAME.get(table)
    return next((c.fk for c in spec.columns if c.name == column), None) if spec else None


async def _rows(db, sql, params) -> list[dict]:
    return [dict(r) for r in await db.execute(sql, params)]


HOW = ("ha ospitato", "ha partecipato", "è citata")

# Below this many linked findings SQL reads a dossier as fast as the index (one query fewer).
FROM_MEMORY_FROM = 1000

PAIRS = """
    select p.id, p.realised, p.rank, p.score, p.reason,
           case when p.emerging_id = :id then p.traditional_id else p.emerging_id end
             as partner_id,
           o.name as partner
    from hybrid_pairs p join organisations o on o.id =
      case when p.emerging_id = :id then p.traditional_id else p.emerging_id end
    where p.emerging_id = :id or p.traditional_id = :id
    order by p.realised desc, p.rank limit 50"""


async def organisation_dossier(db, pk, datasette, database) -> dict:
    index = index_of(datasette, database)
    if index is not None and index.links(pk) >= FROM_MEMORY_FROM:
        return await organisation_dossier_from_memory(db, pk, index)
    findings = """
        select f.id, f.kind, k.label as tipo, f.event_id, e.name as tappa, e.date as data,
               f.text
        from finding_organisations fo join findings f on f.id = fo.finding_id
        join finding_kinds k on k.id = f.kind join events e on e.id = f.event_id
        where fo.organisation_id = :id and fo.role = :role
        order by e.date, e.id, f.note_id, f.position limit 200"""
    # Side by side on Datasette's SQL threads (SQLite lets go of the GIL): at 500,000 findings
    # the busiest organisation's three reads over its 42,000 findings take a few hundred ms each.
    raised, mentioned, events, initiatives, pairs = await asyncio.gather(
        _rows(db, findings, {"id": pk, "role": "source"}),
        _rows(db, findings, {"id": pk, "role": "mentioned"}),
        _rows(db, """
            select e.id, e.name, e.date, group_concat(distinct how) as how from (
              select event_id, 'ha ospitato' as how from event_hosts where organisation_id = :id
              union all select n.event_id, 'ha partecipato' from note_participants np
                join notes n on n.id = np.note_id where np.organisation_id = :id
              union all select f.event_id, 'è citata' from finding_organisations fo
                join findings f on f.id = fo.finding_id where fo.organisation_id = :id
            ) x join events e on e.id = x.event_id
            group by e.id order by e.date, e.id""", {"id": pk}),
        _rows(db, """
            select i.id, i.title, i.status from initiative_organisations io
            join initiatives i on i.id = io.initiative_id where io.organisation_id = :id
            order by i.id""", {"id": pk}),
        _rows(db, PAIRS, {"id": pk}))
    return {"kind": "organisation", "raised": raised, "mentioned": mentioned, "events": events,
            "initiatives": initiatives, "pairs": pairs}


async def organisation_dossier_from_memory(db, pk, index: OrganisationIndex) -> dict:
    """The same dossier with its findings and the events that cite it read from ``index``
    (:mod:`kb.serve.dossiers`): the same rows in the same order."""
    async def findings(role):
        rowids = index.first(pk, role, 200)
        found = {r.pop("cotour_rowid"): r for r in await _rows(db, """
            select f.id, f.kind, k.label as tipo, f.event_id, e.name as tappa, e.date as data,
                   f.text, f.rowid as cotour_rowid
            from findings f join finding_kinds k on k.id = f.kind
            join events e on e.id = f.event_id
            where f.rowid in (select value from json_each(:rowids))""",
            {"rowids": json.dumps(rowids)})}
        return [found[r] for r in rowids if r in found]

    async def events():
        hosted = {r["event_id"] for r in await _rows(
            db, "select event_id from event_hosts where organisation_id = :id", {"id": pk})}
        took_part = {r["event_id"] for r in await _rows(db, """
            select n.event_id from note_participants np join notes n on n.id = np.note_id
            where np.organisation_id = :id""", {"id": pk})}
        cited = index.events.get(pk, set())
        ids = hosted | took_part | cited
        rows = await _rows(db, """
            select id, name, date from events where id in (select value from json_each(:ids))
            order by date, id""", {"ids": json.dumps(sorted(ids))})
        for row in rows:
            row["how"] = ",".join(how for how, where in zip(HOW, (hosted, took_part, cited))
                                  if row["id"] in where)
        return rows

    raised, mentioned, events, initiatives, pairs = await asyncio.gather(
        findings("source"), findings("mentioned"), events(), _rows(db, """
            select i.id, i.title, i.status from initiative_organisations io
            join initiatives i on i.id = io.initiative_id where io.organisation_id = :id
            order by i.id""", {"id": pk}), _rows(db, PAIRS, {"id": pk}))
    return {"kind": "organisation", "raised": raised, "mentioned": mentioned, "events": events,
            "initiatives": initiatives, "pairs": pairs}


async def event_dossier(db, pk, datasette, database) -> dict:
    return {
        "kind": "event",
        "notes": await _rows(db, """
            select n.id, n.title, n.kind, (select count(*) from findings f where f.note_id = n.id)
              as findings from notes n where n.event_id = :id order by n.id""", {"id": pk}),
        "by_kind": await _rows(db, """
            select k.id, k.label, count(f.id) as n from finding_kinds k
            join findings f on f.kind = k.id and f.event_id = :id
            group by k.id order by k.position""", {"id": pk}),
        "hosts": await _rows(db, """
            select o.id, o.name from event_hosts h join organisations o on o.id = h.organisation_id
            where h.event_id = :id order by o.name""", {"id": pk}),
    }


async def theme_dossier(db, pk, datasette, database) -> dict:
    return {
        "kind": "theme",
        "by_kind": await _rows(db, """
            select k.id, k.label, count(*) as n from finding_themes ft
            join findings f on f.id = ft.finding_id join finding_kinds k on k.id = f.kind
            where ft.theme_id = :id group by k.id order by k.position""", {"id": pk}),
        "children": await _rows(db, "select id, label from themes where parent_id = :id "
                                    "order by label", {"id": pk}),
        "organisations": await _rows(db, """
            select o.id, o.name from organisation_themes ot
            join organisations o on o.id = ot.organisation_id where ot.theme_id = :id
            order by o.name limit 100""", {"id": pk}),
        "initiatives": await _rows(db, """
            select i.id, i.title from initiative_themes it
            join initiatives i on i.id = it.initiative_id where it.theme_id = :id
            order by i.id""", {"id": pk}),
    }


async def finding_dossier(db, pk, datasette, database) -> dict:
    found = await _rows(db, """
        select f.id, f.kind, k.label as tipo, f.event_id, e.name as tappa, e.date as data,
               f.note_id, n.title as nota, f.position, f.text, f.themes, f.source_path,
               f.source_line
        from findings f join finding_kinds k on k.id = f.kind
        join events e on e.id = f.event_id join notes n on n.id = f.note_id
        where f.id = :id""", {"id": pk})
    if not found:
        return {}
    return {
        "kind": "finding",
        "finding": found[0],
        "organisations": await _rows(db, """
            select o.id, o.name, fo.role, o.profile from finding_organisations fo
            join organisations o on o.id = fo.organisation_id where fo.finding_id = :id
            order by fo.role desc, o.name""", {"id": pk}),
        "themes": await _rows(db, """
            select t.id, t.label from finding_themes ft join themes t on t.id = ft.theme_id
            where ft.finding_id = :id order by t.label""", {"id": pk}),
    }


DOSSIERS = {"organisations": organisation_dossier, "events": event_dossier,
            "themes": theme_dossier, "findings": finding_dossier}
