"""7. Appendici: acknowledgements, organisation directory, data dictionary, method and sources,
how to cite, colophon."""

from __future__ import annotations

from collections import Counter

from ..corpus import Corpus, json_list, rows_of
from ..words import NOTE_KINDS, NOTE_ORDER, NOTE_PLURALS, TYPE_NAMES, join, long_date, plural, typo
from ...dictionary import TABLES
from ...normalise import organisation_key
from ...vocabulary import HELD


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
            "columns": [{"name": c.name, "type": TYPE_NAMES.get(c.type, c.type),
                         "description": typo(c.it),
                         "key": c.name in table.pk,
                         "fk": f"{c.fk[0]}.{c.fk[1]}" if c.fk else "",
                         "values": ", ".join(c.values)}
                        for c in table.public_columns],
        })
    p = c.project
    info = {r["key"]: r["value"] for r in rows_of(c.tables, "cotour_build")}
    year = (p.get("release_date") or "")[:4]
    publisher = typo(p.get("publisher_name") or "")
    cite = (f"{publisher} ({year}). {typo(p.get('title') or '')}"
            + (f": {typo(p.get('subtitle'))}" if p.get("subtitle") else "")
            + (f". Versione {p['version']}" if p.get("version") else "")
            + f". {c.licence()['name']}.")
    kinds_notes = Counter(n["kind"] for n in c.notes)
    return {
        "acknowledgements": c.doc("ringraziamenti"),
        "directory": directory,
        "dictionary": dictionary,
        "method": {
            "organisations": len(c.orgs),
            "mapped": sum(1 for o in c.orgs.values() if o["mapped"]),
            "events": sum(1 for e in c.events if e["status"] == HELD),
            "notes": len(c.notes),
            "notes_by_kind": join(plural(n, NOTE_KINDS[k].lower(), NOTE_PLURALS[k])
                                  for k, n in sorted(kinds_notes.items(),
                                                     key=lambda kv: NOTE_ORDER.index(kv[0])
                                                     if kv[0] in NOTE_ORDER else 9)),
            "findings": len(c.findings),
            "kinds": join(k["label"].lower() for k in c.kinds),
            "sources": [{"title": typo(s.get("title")), "url": s.get("path")}
                        for s in json_list(p.get("sources"))],
            "period": (f"dal {long_date(p.get('temporal_start'))} al {long_date(p.get('temporal_end'))}"
                       if p.get("temporal_start") and p.get("temporal_end") else ""),
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
            "contact": p.get("contact") or "",
            "licence": c.licence(),
            "version": p.get("version") or "",
            "title": typo(p.get("title") or ""),
        },
    }
