"""The ASGI layer around Datasette: security headers, refused writes, hidden staff databases,
sign-in route, search rewriting and the response cache.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from datasette import hookimpl
from datasette.utils import tilde_decode

from .cells import FORMATS, LOGIN_ROUTE, OFFSET, TABLE_PATH, WRITE_PATHS
from .search import RANKED, READING_ORDER, searchable_path, stem_search_args
from .tallies import FreshRows

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


class SecurityHeaders:
    """A Content-Security-Policy and two more headers on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        csp = CSP_DASHBOARDS if path.startswith("/-/dashboards") else CSP
        extra = [(b"content-security-policy", csp.encode()), *SECURITY_HEADERS]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message, headers=[*message.get("headers", []), *extra])
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ReadOnly:
    """405 for every write but the sign-in's: the served files never change."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS") and \
                scope.get("path", "") not in WRITE_PATHS:
            return await _send_response(
                send, 405, "Metodo non consentito: questi dati si possono "
                "solo leggere (GET).\n".encode(), b"text/plain; charset=utf-8",
                [(b"allow", b"GET, HEAD")])
        await self.app(scope, receive, send)


class HiddenDatabases:
    """``/-/databases`` and ``/-/metadata`` without the databases the visitor may not see."""

    PATHS = ("/-/databases", "/-/databases.json", "/-/metadata", "/-/metadata.json")

    def __init__(self, app, datasette):
        self.app, self.datasette = app, datasette

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if path in self.PATHS:
            return await _without_hidden_databases(self.datasette, scope, send, path)
        await self.app(scope, receive, send)


# A row's address, /<database>/<table>/<primary key>
ROW_PATH = re.compile(r"^/(?P<database>[^/]+)/(?P<table>[^/]+)/[^/]")


class Routes:
    """Unknown formats, and rows of tables that do not exist, go to our 404 page (Datasette
    answers the latter 400, or 500, from the failed query); Datasette's sign-in page to ours."""

    def __init__(self, app, datasette):
        self.app, self.datasette = app, datasette
        self.tables: dict[str, set[str]] = {}  # the served files never change

    async def _no_such_table(self, path: str) -> bool:
        row = ROW_PATH.match(path)
        if not row or row["database"] not in self.datasette.databases:
            return False
        name = row["database"]
        if name not in self.tables:
            db = self.datasette.databases[name]
            self.tables[name] = set(await db.table_names()) | set(await db.view_names())
        return tilde_decode(row["table"]) not in self.tables[name]

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if _unknown_format(path, self.datasette) or await self._no_such_table(path):
            scope = _moved(scope, "/-/cotour-non-trovato")
        if path == "/-/login":
            scope = _moved(scope, LOGIN_ROUTE)
        await self.app(scope, receive, send)


class ItalianSearch:
    """The typed words of ``?_search=`` become the stemmed FTS5 expression; a table's search
    page and the reading-order tables are ranked (:data:`RANKED`, read by the SQL rewrite)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        scope, ranked = self.rewrite(scope)
        token = RANKED.set(ranked)
        try:
            await self.app(scope, receive, send)
        finally:
            RANKED.reset(token)

    @staticmethod
    def rewrite(scope):
        path = scope.get("path", "")
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
        return scope, ranked


class CachedResponses:
    """Anonymous GET responses kept whole (the files never change) and marked cacheable;
    signed-in visitors and the sign-in's paths are never kept."""

    def __init__(self, app, cache: ResponseCache):
        self.app, self.cache = app, cache

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        anonymous = "ds_actor" not in _cookies(scope)
        if scope.get("method", "GET") != "GET" or not anonymous or path.startswith(NOT_KEPT):
            return await self.app(scope, receive, send)
        key = (path, scope.get("query_string", b""))
        kept = self.cache.get(key)
        if kept is not None:
            status, headers, body = kept
            await send({"type": "http.response.start", "status": status, "headers": headers})
            return await send({"type": "http.response.body", "body": body})
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
                    self.cache.put(key, 200, started["headers"], b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)


class HttpOnly:
    """Our layers see HTTP requests only; lifespan and the rest go straight to Datasette."""

    def __init__(self, app, wrapped):
        self.app, self.wrapped = app, wrapped

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await self.wrapped(scope, receive, send)


@hookimpl
def asgi_wrapper(datasette):
    # COTOUR_RESPONSE_CACHE_MIB=0 turns the cache off (benchmarks/load.py compares both).
    cache_mib = os.environ.get("COTOUR_RESPONSE_CACHE_MIB", "64")
    cache = ResponseCache(max_bytes=int(cache_mib) << 20 if cache_mib.isdigit() else 64 << 20)

    def wrap(app):
        # Outermost first: every response gets the headers, writes stop before anything else.
        layers = SecurityHeaders(ReadOnly(HiddenDatabases(Routes(ItalianSearch(
            CachedResponses(FreshRows(app), cache)), datasette), datasette)))
        return HttpOnly(app, layers)

    return wrap
