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

import os
import signal
import socket
from pathlib import Path

from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from . import plugin
from ..diagnostics import CotourError
from ..outputs import end_with_run
from ..store.public import PUBLIC_NAME, is_public, require_public
from .metadata import metadata
from .metadata import STAFF_NAME


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


def register_plugin() -> None:
    """Our hooks (kb.serve.plugin), unless the entry point already loaded them; and no cells
    from datasette-render-markdown (installed for datasette-dashboards' Markdown charts), which
    looks its settings up for every cell of every page to convert the columns named
    ``*_markdown`` or listed in its settings: we have neither, and render our texts ourselves."""
    if not pm.is_registered(plugin):
        pm.register(plugin, name="cotour")
    markdown = pm.get_plugin("render_markdown")
    if markdown is not None and any(
            impl.plugin is markdown for impl in pm.hook.render_cell.get_hookimpls()):
        pm.hook.render_cell = pm.subset_hook_caller("render_cell", remove_plugins=[markdown])
    if not isinstance(pm.hook.render_cell, OurCells):
        pm.hook.render_cell = OurCells(pm.hook.render_cell)


class OurCells:
    """``pm.hook.render_cell`` calling our hook directly while it is the only one: a page has
    hundreds of cells, and pluggy's dispatch cost about as much as our hook did. Any other
    plugin's hook present, pluggy calls them all as before."""

    def __init__(self, caller):
        self.caller = caller

    def __call__(self, **kwargs):
        impls = self.caller.get_hookimpls()
        if len(impls) == 1 and impls[0].plugin is plugin:
            return [plugin.render_cell(**kwargs)]
        return self.caller(**kwargs)

    def __getattr__(self, name):
        return getattr(self.caller, name)


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


def default_workers(staff: bool) -> int:
    """One worker process per core for the public site; one with ``--staff``, whose sign-in
    keeps its failed attempts and one-time root token in the process's memory."""
    return 1 if staff else max(1, len(os.sched_getaffinity(0)))


def run(ds: Datasette, host: str, port: int, workers: int = 1) -> None:  # pragma: no cover
    """Serve ``ds`` until interrupted, on ``workers`` processes sharing one listening socket
    (forked after the app is made: each has its own SQLite connections, response cache and
    in-memory counts; the served files never change, so they agree)."""
    import multiprocessing.connection

    import uvicorn

    if workers <= 1:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning")
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    children = [multiprocessing.get_context("fork").Process(target=_worker,
                                                            args=(ds, sock, os.getpid()))
                for _ in range(workers)]
    for child in children:
        child.start()

    def stop(signum, frame):
        for child in children:
            if child.is_alive():
                child.terminate()  # SIGTERM: uvicorn finishes the requests under way

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(child.is_alive() for child in children):  # one worker gone ends the others
            multiprocessing.connection.wait([c.sentinel for c in children])
        stop(None, None)
        for child in children:
            child.join()
    finally:
        sock.close()


def _worker(ds: Datasette, sock: socket.socket, run: int) -> None:  # pragma: no cover
    import uvicorn

    end_with_run(run)  # a killed server must not leave its workers serving on its port

    uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning")).run(sockets=[sock])
