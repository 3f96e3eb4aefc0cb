"""Datasette's metadata, generated from the data dictionary and the public database.

Titles, descriptions, label columns, facets and sort orders all come from
:mod:`kb.domain.dictionary`; the project's title, description, licence and sources from the
``project`` table of the public database. Nothing about a table or a column is written here.
It imports no Datasette, so the release can write ``metadata.yml`` without starting one.
"""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path


from ..domain.dictionary import TABLES, VIEWS, Table
from ..domain.vocabulary import HELD, LICENCES, sql_string
from ..store.database import connect_read_only
from ..store.public import PUBLIC_NAME
from .canned import read_queries, render_sql


STAFF_NAME = "cotour_staff"
STAFF_ACTORS = ["staff", "root"]
PASSWORD_HASH_ENV = "COTOUR_STAFF_PASSWORD_HASH"


def _describe(it: str, en: str) -> str:
    return f"{it} — {en}"


def table_metadata(table: Table, public: bool = True) -> dict:
    """One table's Datasette metadata, straight from the dictionary."""
    columns = table.public_columns if public else table.columns
    meta: dict = {
        "title": table.title_it,
        "description": _describe(table.it, table.en),
        "columns": {c.name: _describe(c.it, c.en) for c in columns},
    }
    if table.label_column:
        meta["label_column"] = table.label_column
    facets = list(table.facets) + [{"array": c} for c in table.array_facets]
    if facets:
        meta["facets"] = facets
    if table.sort:
        meta["sort_desc" if table.sort_desc else "sort"] = table.sort
    if table.fts:
        # The search box's words become an FTS5 expression (kb.serve.plugin), used as is.
        meta.update(fts_table=f"{table.name}_fts", fts_pk="rowid", searchmode="raw")
    return meta


def view_metadata(name: str) -> dict:
    view = VIEWS[name]
    columns = {c: _describe(*view.describe(c)) for c in view.columns}
    return {"title": view.title_it, "description": _describe(view.title_it, view.title_en),
            "columns": columns}


def tables_metadata(public: bool = True) -> dict:
    meta = {t.name: table_metadata(t, public) for t in TABLES}
    meta.update({name: view_metadata(name) for name in VIEWS})
    return meta


def project_info(public_path: Path | str) -> dict:
    """The ``project`` row of the public database (title, description, licence, sources)."""
    conn = connect_read_only(public_path)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("select * from project limit 1").fetchone()
    finally:
        conn.close()
    return dict(row) if row else {}


def instance_metadata(project: dict) -> dict:
    """Title, description, licence and source of the instance, from the project row."""
    meta = {"title": project.get("title") or "Co?Tour"}
    paragraphs = [p for p in (project.get("description"), project.get("description_en")) if p]
    if paragraphs:
        meta["description"] = "\n\n".join(paragraphs)
        meta["description_html"] = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    licence = project.get("licence")
    if licence:
        meta["license"] = licence
        meta["license_url"] = LICENCES[licence].url if licence in LICENCES else \
            f"https://spdx.org/licenses/{licence}.html"
    sources = json.loads(project.get("sources") or "[]")
    if sources:
        meta["source"] = sources[0].get("title") or sources[0]["path"]
        meta["source_url"] = sources[0]["path"]
    elif project.get("publisher_name"):
        meta["source"] = project["publisher_name"]
    if project.get("base_url"):
        meta["about"] = "Co?Tour – dati aperti"
        meta["about_url"] = project["base_url"]
    return meta


def _vocabulary(public_path: Path | str) -> tuple[list[dict], list[dict]]:
    """Provinces and finding kinds as the database holds them, in their order."""
    conn = connect_read_only(public_path)
    conn.row_factory = sqlite3.Row
    try:
        provinces = [dict(r) for r in conn.execute(
            "select id, name from provinces order by position, id")]
        kinds = [dict(r) for r in conn.execute(
            "select id, label from finding_kinds order by position, id")]
    finally:
        conn.close()
    return provinces, kinds


def canned_queries(provinces: list[dict], kinds: list[dict]) -> dict:
    """The questions researchers of the programme ask (``kb/serve/queries/*.sql``), answered without
    writing SQL (the SQL is folded away on the page, one click shows it)."""
    return {q.name: {"title": q.title, "description": q.description,
                     "sql": render_sql(q, provinces, kinds), "params": list(q.params),
                     "hide_sql": True}
            for q in read_queries()}


