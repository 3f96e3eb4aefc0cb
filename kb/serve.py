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
import re
import sqlite3
from pathlib import Path

from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from . import datasette_plugin
from .diagnostics import CotourError
from .dictionary import TABLES, TABLES_BY_NAME, VIEWS, Table
from .public import is_public, require_public
from .read import LICENCES, PROVINCES
from .store import connect_read_only

PUBLIC_NAME = "cotour"
STAFF_NAME = "cotour_staff"
STAFF_ACTORS = ["staff", "root"]
PASSWORD_HASH_ENV = "COTOUR_STAFF_PASSWORD_HASH"

# Safe and fast for anonymous traffic: facet suggestions run on every table page in 0.65.
SETTINGS = {
    "suggest_facets": False,
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 1000,
    "default_page_size": 50,
    "max_returned_rows": 1000,
}


# Columns holding Markdown, shown rendered (and sanitised) by datasette-render-markdown.
MARKDOWN_COLUMNS = sorted({c.name for t in TABLES for c in t.columns if c.markdown})


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
        meta.update(fts_table=f"{table.name}_fts", fts_pk="rowid")
    return meta


_ALIASES = re.compile(r"\b(?:from|join)\s+(\w+)\s+(?!on\b|where\b|join\b|left\b|cross\b)(\w+)",
                      re.I)
_PLAIN_COLUMN = re.compile(r"(\w+)\.(\w+)(?:\s+as\s+(\w+))?", re.I)


def _select_list(sql: str) -> list[str]:
    """The items of a view's outer select list (split on commas outside parentheses)."""
    body = re.split(r"^\s*select\s+", sql.strip(), maxsplit=1, flags=re.I)[1]
    items, depth, current = [], 0, ""
    for i, ch in enumerate(body):
        if depth == 0 and re.match(r"\s+from\s", body[i:i + 6], re.I):
            break
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += ch
    return items + [current.strip()]


def view_columns(sql: str) -> dict[str, str]:
    """Descriptions of a view's columns that are a table's column as they are (``f.text``,
    ``e.city as citta``), taken from that table's column; computed columns have none."""
    aliases = {alias: table for table, alias in _ALIASES.findall(sql)}
    out = {}
    for item in _select_list(sql):
        match = _PLAIN_COLUMN.fullmatch(item)
        if not match or aliases.get(match[1]) not in TABLES_BY_NAME:
            continue
        table = TABLES_BY_NAME[aliases[match[1]]]
        if any(c.name == match[2] for c in table.columns):
            column = table.column(match[2])
            out[match[3] or match[2]] = _describe(column.it, column.en)
    return out


def view_metadata(name: str) -> dict:
    view = VIEWS[name]
    columns = view_columns(view.sql)
    columns.update({c: _describe(it, en) for c, (it, en) in view.computed.items()})
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


def _vocabulary(public_path: Path | str) -> tuple[list[tuple], list[tuple]]:
    """Provinces and finding kinds as the database holds them, in their order."""
    conn = connect_read_only(public_path)
    try:
        provinces = conn.execute(
            f"select id, name from provinces order by {province_order('id')}, id").fetchall()
        kinds = conn.execute("select id, label from finding_kinds order by position, id").fetchall()
    finally:
        conn.close()
    return provinces, kinds


def province_order(column: str) -> str:
    """A SQL expression sorting provinces from west to east, as the region lists them."""
    whens = " ".join(f"when '{p}' then {i}" for i, p in enumerate(PROVINCES))
    return f"case {column} {whens} else {len(PROVINCES)} end"


def _quoted(name: str) -> str:
    return "[" + name.replace("]", "") + "]"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ordered_list(select: str, separator: str = ", ") -> str:
    """``group_concat`` over an ordered subquery (its single column is ``v``)."""
    return f"(select group_concat(v, '{separator}') from ({select}))"


def canned_queries(provinces: list[tuple], kinds: list[tuple]) -> dict:
    """The questions researchers of the programme ask, answered without writing SQL (the SQL
    is folded away on the page, one click shows it)."""
    queries = _canned_queries(provinces, kinds)
    for query in queries.values():
        query["sql"] = query["sql"].strip()
        query["hide_sql"] = True
    return queries


