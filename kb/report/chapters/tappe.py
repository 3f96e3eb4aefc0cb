"""Annex A: the notes of each held event, its sessions' narrative then all its findings by
kind. When the annex would pass its page budget it becomes one volume per stop beside the
report (``volumes``), each rendered on its own (:mod:`kb.report.write`)."""

from __future__ import annotations

from collections import defaultdict

from ...domain.vocabulary import FINAL, HELD, RAISED_BY
from ..corpus import Corpus, json_list, rows_of
from ..words import (FEMININE_KINDS, NOTE_KINDS, NOTE_ORDER, join, long_date, names_with,
                     plural, singular, typo)


def finding_item(c: Corpus, f: dict, notes_by_id: dict, links: bool = True) -> dict:
    roles = c.roles_by_finding.get(f["id"], [])
    sources = [c.org_name(o) for o in json_list(f["source_organisations"])]
    return {
        "id": f["id"],
        "url": c.finding_url(f["id"]),
        "html": c.markdown.render(f["text"], 4, f["source_path"], tags_after=False, links=links),
        "note": typo(notes_by_id[f["note_id"]]["title"]) if f["note_id"] in notes_by_id else "",
        "sources": sources,
        "raised": raised_by(f["kind"], sources),
        "mentioned": [c.org_name(r["organisation_id"]) for r in roles if r["role"] == "mentioned"],
        "themes": [typo(c.themes[t]["label"]) for t in json_list(f["themes"]) if t in c.themes],
    }


def raised_by(kind: str, names: list[str]) -> str:
    """``Sollevato dal Consorzio Terre del Po``, ``Raccontata dalla Cooperativa Sociale Il
    Mosaico e da Kilowatt`` (the verb fits the kind, and agrees with it); empty without
    names."""
    if not names:
        return ""
    verb = RAISED_BY.get(kind, "sollevata" if kind in FEMININE_KINDS else "sollevato")
    return f"{verb[:1].upper()}{verb[1:]} {names_with('da', names)}"


def session_title(title: str, kind: str) -> tuple[str, str]:
    """The session's title and the kind shown beside it, the kind left out when the title
    already says it ("Plenaria", "Intervista — Crowdmo")."""
    label = NOTE_KINDS.get(kind, kind)
    said = title.casefold().lstrip().startswith(label.casefold())
    return typo(title), "" if said else label


def chapters(c: Corpus) -> dict:
    """``chapters``: each held event's chapter, in date order; or, past the page budget,
    ``volumes``: each event's entry, its chapter left to :func:`stop_chapter`."""
    held = c.held
    volumes = c.volumes
    counts = defaultdict(lambda: [0, 0])
    for n in c.notes:
        counts[n["event_id"]][0] += 1
    for f in c.findings:
        counts[f["event_id"]][1] += 1
    out = []
    for i, e in enumerate(held, 1):
        entry = {"id": f"tappa-{e['id']}", "event_id": e["id"], "city": e["city"],
                 "title": _title(e), "date": long_date(e["date"]),
                 "notes": counts[e["id"]][0], "findings": counts[e["id"]][1],
                 "file": c.volume_name(e["id"]) if volumes else ""}
        if not volumes:
            entry.update(stop_chapter(c, e))
        out.append(entry)
        c.progress("tappe", i, len(held))
    return {"chapters": out, "volumes": volumes}


def _title(e: dict) -> str:
    return e["city"] + (" – incontro finale" if e["kind"] == FINAL else "")


def stop_chapter(c: Corpus, e: dict, links: bool = True) -> dict:
    """One held event's chapter: facts, sessions with their narrative, findings by kind.
    ``links``: the findings' mentions linked (``False`` in a volume, a printed register)."""
    notes_by_id = c.notes_by_id
    notes = sorted(c.notes_of.get(e["id"], []),
                   key=lambda n: (NOTE_ORDER.index(n["kind"]) if n["kind"] in NOTE_ORDER else 9,
                                  n["id"]))
    findings = c.findings_of.get(e["id"], [])
    by_kind = []
    for k in c.kinds:
        items = [finding_item(c, f, notes_by_id, links) for f in findings if f["kind"] == k["id"]]
        if items:
            by_kind.append({"kind": k["id"], "label": k["label"], "items": items})
    counts = [f"{len(g['items'])} {g['label'].lower() if len(g['items']) != 1 else singular(g['kind'])}"
              for g in by_kind]
    summary = (f"{plural(len(notes), 'nota', 'note')} pubblic{'a' if len(notes) == 1 else 'he'}, "
               f"{plural(len(findings), 'risultato', 'risultati')}"
               + (f": {join(counts)}." if counts else "."))
    sessions = []
    for n in notes:
        title, kind = session_title(n["title"], n["kind"])
        sessions.append({
            "title": title, "kind": kind,
            "date": long_date(n["date"]) if n["date"] != e["date"] else "",
            "participants": sorted((c.org_name(o) for o in json_list(n["participants"])),
                                   key=str.casefold),
            "html": c.markdown.render(n["text"], 4, n["source_path"]),
        })
    return {
        "id": f"tappa-{e['id']}", "city": e["city"],
        "kind": "Incontro finale" if e["kind"] == FINAL else "Tappa",
        "title": _title(e), "date": long_date(e["date"]),
        "province": c.province_name(e["province"]),
        "venue": typo(e["venue"]),
        "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
        "hosts": join(sorted((c.org_name(h) for h in c.hosts_of.get(e["id"], [])),
                             key=str.casefold)),
        "summary": summary,
        "sessions": sessions,
        "kinds": by_kind,
    }
