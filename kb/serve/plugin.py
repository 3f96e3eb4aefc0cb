"""Co?Tour's Datasette plugin: the entry point Datasette loads (``pyproject.toml``).

Each hook lives with its concern — cells, pages, search, facets, sign-in, errors, the ASGI
middleware — and is gathered here, since pluggy registers the hook functions of one module.
"""

from __future__ import annotations

import jinja2
from datasette import hookimpl

from .auth import register_routes
from .cells import STATIC, TEMPLATES, load_labels, render_cell
from .errors import handle_exception
from .facets import register_facet_classes
from .middleware import asgi_wrapper
from .pages import extra_template_vars
from .search import prepare_connection, startup
from .dossiers import load_organisations
from .schema import remember_schemas
from .tallies import load_tallies

HOOKS = (register_routes, render_cell, handle_exception, register_facet_classes, asgi_wrapper,
         extra_template_vars, prepare_connection, startup, load_tallies,
         load_labels, load_organisations, remember_schemas)


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
