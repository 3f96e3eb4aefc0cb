"""The report's chapters, each a module named after its template partial
(``chapters/mappatura.py`` -> ``reports/templates/partials/mappatura.html``) whose ``chapter``
function turns the :class:`~kb.report.corpus.Corpus` into the partial's plain data."""

from __future__ import annotations

from ...domain.vocabulary import REPORT_DOCUMENTS
from ..corpus import Corpus, json_list
from ..markdown import asset_uri, organiser_logo
from ..words import LOCALE, long_date, typo
from . import (
    appendici,
    ibridazioni,
    iniziative,
    mappatura,
    progetto,
    sintesi,
    tappe,
    tour,
)

# The chapters in their order: the template data's key and the function that makes it.
CHAPTERS = (("progetto", progetto.chapter), ("mappatura", mappatura.chapter),
            ("tour", tour.chapter), ("tappe", tappe.chapters), ("sintesi", sintesi.chapter),
            ("iniziative", iniziative.chapter), ("ibridazioni", ibridazioni.chapter),
            ("appendici", appendici.chapter))


def report(c: Corpus) -> dict:
    """The templates' data: every chapter, the metadata, the cover and the contents."""
    out = {}
    for done, (name, make) in enumerate(CHAPTERS, 1):
        out[name] = make(c)
        c.progress("dati del rapporto", done, len(CHAPTERS))
    data = {"lang": LOCALE, "meta": meta(c), "cover": cover(c), **out}
    data["toc"] = toc(data)
    for doc_id in sorted(set(c.documents) - c.used_documents):
        known = ", ".join(REPORT_DOCUMENTS)
        c.warnings.append(f"{c.documents[doc_id]['source_path']}: not used by the "
                          f"report (known names: {known})")
    return data


def meta(c: Corpus) -> dict:
    p = c.project
    return {
        "title": typo(p.get("title") or "Co?Tour"),
        "subtitle": typo(p.get("subtitle") or ""),
        "authors": [typo(o) for o in json_list(p.get("organisers"))],
        "description": typo(p.get("description") or ""),
        "keywords": ", ".join(json_list(p.get("keywords"))),
        "created": p.get("release_date") or "",
        "generator": "cotour-kb",
    }


def cover(c: Corpus) -> dict:
    p = c.project
    return {
        "title": typo(p.get("title") or "Co?Tour"),
        "subtitle": typo(p.get("subtitle") or ""),
        "organisers": [{"name": typo(o), "logo": organiser_logo(c.assets, o, c.warnings)}
                       for o in json_list(p.get("organisers"))],
        "date": long_date(p.get("release_date")),
        "version": p.get("version") or "",
        "licence": c.licence(),
        "illustrative": bool(p.get("illustrative")),
        "image": asset_uri(c.assets, "copertina.svg", c.warnings)
        or asset_uri(c.assets, "copertina.png", c.warnings)
        or asset_uri(c.assets, "copertina.jpg", c.warnings),
    }


def toc(data: dict) -> list[dict]:
    entries = [{"id": "progetto", "number": "1", "title": "Il progetto"},
               {"id": "mappatura", "number": "2", "title": "La mappatura"},
               {"id": "tour", "number": "3", "title": "Il tour"}]
    n = 3
    tappe = []
    for chapter in data["tappe"]:
        n += 1
        chapter["number"] = str(n)
        tappe.append({"id": chapter["id"], "number": str(n),
                      "title": chapter["title"], "note": chapter["date"]})
    entries += tappe
    entries.append({"id": "sintesi", "number": str(n + 1), "title": "Sintesi trasversale"})
    entries.append({"id": "iniziative", "number": str(n + 2), "title": "Nuove iniziative"})
    entries.append({"id": "ibridazioni", "number": str(n + 3), "title": "Ibridazioni possibili"})
    appendices = []
    letters = iter("ABCDEFGH")
    if data["appendici"]["acknowledgements"]:
        appendices.append({"id": "ringraziamenti", "title": "Ringraziamenti"})
    appendices += [{"id": "organizzazioni", "title": "Elenco delle organizzazioni"},
                   {"id": "dizionario", "title": "Dizionario dei dati"},
                   {"id": "metodo", "title": "Metodo e fonti"},
                   {"id": "citare", "title": "Come citare"},
                   {"id": "colophon", "title": "Colophon"}]
    for a in appendices:
        a["number"] = next(letters)
    data["appendici"]["sections"] = {a["id"]: a for a in appendices}
    entries.append({"id": "appendici", "number": "", "title": "Appendici", "children": appendices})
    for e in entries:
        e.setdefault("children", [])
        e.setdefault("note", "")
        if e["id"] in ("progetto", "mappatura", "tour", "sintesi", "iniziative", "ibridazioni"):
            data[e["id"] if e["id"] != "progetto" else "progetto"]["number"] = e["number"]
    return entries
