"""3. Il tour: the calendar of the events, with attendance, notes and findings."""

from __future__ import annotations

from collections import Counter

from ..corpus import Corpus
from ..words import EVENT_STATUS, join, long_date, num, plural, share, the_share, typo
from ...vocabulary import CANCELLED, FINAL, HELD, SCHEDULED


def event_counts(c: Corpus) -> tuple[Counter, Counter]:
    return (Counter(n["event_id"] for n in c.notes),
            Counter(f["event_id"] for f in c.findings))


def chapter(c: Corpus) -> dict:
    notes, findings = event_counts(c)
    rows = []
    for e in c.events:
        rows.append({
            "id": e["id"], "city": e["city"], "label": c.event_label(e), "kind_id": e["kind"],
            "province": c.province_name(e["province"]),
            "date": long_date(e["date"]) or "da definire",
            "kind": "incontro finale" if e["kind"] == FINAL else "tappa",
            "status": EVENT_STATUS.get(e["status"], e["status"]),
            "held": e["status"] == HELD,
            "venue": typo(e["venue"]),
            "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
            "notes": notes.get(e["id"], 0), "findings": findings.get(e["id"], 0),
        })
    held = [r for r in rows if r["held"]]
    status = Counter(e["status"] for e in c.events)
    parts = [plural(status.get(HELD, 0), "incontro svolto", "incontri svolti")]
    if status.get(SCHEDULED):
        parts.append(plural(status[SCHEDULED], "programmato", "programmati"))
    if status.get(CANCELLED):
        parts.append(plural(status[CANCELLED], "annullato", "annullati"))
    text = f"Il calendario conta {plural(len(c.events), 'incontro', 'incontri')}: {join(parts)}."
    with_persons = [r for r in held if r["persons"]]
    if with_persons:
        persons = sum(r["persons"] for r in with_persons)
        top = max(with_persons, key=lambda r: r["persons"])
        low = min(with_persons, key=lambda r: r["persons"])
        text += (f" Agli incontri svolti hanno partecipato in tutto {num(persons)} persone"
                 f"{'' if len(with_persons) == len(held) else ' (dove la presenza è stata registrata)'}; "
                 f"il più partecipato è stato {c.that_of(top)} ({num(top['persons'])} persone"
                 f", {share(top['persons'], persons)} del totale)")
        text += (f", il meno partecipato {c.that_of(low)} ({num(low['persons'])})."
                 if low is not top else ".")
    total_findings = sum(r["findings"] for r in held)
    if total_findings:
        top = max(held, key=lambda r: r["findings"])
        text += (f" Dalle note pubbliche sono emersi {plural(total_findings, 'risultato', 'risultati')}, "
                 f"{the_share(top['findings'], total_findings)} dei quali "
                 f"{'all’incontro finale di ' if top['kind_id'] == 'finale' else 'a '}{top['city']}.")
    persons = sum(r["persons"] or 0 for r in held)
    return {"rows": rows, "reading": c.reading("tour", text),
            "totals": {"persons": persons, "organisations": sum(r["organisations"] or 0 for r in held),
                       "notes": sum(r["notes"] for r in rows),
                       "findings": sum(r["findings"] for r in rows)}}
