"""Template data -> the report's HTML, print and screen editions, and the HTML of the editable
editions (Jinja2, ``reports/templates/``)."""

from __future__ import annotations

from functools import lru_cache

from .words import FILTERS, mark_text
from ..resources import REPORT_TEMPLATES

TEMPLATES = REPORT_TEMPLATES


@lru_cache(maxsize=1)  # one per process: a volume's worker renders thousands of pages
def environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    return env


def render_editions(data: dict) -> tuple[str, str]:
    """The print and the screen edition of the report, its body rendered once for both (the
    body of a report of 50,000 findings is tens of megabytes; only ``base.html``'s head
    differs)."""
    from markupsafe import Markup
    env = environment()
    report = env.get_template("report.html")
    body = Markup(mark_text("".join(report.blocks["body"](report.new_context(
        {**data, "screen": False, "editable": False, "register": False})))))
    page = env.get_template("base.html")
    return (page.render(**data, screen=False, editable=False, body=body),
            page.render(**data, screen=True, editable=False, body=body))


def render_editable(data: dict) -> str:
    """The HTML of the editable editions (:mod:`kb.editions`): the templates' ``editable``
    variant, where the cover, contents, chapter heads and figures take the shape Word and
    LibreOffice need."""
    return environment().get_template("report.html").render(**data, screen=False, editable=True,
                                                             register=False)


def render_volume(page: dict, tappa: dict, report_file: str) -> str:
    """One stop's notes as a volume of its own (``volume.html``, a printed register), beside
    the report ``report_file`` when the annex would pass its page budget. ``page``: the
    report's ``lang`` and ``meta``."""
    template = environment().get_template("volume.html")
    return mark_text(template.render(**page, tappa=tappa, report_file=report_file,
                                     screen=False, editable=False, register=True))
