"""Our Datasette hooks: an Italian interface that searches in Italian, links what it shows,
and stays safe and fast.

* Templates: ``kb/datasette_templates/`` goes before Datasette's own (each page extends
  Datasette's, ``{% extends "default:table.html" %}``, and writes the blocks it replaces);
  ``kb/datasette_static/cotour.css`` is served at ``/-/cotour/cotour.css``.
* Search: ``?_search=`` takes what ``cotour search`` takes (OR, NOT, "a phrase", ``coop*``). The
  index holds Italian stems (see :mod:`kb.search`), so an ASGI wrapper rewrites the typed words
  into the FTS5 expression Datasette matches (``searchmode: raw``), keeping the typed words in
  ``_cotour_search``; Datasette carries every argument into its links, so a request whose
  ``_search`` is the expression of ``_cotour_search`` is one of those links and is left alone.
  Without an explicit sort, a table's search page is ordered by relevance (bm25): the table
  view's one query is rewritten to join the full-text index's rank, and its pages go by offset.
* Cells: note text with its mentions as links to the organisation and its ``#tags`` as chips
  linked to the theme; JSON lists of ids as lists of labelled links; booleans as sì/no.
* Pages: Italian column labels, facet labels, the dossier of an organisation, an event, a theme
  and a finding (:func:`extra_template_vars`); canned queries say which values are unknown.
* Safety: a Content-Security-Policy on every response (no third-party images, scripts or
  frames); 405 for writes, 404 for unknown formats, errors without tracebacks in the log; the
  staff sign-in checks the password hash on a worker thread, one at a time, and refuses an
  address after repeated failures; anonymous visitors see no protected database in
  ``/-/databases`` and ``/-/metadata``.
* Speed: the served databases never change, so anonymous GET responses are kept (bounded, in
  memory) and marked cacheable.

Canned queries and researchers' own SQL use the SQL functions ``cotour_match(text)`` (the same
``MATCH`` expression as ``cotour search``) and ``cotour_stem(text)``.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import re
import secrets
import time
from collections import OrderedDict, deque
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import jinja2
from datasette import facets, hookimpl
from markdown_it import MarkdownIt
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import Base400, Forbidden, NotFound, Response
from datasette.views.base import DatasetteError
from markupsafe import Markup, escape

from . import vocabulary
from .canned import PARAMETERS, read_queries, unknown_values
from .dictionary import TABLES, TABLES_BY_NAME
from .normalise import MENTION, NOT_TAG_SPANS, TAG, organisation_key
from .search import fts_match, stem_text

TEMPLATES = Path(__file__).with_name("datasette_templates")
STATIC = Path(__file__).with_name("datasette_static")
SEARCHABLE = tuple(t.name for t in TABLES if t.fts)
TYPED = "_cotour_search"  # must not start with "_search": Datasette reads those as searches
OFFSET = "_cotour_offset"  # the page of a search ordered by relevance
TABLE_PATH = re.compile(r"^/(?P<database>[^/.]+)/(?P<table>[^/.]+)(?:\.(?P<format>json|csv))?$")
FORMATS = {"json", "csv", "db"}
WRITE_PATHS = {"/-/login", "/-/logout"}
LOGIN_ROUTE = "/-/cotour-login"
log = logging.getLogger("kb.datasette")

# -- what the cells and headers show -------------------------------------------------------

# Columns holding JSON lists of ids, and the table the ids point to (the canned queries'
# columns too: they are named for what they hold).
ID_LISTS = {"themes": "themes", "shared_themes": "themes", "temi": "themes",
            "organisations": "organisations", "source_organisations": "organisations",
            "participants": "organisations", "organizzazioni": "organisations",
            "shared_events": "events", "evidence_findings": "findings", "risultati": "findings",
            "da_emergenti": "findings", "da_tradizionali": "findings"}
# The canned queries' id columns.
ID_COLUMNS = {"tema_id": "themes", "tappa_id": "events", "organizzazione_id": "organisations",
              "emergente_id": "organisations", "tradizionale_id": "organisations",
              "risultato_id": "findings", "iniziativa_id": "initiatives",
              "coppia_id": "hybrid_pairs"}
MARKDOWN = {(t.name, c.name) for t in TABLES for c in t.columns if c.markdown} | {
    ("findings_detail", "text"), (None, "testo")}
BOOLEANS = {(t.name, c.name) for t in TABLES for c in t.columns if c.type == "boolean"}
# Columns holding a vocabulary's codes (source, public, tappa…): shown as its Italian word.
_VOCABULARIES = (vocabulary.LEGAL_FORMS, vocabulary.PROFILES, vocabulary.EVENT_KINDS,
                 vocabulary.EVENT_STATUSES, vocabulary.NOTE_KINDS, vocabulary.VISIBILITIES,
                 vocabulary.INITIATIVE_STATUSES, vocabulary.ORGANISATION_ROLES,
                 vocabulary.EVIDENCE_ROLES)
VALUE_WORDS = {(t.name, c.name): {term.id: term.it for term in terms}
               for t in TABLES for c in t.columns if c.values and not c.fk
               for terms in _VOCABULARIES if vocabulary.ids(terms) == c.values}
VALUE_WORDS["findings", "source_profiles"] = VALUE_WORDS["organisations", "profile"]
# Other JSON lists of words (aliases, keywords…): shown as words.
JSON_TEXT_LISTS = {(t.name, c.name) for t in TABLES for c in t.columns
                   if c.type == "json" and c.name not in ID_LISTS}
# The dictionary describes a boolean as "1 se …": its header needs a name.
BOOLEAN_LABELS = {"is_cooperative": "Cooperativa", "mapped": "Dalla mappatura",
                  "realised": "Già avviata", "is_bridge": "Fa da ponte",
                  "illustrative": "Dati illustrativi"}


def short_label(text: str) -> str:
    """A dictionary description cut to a header: "Provincia (sigla)" -> "Provincia"."""
    return re.sub(r"\s*\([^)]*\)", "", text).split(": ", 1)[0]


def _column_labels() -> dict[tuple[str | None, str], str]:
    return {(table.name, column.name): BOOLEAN_LABELS.get(column.name) or short_label(column.it)
            for table in TABLES for column in table.columns}


COLUMN_LABELS = _column_labels()


def column_label(table: str | None, column: str, described: dict | None = None) -> str:
    """The Italian header of a column: the dictionary's label, or the start of its description
    in the metadata (a view's columns), or its name (a canned query's are Italian words)."""
    if (table, column) in COLUMN_LABELS:
        return COLUMN_LABELS[table, column]
    if described and described.get(column):
        return short_label(described[column].split(" — ")[0])
    if column == "rowid":
        return "Riga"
    words = column.removesuffix("_id").replace("_", " ")
    return (words[:1].upper() + words[1:]).replace("N ", "Numero di ", 1) \
        if words.startswith("n ") else words[:1].upper() + words[1:]


class Labels:
    """The names the interface shows for ids (themes, organisations, events…), read once per
    database: the served files never change."""

    TABLES = ("themes", "organisations", "events", "provinces", "finding_kinds", "initiatives",
              "notes")

    def __init__(self):
        self.names: dict[str, dict[str, str]] = {}
        self.organisation_keys: dict[str, str] = {}

    @classmethod
    async def load(cls, db) -> "Labels":
        labels = cls()
        for table in cls.TABLES:
            label = TABLES_BY_NAME[table].label_column
            rows = await db.execute(f"select id, [{label}] from [{table}]")
            labels.names[table] = {r[0]: r[1] for r in rows}
        for id_, name, aliases in await db.execute(
                "select id, name, aliases from organisations"):
            for alias in [id_, name, *json.loads(aliases or "[]")]:
                labels.organisation_keys.setdefault(organisation_key(alias), id_)
        return labels

    def label(self, table: str, id_) -> str:
        return self.names.get(table, {}).get(id_) or str(id_)


async def labels_for(datasette, database: str) -> Labels:
    cache = datasette.__dict__.setdefault("_cotour_labels", {})
    if database not in cache:
        cache[database] = await Labels.load(datasette.get_database(database))
    return cache[database]


def _link(datasette, database, table, id_, text, css="") -> str:
    href = escape(datasette.urls.row(database, table, tilde_encode(str(id_))))
    css = f' class="{css}"' if css else ""
    return f'<a{css} href="{href}">{escape(text)}</a>'


_TOKEN = f"cotour{secrets.token_hex(4)}t"


# Markdown as CommonMark with raw HTML off: a note's <script> or <img onerror> is shown as the
# text it is, never run; links keep markdown-it's check of their address (no javascript:).
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False})


def render_note_text(text: str, labels: Labels, datasette, database: str) -> Markup:
    """Note or finding text as the reader wrote it, rendered: mentions become the words written,
    linked to the organisation; tags become chips linked to the theme. The served files never
    change, so each text is rendered once."""
    cache = datasette.__dict__.setdefault("_cotour_rendered", OrderedDict())
    key = (database, text)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    pieces: list[str] = []

    def keep(html: str) -> str:
        pieces.append(html)
        return f"{_TOKEN}{len(pieces) - 1}x"

    def mention(match):
        source, name, shown = match.groups()
        name = name.strip()
        words = (shown or name.split("/")[-1]).strip()
        by_id = name in labels.names.get("organisations", {})
        org = name if by_id else labels.organisation_keys.get(organisation_key(name))
        if not org:
            return keep(str(escape(words)))
        if by_id and not shown:  # [[!kilowatt]]: an id is not words; the name is
            words = labels.label("organisations", org)
        title = "ha sollevato il punto" if source else "citata"
        return keep(_link(datasette, database, "organisations", org, words,
                          "cotour-mention cotour-source" if source else "cotour-mention")
                    .replace("<a ", f'<a title="{title}" ', 1))

    def tag(match):
        theme = match[1].lower()
        if theme not in labels.names.get("themes", {}):
            return keep(f'<span class="cotour-tag">{escape(match[1])}</span>')
        return keep(_link(datasette, database, "themes", theme,
                          labels.label("themes", theme), "cotour-tag"))

    marked = MENTION.sub(mention, text)
    out, start = [], 0
    for span in NOT_TAG_SPANS.finditer(marked):  # no tags inside links, addresses or code
        out += [TAG.sub(tag, marked[start:span.start()]), span[0]]
        start = span.end()
    marked = "".join(out) + TAG.sub(tag, marked[start:])
    html = _MARKDOWN.render(marked).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]  # one paragraph: no margins in a table's cell
    html = re.sub(f"{_TOKEN}(\\d+)x", lambda m: pieces[int(m[1])], html)
    cache[key] = rendered = Markup(html)
    if len(cache) > 50_000:
        cache.popitem(last=False)
    return rendered


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None:
        return None
    if (table, column) in BOOLEANS and value in (0, 1):
        return Markup("sì" if value else "no")
    if not isinstance(value, str):
        return None
    words = VALUE_WORDS.get((table, column))
    if words and value in words:
        return words[value]
    if words and value.startswith("["):  # a list of codes
        try:
            return ", ".join(words.get(v, v) for v in json.loads(value))
        except (ValueError, TypeError, AttributeError):
            return None
    target = ID_COLUMNS.get(column) if table is None else None
    markdown = (table, column) in MARKDOWN
    id_list = column in ID_LISTS and value.startswith("[")
    if (table, column) in JSON_TEXT_LISTS and value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return ", ".join(items)
        return None
    if not (target or markdown or id_list):
        return None

    async def inner():
        labels = await labels_for(datasette, database)
        if target:
            return Markup(_link(datasette, database, target, value, value))
        if markdown:
            return render_note_text(value, labels, datasette, database)
        try:
            ids = json.loads(value)
        except ValueError:
            return None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return None
        where = ID_LISTS[column]
        return Markup('<ul class="cotour-list">' + "".join(
            f"<li>{_link(datasette, database, where, i, labels.label(where, i))}</li>"
            for i in ids) + "</ul>")

    return inner


# -- search ---------------------------------------------------------------------------------

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


def _rank_searches(db) -> None:
    execute = db.execute

    async def execute_ranked(sql, params=None, *args, **kwargs):
        ranked = RANKED.get()
        if ranked and (ranked[2] == "reading" or (params and "search" in params)):
            sql = ranked_sql(sql, *ranked) or sql
        return await execute(sql, params, *args, **kwargs)

    db.execute = execute_ranked


@hookimpl
def startup(datasette):
    for db in datasette.databases.values():
        if not getattr(db, "_cotour_ranked", False):
            _rank_searches(db)
            db._cotour_ranked = True


# -- ASGI: headers, refusals, search arguments, the response cache --------------------------

# No third-party images, scripts or frames: a note cannot show a tracking image. The map's
# tiles are OpenStreetMap's, the only outside address; Datasette's pages carry inline scripts.
CSP = ("default-src 'self'; img-src 'self' data: https://*.tile.openstreetmap.org; "
       "script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "connect-src 'self'; frame-src 'none'; frame-ancestors 'none'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'")
# vega (the overview's charts) compiles its expressions with Function().
CSP_DASHBOARDS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin")]
CACHE_CONTROL = b"public, max-age=3600"
NOT_KEPT = ("/-/login", "/-/logout", "/-/auth-token", "/-/actor", LOGIN_ROUTE)


class ResponseCache:
    """Whole responses by path and query, least recently used out first."""

    def __init__(self, max_bytes: int = 64 << 20, max_body: int = 2 << 20):
        self.entries: OrderedDict = OrderedDict()
        self.size = 0
        self.max_bytes, self.max_body = max_bytes, max_body

    def get(self, key):
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key, status, headers, body):
        if len(body) > min(self.max_body, self.max_bytes) or key in self.entries:
            return
        self.entries[key] = (status, headers, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            _, (_, _, old) = self.entries.popitem(last=False)
            self.size -= len(old)


def _cookies(scope) -> SimpleCookie:
    cookies = SimpleCookie()
    for name, value in scope.get("headers") or []:
        if name == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no cookie
                pass
    return cookies


def actor_of(datasette, scope):
    cookie = _cookies(scope).get("ds_actor")
    if cookie is None:
        return None
    try:
        decoded = datasette.unsign(cookie.value, "actor")
    except Exception:  # a bad signature: anonymous
        return None
    return decoded.get("a") if isinstance(decoded, dict) else None


async def _send_response(send, status: int, body: bytes, content_type: bytes, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), *headers]})
    await send({"type": "http.response.body", "body": body})


async def visible_databases(datasette, actor) -> set[str]:
    return {name for name in datasette.databases
            if await datasette.permission_allowed(actor, "view-database", name, default=True)}


async def _without_hidden_databases(datasette, scope, send, path):
    """``/-/databases`` and ``/-/metadata`` (JSON or page) without the databases the visitor
    may not see: not their path, size or hash, not their tables."""
    visible = await visible_databases(datasette, actor_of(datasette, scope))
    if path.startswith("/-/databases"):
        data = [d for d in datasette._connected_databases() if d["name"] in visible]
        filename = "databases.json"
    else:
        data = json.loads(json.dumps(datasette.metadata()))
        data["databases"] = {k: v for k, v in (data.get("databases") or {}).items()
                             if k in visible}
        if not set(datasette.databases) <= visible:  # the sign-in's settings are staff's
            data.get("plugins", {}).pop("datasette-auth-passwords", None)
        filename = "metadata.json"
    text = json.dumps(data, indent=4, ensure_ascii=False)
    if path.endswith(".json"):
        await _send_response(send, 200, text.encode(), b"application/json; charset=utf-8")
    else:
        page = await datasette.render_template(
            "show_json.html", {"filename": filename, "data_json": text})
        await _send_response(send, 200, page.encode(), b"text/html; charset=utf-8")


def _unknown_format(path: str, datasette) -> bool:
    """A last path segment with an extension Datasette does not write (``findings.xyz``)."""
    last = path.rsplit("/", 1)[-1]
    if path.split("/")[1].split(".")[0] not in datasette.databases or "." not in last:
        return False
    return last.rsplit(".", 1)[1] not in FORMATS | set(datasette.renderers)


def _moved(scope, path):
    """The request sent on to another path (Datasette routes on ``raw_path`` when present)."""
    return {**{k: v for k, v in scope.items() if k != "raw_path"}, "path": path}


@hookimpl
def asgi_wrapper(datasette):
    # COTOUR_RESPONSE_CACHE_MIB=0 turns the cache off (benchmarks/load.py compares both).
    cache_mib = os.environ.get("COTOUR_RESPONSE_CACHE_MIB", "64")
    cache = ResponseCache(max_bytes=int(cache_mib) << 20 if cache_mib.isdigit() else 64 << 20)

    def wrap(app):
        async def cotour(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            path, method = scope.get("path", ""), scope.get("method", "GET")
            csp = CSP_DASHBOARDS if path.startswith("/-/dashboards") else CSP
            extra = [(b"content-security-policy", csp.encode()), *SECURITY_HEADERS]

            async def send_with_headers(message):
                if message["type"] == "http.response.start":
                    message = dict(message, headers=[*message.get("headers", []), *extra])
                await send(message)

            if method not in ("GET", "HEAD", "OPTIONS") and path not in WRITE_PATHS:
                return await _send_response(
                    send_with_headers, 405, "Metodo non consentito: questi dati si possono "
                    "solo leggere (GET).\n".encode(), b"text/plain; charset=utf-8",
                    [(b"allow", b"GET, HEAD")])
            if path in ("/-/databases", "/-/databases.json", "/-/metadata",
                        "/-/metadata.json"):
                return await _without_hidden_databases(datasette, scope, send_with_headers, path)
            if _unknown_format(path, datasette):
                scope = _moved(scope, "/-/cotour-non-trovato")
            if path == "/-/login":
                scope = _moved(scope, LOGIN_ROUTE)
            query_string = scope.get("query_string", b"").decode("latin-1")
            ranked = None
            if searchable_path(path) and "_search" in query_string:
                rewritten, typed = stem_search_args(query_string)
                if typed is not None:
                    scope = dict(scope, query_string=rewritten.encode("latin-1"))
                    args = dict(parse_qsl(rewritten, keep_blank_values=True))
                    if ("_search" in args and TABLE_PATH.search(path)["format"] is None
                            and not any(args.get(k) for k in ("_sort", "_sort_desc", "_next"))):
                        offset = args.get(OFFSET, "0")
                        ranked = (TABLE_PATH.search(path)["table"],
                                  int(offset) if offset.isdigit() else 0, "search")
            table_path = TABLE_PATH.search(path)
            if (ranked is None and table_path and table_path["table"] in READING_ORDER
                    and table_path["format"] is None):
                args = dict(parse_qsl(query_string, keep_blank_values=True))
                if not any(args.get(k) for k in ("_sort", "_sort_desc", "_next", "_search")):
                    offset = args.get(OFFSET, "0")
                    ranked = (table_path["table"], int(offset) if offset.isdigit() else 0,
                              "reading")
            anonymous = "ds_actor" not in _cookies(scope)
            key = (path, scope.get("query_string", b""))
            if method != "GET" or not anonymous or path.startswith(NOT_KEPT):
                token = RANKED.set(ranked)
                try:
                    return await app(scope, receive, send_with_headers)
                finally:
                    RANKED.reset(token)
            kept = cache.get(key)
            if kept is not None:
                status, headers, body = kept
                await send_with_headers({"type": "http.response.start", "status": status,
                                         "headers": headers})
                return await send_with_headers({"type": "http.response.body", "body": body})
            started: dict = {}
            chunks: list[bytes] = []

            async def keep(message):
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", [])
                               if k.lower() != b"cache-control"]
                    if message["status"] == 200:
                        headers += [(b"cache-control", CACHE_CONTROL), (b"vary", b"Cookie")]
                    started.update(message, headers=headers)
                    message = dict(message, headers=headers)
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                    if not message.get("more_body") and started.get("status") == 200 and \
                            not any(k.lower() == b"set-cookie" for k, _ in started["headers"]):
                        cache.put(key, 200, started["headers"], b"".join(chunks))
                await send_with_headers(message)

            token = RANKED.set(ranked)
            try:
                await app(scope, receive, keep)
            finally:
                RANKED.reset(token)

        return cotour

    return wrap


# -- errors ---------------------------------------------------------------------------------

ERROR_TITLES = {400: "Richiesta non valida", 403: "Accesso negato", 404: "Pagina non trovata",
                405: "Metodo non consentito", 500: "Errore del server"}
ERROR_MESSAGES = {404: "Questa pagina non esiste: controlla l'indirizzo, o torna all'inizio.",
                  403: "Questa pagina è riservata allo staff: accedi per vederla."}


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    """Datasette's error pages, in Italian, and without printing a traceback: a wrong address
    or argument is the visitor's mistake, logged as one line; only a real fault is an error."""
    outcome = yield
    if isinstance(exception, Base400):
        status, message = exception.status, str(exception.args[0] if exception.args else "")
    elif isinstance(exception, DatasetteError):  # a bad sort, facet or SQL: the request's
        status, message = (exception.status if exception.status != 500 else 400,
                           exception.message)
    else:
        status, message = 500, "Si è verificato un errore imprevisto."
        log.error("%s %s: %s: %s", request.method, request.path, type(exception).__name__,
                  exception)
    if status in ERROR_MESSAGES and (status == 404 or isinstance(exception, Forbidden)):
        message = ERROR_MESSAGES[status]
    if isinstance(exception, NotFound) and request.path != "/-/cotour-non-trovato":
        message = ERROR_MESSAGES[404]

    async def respond():
        info = {"ok": False, "error": message, "status": status,
                "title": ERROR_TITLES.get(status, "Errore")}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        page = await datasette.render_template(["error.html"], dict(info), request=request)
        return Response.html(page, status=status)

    outcome.force_result([respond])


