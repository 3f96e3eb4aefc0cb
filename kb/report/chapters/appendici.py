"""The annexes after the notes of the stops: acknowledgements, organisation directory, data
dictionary, sources, how to cite, colophon."""

from __future__ import annotations


from ...domain.dictionary import TABLES, TABLES_BY_NAME
from ...domain.syntax import organisation_key
from ..corpus import Corpus, json_list, rows_of
from ..words import (
    TYPE_NAMES,
    join,
    long_date,
    period,
    sentence,
    typo,
)


def chapter(c: Corpus) -> dict:
    directory = []
    for o in sorted(c.orgs.values(), key=lambda o: organisation_key(o["name"]) or o["name"]):
        directory.append({
            "name": typo(o["name"]),
            "legal_form": o["legal_form"],
            "profile": o["profile"],
            "cooperative": bool(o["is_cooperative"]),
            "place": (f"{o['municipality']} ({o['province']})" if o["municipality"]
                      else c.province_name(o["province"])),
            "website": o["website"],
            "themes": [typo(c.themes[t]["label"]) for t in json_list(o["themes"]) if t in c.themes],
            "mapped": bool(o["mapped"]),
        })
    dictionary = []
    for table in TABLES:
        if table.internal:
            continue
        dictionary.append({
            "name": table.name, "title": typo(table.title_it), "description": typo(table.it),
            "columns": [{"name": col.name, "type": TYPE_NAMES.get(col.type, col.type),
                         "description": typo(col.it),
                         "key": col.name in table.pk,
                         "fk": TABLES_BY_NAME[col.fk[0]].title_it if col.fk else "",
                         "values": ", ".join(col.values)}
                        for col in table.public_columns],
        })
    p = c.project
    info = {r["key"]: r["value"] for r in rows_of(c.tables, "cotour_build")}
    year = (p.get("release_date") or "")[:4]
    publisher = typo(p.get("publisher_name") or "")
    authors = [typo(o) for o in json_list(p.get("organisers"))] or ([publisher] if publisher else [])
    title = typo(p.get("title") or "") + (f": {typo(p.get('subtitle'))}" if p.get("subtitle") else "")
    cite = " ".join(part for part in (
        sentence(f"{join(authors)}{f' ({year})' if year else ''}") if authors or year else "",
        sentence(title) if title else "",
        sentence(f"Versione {p['version']}") if p.get("version") else "",
        sentence(publisher) if publisher and publisher not in authors else "",
        sentence(c.licence()["name"]) if c.licence()["name"] else "") if part)
    return {
        "acknowledgements": c.doc("ringraziamenti", heading_level=2),
        "directory": directory,
        "dictionary": dictionary,
        "method": {
            "sources": [{"title": typo(s.get("title")), "url": s.get("path")}
                        for s in json_list(p.get("sources"))],
            "period": period(p.get("temporal_start"), p.get("temporal_end")),
            "spatial": p.get("spatial") or "",
            "base_url": c.base_url,
        },
        "cite": {
            "text": cite,
            "url": c.base_url,
            "finding_example": c.finding_url(c.findings[0]["id"]) if c.findings else "",
        },
        "colophon": {
            "illustrative": bool(p.get("illustrative")),
            "tool_version": info.get("tool_version") or "",
            "digest": (info.get("source_digest") or info.get("input_digest") or "")[:12],
            "date": long_date(p.get("release_date")),
            "publisher": publisher,
            "authors": join(authors),
            "contact": p.get("contact") or "",
            "licence": c.licence(),
            "version": p.get("version") or "",
            "title": typo(p.get("title") or ""),
            "funder": c.funder,
            # filled in by kb.report.write from the PDF itself: the fonts it embeds
            "fonts": [], "typesetter": "WeasyPrint",
        },
    }