def dashboards(database: str = PUBLIC_NAME) -> dict:
    """An overview page (datasette-dashboards): findings by kind and event, organisations by
    province and profile."""
    def metric(title, sql, field):
        return {"title": title, "db": database, "query": sql, "library": "metric",
                "display": {"field": field, "prefix": "", "suffix": ""}}

    return {
        "panoramica": {
            "title": "Co?Tour in un colpo d'occhio",
            "description": "Quante organizzazioni, tappe, risultati e iniziative; i risultati "
                           "di ogni tappa per tipo; le organizzazioni per provincia e profilo.",
            "layout": [
                ["organizzazioni", "tappe", "risultati", "iniziative"],
                ["per-tappa", "per-tappa", "per-tappa", "per-tappa"],
                ["per-provincia", "per-provincia", "per-provincia", "per-provincia"],
            ],
            "charts": {
                "organizzazioni": metric("Organizzazioni",
                                         "select count(*) as n from organisations", "n"),
                "tappe": metric("Tappe svolte",
                                "select count(*) as n from events where status = "
                                f"{sql_string(HELD)}", "n"),
                "risultati": metric("Risultati", "select count(*) as n from findings", "n"),
                "iniziative": metric("Nuove iniziative",
                                     "select count(*) as n from initiatives", "n"),
                "per-tappa": {
                    "title": "Risultati per tappa e tipo",
                    "db": database,
                    "library": "vega-lite",
                    "query": """
select e.city || coalesce(' ' || e.date, '') as tappa, e.date as data, k.label as tipo,
  k.position as ordine, count(*) as risultati
from findings f
join events e on e.id = f.event_id
join finding_kinds k on k.id = f.kind
group by e.id, k.id
order by e.date, e.id, k.position""",
                    "display": {
                        "mark": {"type": "bar", "tooltip": True},
                        "encoding": {
                            "x": {"field": "tappa", "type": "nominal", "sort": None,
                                  "title": "Tappa"},
                            "y": {"field": "risultati", "type": "quantitative",
                                  "title": "Risultati"},
                            "color": {"field": "tipo", "type": "nominal", "title": "Tipo"},
                            "order": {"field": "ordine"},
                        },
                    },
                },
                "per-provincia": {
                    "title": "Organizzazioni per provincia e profilo",
                    "db": database,
                    "library": "vega-lite",
                    "query": """
select p.id as provincia, o.profile as profilo, count(*) as organizzazioni
from organisations o
join provinces p on p.id = o.province
group by p.id, o.profile
order by p.position, o.profile""",
                    "display": {
                        "mark": {"type": "bar", "tooltip": True},
                        "encoding": {
                            "x": {"field": "provincia", "type": "nominal", "sort": None,
                                  "title": "Provincia"},
                            "y": {"field": "organizzazioni", "type": "quantitative",
                                  "title": "Organizzazioni"},
                            "color": {"field": "profilo", "type": "nominal",
                                      "title": "Profilo"},
                        },
                    },
                },
            },
        }
    }


def start_here(queries: dict) -> str:
    """The home page's way in: the main tables, the overview and every canned query.

    Links are relative, so they hold when Datasette runs under a ``base_url`` prefix.
    """
    tables = [("findings", "Risultati", "cerca in italiano: «cooperativa» trova anche "
               "«cooperative»"), ("organisations", "Organizzazioni", "anche sulla mappa"),
              ("events", "Tappe", None), ("initiatives", "Nuove iniziative", None)]
    items = "".join(
        f'<li><a href="{PUBLIC_NAME}/{name}">{title}</a>'
        + (f" — {html.escape(note)}" if note else "") + "</li>" for name, title, note in tables)
    items += '<li><a href="-/dashboards/panoramica">Panoramica con i grafici</a></li>'
    asks = "".join(f'<li><a href="{PUBLIC_NAME}/{name}">{html.escape(q["title"])}</a></li>'
                   for name, q in queries.items())
    return (f"<p><strong>Da dove cominciare</strong></p><ul>{items}</ul>"
            f"<p><strong>Domande pronte</strong> (senza scrivere SQL)</p><ul>{asks}</ul>")


def metadata(public_path: Path | str, staff: bool = False) -> dict:
    """The whole Datasette metadata: instance, databases, tables, canned queries, plugins."""
    queries = canned_queries(*_vocabulary(public_path))
    meta = instance_metadata(project_info(public_path))
    meta["description_html"] = meta.get("description_html", "") + start_here(queries)
    meta["databases"] = {
        PUBLIC_NAME: {
            "title": "Co?Tour – base di conoscenza pubblica",
            "description": "Organizzazioni, tappe, note e risultati del programma, senza dati "
                           "personali né note interne. Ogni riga ha un indirizzo stabile: "
                           "/cotour/{tabella}/{id}.",
            "tables": tables_metadata(public=True),
            "queries": queries,
        },
    }
    plugins = {"datasette-dashboards": dashboards(PUBLIC_NAME)}
    if staff:
        allow = {"id": STAFF_ACTORS}
        meta["databases"][STAFF_NAME] = {
            "title": "Co?Tour – base di conoscenza completa (solo staff)",
            "description": "Tutti i dati, compresi i nomi delle persone e le note interne: "
                           "visibile solo dopo l'accesso.",
            "allow": allow,
            "allow_sql": allow,
            "tables": tables_metadata(public=False),
            "queries": queries,
        }
        plugins["datasette-auth-passwords"] = {
            "staff_password_hash": {"$env": PASSWORD_HASH_ENV},
            "actors": {"staff": {"id": "staff", "name": "Staff Co?Tour"}},
        }
    meta["plugins"] = plugins
    return meta