# -- templates and their data ---------------------------------------------------------------

@hookimpl
def prepare_jinja2_environment(env):
    if not isinstance(env.loader, jinja2.ChoiceLoader) or not any(
            getattr(loader, "searchpath", None) == [str(TEMPLATES)]
            for loader in env.loader.loaders):
        env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), env.loader])


@hookimpl
def extra_css_urls():
    return [{"url": f"/-/cotour/cotour.css?{_css_version()}"}]


def _css_version() -> str:
    return str(int((STATIC / "cotour.css").stat().st_mtime))


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
            order = FACET_ORDER.get(table, [])
            out["cotour_facets_in_order"] = lambda results: sorted(
                results, key=lambda f: order.index(f["name"]) if f["name"] in order
                else len(order))
        if database and database in datasette.databases:
            labels = await labels_for(datasette, database)
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


# Facets in the dictionary's order (Datasette puts the longest first).
FACET_ORDER = {t.name: [*t.facets, *t.array_facets] for t in TABLES}

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
    return label


async def _rows(db, sql, params) -> list[dict]:
    return [dict(r) for r in await db.execute(sql, params)]


async def organisation_dossier(db, pk, datasette, database) -> dict:
    findings = """
        select f.id, f.kind, k.label as tipo, f.event_id, e.name as tappa, e.date as data,
               f.text
        from finding_organisations fo join findings f on f.id = fo.finding_id
        join finding_kinds k on k.id = f.kind join events e on e.id = f.event_id
        where fo.organisation_id = :id and fo.role = :role
        order by e.date, e.id, f.note_id, f.position limit 200"""
    return {
        "kind": "organisation",
        "raised": await _rows(db, findings, {"id": pk, "role": "source"}),
        "mentioned": await _rows(db, findings, {"id": pk, "role": "mentioned"}),
        "events": await _rows(db, """
            select e.id, e.name, e.date, group_concat(distinct how) as how from (
              select event_id, 'ha ospitato' as how from event_hosts where organisation_id = :id
              union all select n.event_id, 'ha partecipato' from note_participants np
                join notes n on n.id = np.note_id where np.organisation_id = :id
              union all select f.event_id, 'è citata' from finding_organisations fo
                join findings f on f.id = fo.finding_id where fo.organisation_id = :id
            ) x join events e on e.id = x.event_id
            group by e.id order by e.date, e.id""", {"id": pk}),
        "initiatives": await _rows(db, """
            select i.id, i.title, i.status from initiative_organisations io
            join initiatives i on i.id = io.initiative_id where io.organisation_id = :id
            order by i.id""", {"id": pk}),
        "pairs": await _rows(db, """
            select p.id, p.realised, p.rank, p.score, p.reason,
                   case when p.emerging_id = :id then p.traditional_id else p.emerging_id end
                     as partner_id,
                   o.name as partner
            from hybrid_pairs p join organisations o on o.id =
              case when p.emerging_id = :id then p.traditional_id else p.emerging_id end
            where p.emerging_id = :id or p.traditional_id = :id
            order by p.realised desc, p.rank limit 50""", {"id": pk}),
    }


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


