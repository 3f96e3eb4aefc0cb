"""The report's chapters, each a module named after its template partial
(``chapters/mappatura.py`` -> ``reports/templates/partials/mappatura.html``) whose ``chapter``
function turns the :class:`~kb.report.corpus.Corpus` into the partial's plain data."""

from __future__ import annotations

from ...domain.vocabulary import REPORT_DOCUMENTS
from ..corpus import Corpus, json_list
from ..markdown import asset_uri, organiser_logo
from ..words import LOCALE, long_date, typo
from . import (appendici, ibridazioni, in_sintesi, iniziative, mappatura, obiettivi, progetto,
               raccomandazioni, sintesi, tappe, tour)

# The body's chapters in their order: the template data's key, the function that makes it and
# the title. The notes of each stop follow in the annexes (``tappe``), then ``appendici``.
CHAPTERS = (("in_sintesi", in_sintesi.chapter, "In sintesi"),
            ("obiettivi", obiettivi.chapter, "Obiettivi e risultati"),
            ("progetto", progetto.chapter, "Il progetto e il metodo"),
            ("mappatura", mappatura.chapter, "La mappatura"),
            ("tour", tour.chapter, "Il tour"),
            ("sintesi", sintesi.chapter, "Sintesi trasversale"),
            ("iniziative", iniziative.chapter, "Nuove iniziative"),
            ("ibridazioni", ibridazioni.chapter, "Ibridazioni possibili"),
            ("raccomandazioni", raccomandazioni.chapter, "Raccomandazioni"))
ANNEXES = (("tappe", tappe.chapters), ("appendici", appendici.chapter))


def report(c: Corpus) -> dict:
    """The templates' data: every chapter and annex, the metadata, the cover and the
    contents."""
    out = {}
    steps = [(name, make) for name, make, _ in CHAPTERS] + list(ANNEXES)
    for done, (name, make) in enumerate(steps, 1):
        out[name] = make(c)
        c.progress("dati del rapporto", done, len(steps))
    data = {"lang": LOCALE, "meta": meta(c), "cover": cover(c), **out}
    data["toc"] = toc(data, c)
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
        "funder": c.funder,
        "date": long_date(p.get("release_date")),
        "version": p.get("version") or "",
        "licence": c.licence(),
        "illustrative": bool(p.get("illustrative")),
        "image": asset_uri(c.assets, "copertina.svg", c.warnings)
        or asset_uri(c.assets, "copertina.png", c.warnings)
        or asset_uri(c.assets, "copertina.jpg", c.warnings),
    }


def toc(data: dict, c: Corpus) -> list[dict]:
    """The contents: the body's chapters numbered 1, 2, …; the annexes lettered, the notes of
    the stops first (A.1 Piacenza, …). Each chapter's data gets its number."""
    entries = []
    n = 0
    for name, _, title in CHAPTERS:
        if name == "obiettivi" and not data["obiettivi"]["objectives"]:
            data[name]["number"] = ""
            continue
        n += 1
        data[name]["number"] = str(n)
        entries.append({"id": name, "number": str(n), "title": title})
    ap = data["appendici"]
    if ap["acknowledgements"]:
        entries.append({"id": "ringraziamenti", "number": "", "title": "Ringraziamenti"})
    letters = iter("ABCDEFGHIJ")
    stops = data["tappe"]
    annex = {"id": "note-tappe", "number": next(letters), "title": "Le note delle tappe"}
    stops["number"] = annex["number"]
    annex["children"] = []
    for i, chapter in enumerate(stops["chapters"], 1):
        chapter["number"] = f"{annex['number']}.{i}"
        if stops["volumes"]:  # the annex lists them, each its own file
            continue
        annex["children"].append({"id": chapter["id"], "number": chapter["number"],
                                  "title": chapter["title"], "note": chapter["date"]})
    appendices = [annex] + [{"id": i, "title": t} for i, t in (
        ("organizzazioni", "Elenco delle organizzazioni"), ("dizionario", "Dizionario dei dati"),
        ("allegato-fonti", "Fonti"), ("citare", "Come citare"), ("colophon", "Colophon"))]
    for a in appendices[1:]:
        a["number"] = next(letters)
    ap["sections"] = {a["id"]: a for a in appendices}
    entries.append({"id": "appendici", "number": "", "title": "Allegati",
                    "children": appendices})
    for e in entries:
        e.setdefault("children", [])
        e.setdefault("note", "")
        for child in e["children"]:
            child.setdefault("note", "")
            child.setdefault("children", [])
    return entries