def _canned_queries(provinces: list[tuple], kinds: list[tuple]) -> dict:
    kind_ids = ", ".join(k for k, _ in kinds)
    # (finding, theme) is the key of finding_themes: counting rows counts distinct findings,
    # without the ten temporary indexes of count(distinct) (2.1 s -> 1.2 s at L).
    per_province = ",\n  ".join(
        f"count(case when f.province = {_sql_string(p)} then 1 end) as {_quoted(p)}"
        for p, _ in provinces)
    per_kind = ",\n  ".join(
        f"count(case when f.kind = {_sql_string(k)} then 1 end) as {_quoted(label)}"
        for k, label in kinds)
    kind_param = f"Parametro tipo: uno fra {kind_ids}."
    return {
        "pratiche_ricorrenti": {
            "title": "Buone pratiche ricorrenti in più province",
            "description": (
                "Una pratica ricorre quando risultati dello stesso tipo condividono un tema in "
                "due o più province: per ogni tema, le province, quanti risultati e quali. "
                f"{kind_param} Se vuoto vale practice (buone pratiche)."),
            "params": ["tipo"],
            # The chosen (theme, finding) pairs once, read three times: a correlated subquery
            # per theme over the joined tables took 7.5 s at 460,000 findings, this 0.3 s.
            "sql": """
with scelti as materialized (
  select ft.theme_id, f.id, f.province from findings f
  join finding_themes ft on ft.finding_id = f.id
  where f.kind = coalesce(nullif(:tipo, ''), 'practice')
)
select t.id as tema_id, t.label as tema,
  count(distinct s.province) as n_province,
  (select group_concat(v, ', ') from (select distinct x.province as v from scelti x
      where x.theme_id = t.id order by v)) as province,
  count(distinct s.id) as n_risultati,
  (select group_concat(v, ', ') from (select distinct x.id as v from scelti x
      where x.theme_id = t.id order by v)) as risultati
from scelti s
join themes t on t.id = s.theme_id
group by t.id
having count(distinct s.province) >= 2
order by n_province desc, n_risultati desc, t.id""",
        },
        "minacce_emergenti_e_tradizionali": {
            "title": "Minacce sollevate sia da attori emergenti sia da tradizionali",
            "description": (
                "Per ogni tema, le minacce (o un altro tipo di risultato) sollevate come fonte "
                "(ruolo source, [[!nome]] nelle note) da organizzazioni emergenti e quelle "
                "sollevate da organizzazioni tradizionali: solo i temi in cui compaiono "
                f"entrambe. {kind_param} Se vuoto vale threat (minacce)."),
            "params": ["tipo"],
            "sql": """
with fonti as (
  select f.id, ft.theme_id, o.profile
  from findings f
  join finding_organisations fo on fo.finding_id = f.id and fo.role = 'source'
  join organisations o on o.id = fo.organisation_id
  join finding_themes ft on ft.finding_id = f.id
  where f.kind = coalesce(nullif(:tipo, ''), 'threat')
)
select t.id as tema_id, t.label as tema,
  count(distinct fonti.id) as n_risultati,
  (select group_concat(v, ', ') from (select distinct id as v from fonti x
     where x.theme_id = t.id and x.profile = 'emergente' order by v)) as da_emergenti,
  (select group_concat(v, ', ') from (select distinct id as v from fonti x
     where x.theme_id = t.id and x.profile = 'tradizionale' order by v)) as da_tradizionali
from fonti join themes t on t.id = fonti.theme_id
group by t.id
having count(distinct case when fonti.profile = 'emergente' then fonti.id end) > 0
   and count(distinct case when fonti.profile = 'tradizionale' then fonti.id end) > 0
order by n_risultati desc, t.id""",
        },
        "temi_per_provincia": {
            "title": "Temi × province",
            "description": (
                "Quanti risultati per tema in ogni provincia (sigle delle province come "
                f"colonne). {kind_param} Se vuoto conta tutti i tipi."),
            "params": ["tipo"],
            "sql": f"""
select t.id as tema_id, t.label as tema,
  count(f.id) as totale,
  {per_province}
from themes t
left join finding_themes ft on ft.theme_id = t.id
left join findings f on f.id = ft.finding_id and (:tipo = '' or f.kind = :tipo)
group by t.id
order by totale desc, t.id""",
        },
        "organizzazioni_piu_citate": {
            "title": "Le organizzazioni più citate, e dove",
            "description": (
                "Le organizzazioni citate nel maggior numero di risultati, quante volte come "
                "fonte, in quante tappe e in quali città. Parametro profilo: emergente o "
                "tradizionale; se vuoto tutte."),
            "params": ["profilo"],
            # The 50 first, from finding_organisations alone; events and cities only for them
            # (3.0 s at 460,000 findings, over the SQL time limit under load; now 2.1 s).
            "sql": """
with citate as (
  select fo.organisation_id as id, count(*) as risultati,
    count(case when fo.role = 'source' then 1 end) as come_fonte
  from finding_organisations fo
  join organisations o on o.id = fo.organisation_id
  where :profilo = '' or o.profile = lower(trim(:profilo))
  group by fo.organisation_id
  order by risultati desc, come_fonte desc, o.name
  limit 50
)
select o.id, o.name as organizzazione, o.profile as profilo, o.province as provincia,
  c.risultati, c.come_fonte,
  (select count(distinct f.event_id) from finding_organisations fo
     join findings f on f.id = fo.finding_id where fo.organisation_id = o.id) as tappe,
  (select group_concat(v, ', ') from (
     select e.city || ' (' || count(distinct f2.id) || ')' as v
     from finding_organisations fo2
     join findings f2 on f2.id = fo2.finding_id
     join events e on e.id = f2.event_id
     where fo2.organisation_id = o.id
     group by e.id order by e.date, e.id)) as dove
from citate c
join organisations o on o.id = c.id
order by c.risultati desc, c.come_fonte desc, o.name""",
        },
        "risultati_con_due_organizzazioni": {
            "title": "Risultati che citano due organizzazioni",
            "description": (
                "I risultati in cui compaiono entrambe le organizzazioni indicate (con "
                "l'identificativo, ad esempio kilowatt, o con la denominazione esatta)."),
            "params": ["organizzazione_1", "organizzazione_2"],
            "sql": """
with a as (select id from organisations where id = lower(trim(:organizzazione_1))
             or lower(name) = lower(trim(:organizzazione_1))),
     b as (select id from organisations where id = lower(trim(:organizzazione_2))
             or lower(name) = lower(trim(:organizzazione_2)))
select f.id, k.label as tipo, e.city as citta, f.date as data, n.title as nota, f.text,
  f.organisations as organizzazioni
from findings f
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
join notes n on n.id = f.note_id
where f.id in (select finding_id from finding_organisations
               where organisation_id in (select id from a))
  and f.id in (select finding_id from finding_organisations
               where organisation_id in (select id from b))
order by f.date, f.id""",
        },
        "risultati_per_tappa": {
            "title": "Che cosa ha prodotto ogni tappa, per tipo",
            "description": (
                "Per ogni tappa del tour e per l'incontro finale: le note raccolte e quanti "
                "risultati di ogni tipo."),
            "sql": f"""
select e.id as tappa_id, e.city as citta, e.date as data, e.kind as tipo_evento,
  e.status as stato,
  (select count(*) from notes n where n.event_id = e.id) as note,
  count(f.id) as risultati,
  {per_kind}
from events e
left join findings f on f.event_id = e.id
group by e.id
order by e.date is null, e.date, e.id""",
        },
        "iniziative_e_origini": {
            "title": "Nuove iniziative: da quali tappe e organizzazioni nascono",
            "description": (
                "Le iniziative lanciate all'incontro finale, con le tappe in cui è nata l'idea, "
                "le organizzazioni coinvolte e i temi. Parametro stato: proposta, avviata o "
                "conclusa; se vuoto tutte."),
            "params": ["stato"],
            "sql": f"""
select i.id, i.title as iniziativa, i.status as stato,
  {_ordered_list('''select e.city || ' (' || coalesce(e.date, 'senza data') || ')' as v
      from initiative_events ie join events e on e.id = ie.event_id
      where ie.initiative_id = i.id order by e.date, e.id''')} as nata_da,
  {_ordered_list('''select o.name as v from initiative_organisations io
      join organisations o on o.id = io.organisation_id
      where io.initiative_id = i.id order by o.name''')} as organizzazioni,
  {_ordered_list('''select t.label as v from initiative_themes it
      join themes t on t.id = it.theme_id
      where it.initiative_id = i.id order by t.label''')} as temi,
  i.description as descrizione
from initiatives i
where :stato = '' or i.status = lower(trim(:stato))
order by i.id""",
        },
        "mappate_mai_presenti": {
            "title": "Organizzazioni mappate che non hanno mai partecipato",
            "description": (
                "Le organizzazioni trovate dalla mappatura della fase 1 che non compaiono fra "
                "i partecipanti di alcuna nota, non hanno ospitato alcuna tappa e non hanno "
                "sollevato alcun risultato. Parametro provincia: una sigla (BO, PR…); se vuoto "
                "tutte."),
            "params": ["provincia"],
            "sql": """
select o.id, o.name as organizzazione, o.legal_form as forma_giuridica, o.profile as profilo,
  o.sector as settore, o.province as provincia, o.municipality as comune
from organisations o
where o.mapped = 1
  and o.id not in (select organisation_id from note_participants)
  and o.id not in (select organisation_id from event_hosts)
  and o.id not in (select organisation_id from finding_organisations where role = 'source')
  and (:provincia = '' or o.province = upper(trim(:provincia)))
order by o.province, o.name""",
        },
        "contaminazioni": {
            "title": "Contaminazioni: risultati che uniscono emergenti e tradizionali",
            "description": (
                "I risultati in cui compaiono insieme organizzazioni emergenti e tradizionali, "
                f"il cuore della nuova mutualità. {kind_param} Se vuoto tutti i tipi. "
                "Il testo è mostrato come scritto nelle note, senza impaginarne il Markdown: "
                "su migliaia di righe costerebbe più della query stessa."),
            "params": ["tipo"],
            # The mixed findings in one pass over finding_organisations (two correlated
            # exists per finding took 2.3 s at 460,000 findings, this 0.6 s).
            "sql": """
with misti as (
  select fo.finding_id as id from finding_organisations fo
  join organisations o on o.id = fo.organisation_id
  group by fo.finding_id
  having count(case when o.profile = 'emergente' then 1 end) > 0
     and count(case when o.profile = 'tradizionale' then 1 end) > 0
)
select f.id, k.label as tipo, e.city as citta, f.date as data, f.text as testo,
  (select group_concat(v, ', ') from (
     select o.name || ' (' || o.profile || ')' as v from finding_organisations fo
     join organisations o on o.id = fo.organisation_id
     where fo.finding_id = f.id order by o.profile, o.name)) as organizzazioni
from misti
join findings f on f.id = misti.id
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
where (:tipo = '' or f.kind = :tipo)
order by k.position, f.date, f.id""",
        },
        "risultati_per_tema": {
            "title": "I risultati di un tema (e dei suoi sottotemi)",
            "description": (
                "Tutti i risultati etichettati con un tema, indicato con l'identificativo "
                "(spazi-condivisi) o con il nome (Spazi condivisi), compresi i temi più "
                "specifici che ne discendono, in ordine di tipo e di data."),
            "params": ["tema"],
            "sql": """
with recursive scelti(id) as (
  select id from themes where id = lower(trim(:tema)) or lower(label) = lower(trim(:tema))
  union
  select t.id from themes t join scelti s on t.parent_id = s.id
)
select f.id, k.label as tipo, e.city as citta, f.date as data, f.text as testo,
  f.themes as temi, f.organisations as organizzazioni
from findings f
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
where f.id in (select finding_id from finding_themes where theme_id in (select id from scelti))
order by k.position, f.date, f.id""",
        },
        "organizzazioni_per_provincia": {
            "title": "Organizzazioni per provincia e profilo",
            "description": (
                "Quante organizzazioni in ogni provincia: emergenti, tradizionali, "
                "cooperative, e quante trovate dalla mappatura."),
            "sql": f"""
select p.id as provincia, p.name as nome,
  count(o.id) as totale,
  count(case when o.profile = 'emergente' then 1 end) as emergenti,
  count(case when o.profile = 'tradizionale' then 1 end) as tradizionali,
  count(case when o.is_cooperative = 1 then 1 end) as cooperative,
  count(case when o.mapped = 1 then 1 end) as mappate
from provinces p
left join organisations o on o.province = p.id
group by p.id
order by {province_order("p.id")}""",
        },
        "ibridazioni_per_organizzazione": {
            "title": "Ibridazioni possibili per organizzazione",
            "description": (
                "Le coppie tra un'organizzazione emergente e una tradizionale che potrebbero "
                "completarsi (temi in comune, un problema dell'una a cui risponde una buona "
                "pratica dell'altra, tappe in comune), con il motivo e i risultati che lo "
                "sostengono; prima le possibili, poi quelle che collaborano già. Parametro: "
                "l'identificativo (ad esempio kilowatt) o parte della denominazione; vuoto per "
                "tutte le coppie."),
            "params": ["organizzazione"],
            "sql": """
with o as (select id from organisations
           where id = lower(trim(:organizzazione))
              or lower(name) like '%' || lower(trim(:organizzazione)) || '%')
select case p.realised when 1 then 'già avviata' else 'possibile' end as stato,
  p.rank as posizione, p.score as punteggio, e.name as emergente, t.name as tradizionale,
  p.reason as motivo, p.evidence_findings, p.id as coppia
from hybrid_pairs p
join organisations e on e.id = p.emerging_id
join organisations t on t.id = p.traditional_id
where p.emerging_id in (select id from o) or p.traditional_id in (select id from o)
order by p.realised, p.rank, p.id
limit 200""",
        },
        "cerca": {
            "title": "Cerca nelle note e nei risultati (ricerca in italiano)",
            "description": (
                "Ricerca a testo pieno con le radici italiane: cooperativa trova anche "
                "cooperative e cooperazione. Più parole: tutte richieste; \"tra virgolette\" "
                "una frase; OR e NOT come operatori. Risultati migliori per primi."),
            "params": ["testo"],
            "sql": """
select dove, id, tipo, citta, titolo, text, fonte from (
  select 'risultato' as dove, f.id, f.kind as tipo, e.city as citta, n.title as titolo, f.text,
    f.source_path || ':' || f.source_line as fonte, bm25(findings_fts) as rank
  from findings_fts
  join findings f on f.rowid = findings_fts.rowid
  join notes n on n.id = f.note_id
  left join events e on e.id = f.event_id
  where findings_fts match cotour_match(:testo)
  union all
  select 'nota', n.id, n.kind, e.city, n.title, n.text,
    n.source_path || ':' || n.source_line, bm25(notes_fts)
  from notes_fts
  join notes n on n.rowid = notes_fts.rowid
  left join events e on e.id = n.event_id
  where notes_fts match cotour_match(:testo)
)
order by rank, id
limit 100""",
        },
    }


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
                                "select count(*) as n from events where status = 'svolto'", "n"),
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
                    "query": f"""
select p.id as provincia, o.profile as profilo, count(*) as organizzazioni
from organisations o
join provinces p on p.id = o.province
group by p.id, o.profile
order by {province_order("p.id")}, o.profile""",
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
    plugins = {
        "datasette-render-markdown": {"columns": MARKDOWN_COLUMNS, "patterns": []},
        "datasette-dashboards": dashboards(PUBLIC_NAME),
    }
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
