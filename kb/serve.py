"""Datasette on the knowledge base: the app and its metadata, generated from the data dictionary.

The public database is always served as ``cotour`` (a row lives at ``/cotour/{table}/{id}``),
immutable. With ``staff_path`` the full knowledge base is served too, as ``cotour_staff``, and
only an actor who signed in (``staff`` through datasette-auth-passwords, or ``root`` through the
one-time token) may read it: the whole database is protected, custom SQL included.

Titles, descriptions, label columns, facets and sort orders all come from
:mod:`kb.dictionary`; the project's title, description, licence and sources from the ``project``
table of the public database. Nothing about a table or a column is written here.
"""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path

from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from . import datasette_plugin
from .canned import read_queries, render_sql
from .diagnostics import CotourError
from .dictionary import TABLES, TABLES_BY_NAME, VIEWS, Table
from .public import PUBLIC_NAME, is_public, require_public
from .read import LICENCES
from .store import connect_read_only
from .vocabulary import HELD, sql_string

STAFF_NAME = "cotour_staff"
STAFF_ACTORS = ["staff", "root"]
PASSWORD_HASH_ENV = "COTOUR_STAFF_PASSWORD_HASH"

# Safe and fast for anonymous traffic: facet suggestions run on every table page in 0.65.
SETTINGS = {
    "suggest_facets": False,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 1000,
    "default_page_size": 50,
    "default_facet_size": 10,  # ten values a facet, "tutti…" for the rest
    "max_returned_rows": 1000,
}


class ServeError(CotourError):
    pass


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
        # The search box's words become an FTS5 expression (kb.datasette_plugin), used as is.
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
    """The questions researchers of the programme ask (``kb/queries/*.sql``), answered without
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


def register_plugin() -> None:
    """Our hooks (kb.datasette_plugin), unless the entry point already loaded them."""
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="cotour")


def make_datasette(public_path: Path | str, staff_path: Path | str | None = None,
                   settings: dict | None = None) -> Datasette:
    """The Datasette instance: the public database as ``cotour``; with ``staff_path`` the full
    knowledge base as ``cotour_staff``, readable only after signing in."""
    public_path = require_public(public_path)
    if staff_path is not None:
        staff_path = Path(staff_path)
        if not staff_path.exists():
            raise ServeError(f"{staff_path}: knowledge base not found; run 'cotour build' first")
        if is_public(staff_path):
            raise ServeError(f"{staff_path} is the public database; --staff needs the full one")
    register_plugin()
    ds = Datasette(metadata=metadata(public_path, staff=staff_path is not None),
                   settings={**SETTINGS, **(settings or {})})
    ds.remove_database("_memory")
    ds.add_database(Database(ds, path=str(public_path), is_mutable=False), name=PUBLIC_NAME)
    if staff_path is not None:
        ds.add_database(Database(ds, path=str(staff_path), is_mutable=False), name=STAFF_NAME)
    return ds


def root_login_url(ds: Datasette, host: str, port: int) -> str:
    """The one-time sign-in link for the ``root`` actor (valid until first used)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # the sign-in cookie is per host
    return f"http://{shown}:{port}/-/auth-token?token={ds._root_token}"


def run(ds: Datasette, host: str, port: int) -> None:  # pragma: no cover - a server loop
    import uvicorn

    uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