@hookimpl
def prepare_connection(conn):
    conn.create_function("cotour_match", 1, _match, deterministic=True)
    conn.create_function("cotour_stem", 1, lambda text: stem_text(text), deterministic=True)


def _match(query):
    # An empty expression is a syntax error in FTS5; the empty phrase matches nothing.
    return fts_match(query or "") or '""'


# -- staff sign-in --------------------------------------------------------------------------

class FailedSignIns:
    """Failed attempts per address in a sliding window: past ``limit``, no more checks."""

    def __init__(self, limit: int = 5, window: float = 600.0):
        self.limit, self.window = limit, window
        self.failures: dict[str, deque] = {}

    def _recent(self, address: str, now: float) -> deque:
        times = self.failures.setdefault(address, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, address: str, now: float | None = None) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        times = self._recent(address, now)
        return self.window - (now - times[0]) if len(times) >= self.limit else 0.0

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self._recent(address, now).append(now)


async def sign_in(request, datasette):
    """``/-/login``: datasette-auth-passwords' accounts, checked off the event loop (a pbkdf2
    hash takes a core for a third of a second), one check at a time, at most five failures per
    address in ten minutes."""
    from datasette_auth_passwords.utils import verify_password

    state = datasette.__dict__.setdefault("_cotour_sign_in", {})
    failures = state.setdefault("failures", FailedSignIns())
    lock = state.setdefault("lock", asyncio.Lock())
    config = datasette.plugin_config("datasette-auth-passwords") or {}
    accounts = {key.split("_password_hash")[0]: value for key, value in config.items()
                if key.endswith("_password_hash") and isinstance(value, str)}
    error, status = None, 200
    if request.method == "POST":
        address = (request.scope.get("client") or ("?",))[0]
        wait = failures.blocked(address)
        if wait:
            error = (f"Troppi tentativi falliti da questo indirizzo: riprova fra "
                     f"{int(wait // 60) + 1} minuti.")
            status = 429
        else:
            form = await request.post_vars()
            username, password = form.get("username") or "", form.get("password") or ""
            password_hash = accounts.get(username)
            async with lock:
                ok = bool(password_hash) and await asyncio.to_thread(
                    verify_password, password, password_hash)
            if ok:
                actor = (config.get("actors") or {}).get(username) or {"id": username}
                response = Response.redirect(datasette.urls.path("/"))
                response.set_cookie("ds_actor", datasette.sign({"a": actor}, "actor"))
                return response
            failures.failed(address)
            error, status = "Nome utente o password non validi.", 403
    page = await datasette.render_template(
        "cotour_login.html", {"error": error, "accounts": bool(accounts)}, request=request)
    return Response.html(page, status=status)


async def stylesheet(request, datasette):
    return Response((STATIC / "cotour.css").read_text(encoding="utf-8"),
                    content_type="text/css; charset=utf-8",
                    headers={"cache-control": "public, max-age=86400"})


@hookimpl
def register_routes():
    return [(f"^{LOGIN_ROUTE}$", sign_in), (r"^/-/cotour/cotour\.css$", stylesheet)]


# -- facets ---------------------------------------------------------------------------------

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
    """Our :class:`ArrayFacet` in place of Datasette's (same type, same results)."""
    outcome = yield
    outcome.force_result([[ArrayFacet if c is facets.ArrayFacet else c for c in classes]
                          for classes in outcome.get_result()])
