"""4. One chapter per held event: its sessions' narrative, then its findings by kind."""

from __future__ import annotations

from collections import defaultdict

from ...domain.vocabulary import FINAL, HELD
from ..corpus import Corpus, json_list, rows_of
from ..words import (
    FEMININE_KINDS,
    NOTE_KINDS,
    NOTE_ORDER,
    join,
    long_date,
    names_with,
    plural,
    singular,
    typo,
)


def finding_item(c: Corpus, f: dict, notes_by_id: dict) -> dict:
    roles = c.roles_by_finding.get(f["id"], [])
    return {
        "id": f["id"],
        "url": c.finding_url(f["id"]),
        "html": c.markdown.render(f["text"], 4, f["source_path"], tags_after=False),
        "note": typo(notes_by_id[f["note_id"]]["title"]) if f["note_id"] in notes_by_id else "",
        "sources": [c.org_name(o) for o in json_list(f["source_organisations"])],
        "raised": raised_by(f["kind"], [c.org_name(o) for o in json_list(f["source_organisations"])]),
        "mentioned": [c.org_name(r["organisation_id"]) for r in roles if r["role"] == "mentioned"],
        "themes": [typo(c.themes[t]["label"]) for t in json_list(f["themes"]) if t in c.themes],
    }


def raised_by(kind: str, names: list[str]) -> str:
    """``Sollevata dalla Cooperativa Sociale Il Mosaico e da Kilowatt`` (agreeing with the kind:
    un problema sollevato, una minaccia sollevata); empty without names."""
    if not names:
        return ""
    return f"Sollevat{'a' if kind in FEMININE_KINDS else 'o'} {names_with('da', names)}"


def chapters(c: Corpus) -> list[dict]:
    notes_by_id = {n["id"]: n for n in c.notes}
    hosts = defaultdict(list)
    for h in rows_of(c.tables, "event_hosts"):
        hosts[h["event_id"]].append(c.org_name(h["organisation_id"]))
    out = []
    held = [e for e in c.events if e["status"] == HELD]
    # Grouped once, in their order (not a scan of all notes and findings per event).
    notes_of, findings_of = defaultdict(list), defaultdict(list)
    for n in c.notes:
        notes_of[n["event_id"]].append(n)
    for f in c.findings:
        findings_of[f["event_id"]].append(f)
    for i, e in enumerate(held, 1):
        notes = sorted(notes_of[e["id"]],
                       key=lambda n: (NOTE_ORDER.index(n["kind"]) if n["kind"] in NOTE_ORDER else 9,
                                      n["id"]))
        findings = findings_of[e["id"]]
        by_kind = []
        for k in c.kinds:
            items = [finding_item(c, f, notes_by_id) for f in findings if f["kind"] == k["id"]]
            if items:
                by_kind.append({"kind": k["id"], "label": k["label"], "items": items})
        counts = [f"{len(g['items'])} {g['label'].lower() if len(g['items']) != 1 else singular(g['kind'])}"
                  for g in by_kind]
        summary = (f"{plural(len(notes), 'nota', 'note')} pubblic{'a' if len(notes) == 1 else 'he'}, "
                   f"{plural(len(findings), 'risultato', 'risultati')}"
                   + (f": {join(counts)}." if counts else "."))
        out.append({
            "id": f"tappa-{e['id']}",
            "city": e["city"],
            "kind": "Incontro finale" if e["kind"] == FINAL else "Tappa",
            "title": f"{e['city']}" + (" – incontro finale" if e["kind"] == FINAL else ""),
            "date": long_date(e["date"]),
            "province": c.province_name(e["province"]),
            "venue": typo(e["venue"]),
            "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
            "hosts": join(hosts.get(e["id"], [])),
            "summary": summary,
            "notes": [{
                "title": typo(n["title"]), "kind": NOTE_KINDS.get(n["kind"], n["kind"]),
                "date": long_date(n["date"]) if n["date"] != e["date"] else "",
                "participants": [c.org_name(o) for o in json_list(n["participants"])],
                "html": c.markdown.render(n["text"], 4, n["source_path"]),
            } for n in notes],
            "kinds": by_kind,
        })
        c.progress("tappe", i, len(held))
    return out
