"""3. Il tour: the calendar of the events, with attendance, notes and findings."""

from __future__ import annotations

from collections import Counter

from ...domain.vocabulary import FINAL, HELD
from ..corpus import Corpus
from ..words import EVENT_STATUS, join, long_date, num, plural, share, the_share, typo


# Past this many events the calendar is told by province, so that the chapter keeps a readable
# length whatever the corpus (the annex and the database list every event).
EVENTS_LISTED = 40


def event_counts(c: Corpus) -> tuple[Counter, Counter]:
    return (Counter(n["event_id"] for n in c.notes),
            Counter(f["event_id"] for f in c.findings))


def chapter(c: Corpus) -> dict:
    notes, findings = event_counts(c)
    rows = []
    for e in c.events:
        rows.append({
            "id": e["id"], "city": e["city"], "kind_id": e["kind"],
            "province": c.province_name(e["province"]),
            "date": long_date(e["date"]) or "da definire",
            "kind": "incontro finale" if e["kind"] == FINAL else "tappa",
            "status": event_status(e),
            "held": e["status"] == HELD,
            "href": c.stop_link(e["id"]) if e["status"] == HELD else "",
            "venue": typo(e["venue"]),
            "persons": e["attendance_persons"], "organisations": e["attendance_organisations"],
            "notes": notes.get(e["id"], 0), "findings": findings.get(e["id"], 0),
        })
    held = [r for r in rows if r["held"]]
    by_id = {e["id"]: e for e in c.events}
    n = c.counts
    parts = [plural(n["held"], "incontro svolto", "incontri svolti")]
    if n["programmed"]:
        parts.append(plural(n["programmed"], "programmato", "programmati"))
    if n["cancelled"]:
        parts.append(plural(n["cancelled"], "annullato", "annullati"))
    text = f"Il calendario conta {plural(n['events'], 'incontro', 'incontri')}: {join(parts)}."
    with_persons = [r for r in held if r["persons"]]
    if with_persons:
        persons = sum(r["persons"] for r in with_persons)
        top = max(with_persons, key=lambda r: r["persons"])
        low = min(with_persons, key=lambda r: r["persons"])
        text += (f" Gli incontri svolti hanno contato in tutto {num(persons)} presenze (una "
                 "persona che ha partecipato a più incontri è contata a ognuno)"
                 f"{'' if len(with_persons) == len(held) else ' (dove la presenza è stata registrata)'}; "
                 f"il più partecipato è stato {c.that_of(by_id[top['id']])} ({num(top['persons'])} presenze"
                 f", {share(top['persons'], persons)} del totale)")
        text += (f", il meno partecipato {c.that_of(by_id[low['id']])} ({num(low['persons'])})."
                 if low is not top else ".")
    total_findings = sum(r["findings"] for r in held)
    if total_findings:
        top = max(held, key=lambda r: r["findings"])
        text += (f" Dalle note pubbliche sono emersi {plural(total_findings, 'risultato', 'risultati')}, "
                 f"{the_share(top['findings'], total_findings)} dei quali "
                 f"{c.event_place(by_id[top['id']])}.")
    by_province = None
    if len(rows) > EVENTS_LISTED:
        by_province = _by_province(c, rows)
        rows = []
    return {"rows": rows, "by_province": by_province, "reading": c.reading("tour", text),
            "events_url": f"{c.base_url}/cotour/events",
            "met": c.measures["organisations_met"],
            "totals": {"persons": n["persons"],
                       "notes": sum(r["notes"] for r in held),
                       "findings": sum(r["findings"] for r in held)}}


def _by_province(c: Corpus, rows: list[dict]) -> list[dict]:
    """The calendar's rows summed by province, in the provinces' order."""
    province_of = {e["id"]: e["province"] for e in c.events}
    out = []
    others = sorted({p for p in province_of.values() if p not in c.provinces}, key=lambda p: p or "")
    for sigla in [*c.province_order, *others]:
        mine = [r for r in rows if province_of[r["id"]] == sigla]
        if not mine:
            continue
        held = [r for r in mine if r["held"]]
        out.append({"province": c.province_name(sigla) or "senza provincia",
                    "held": len(held), "not_held": len(mine) - len(held),
                    "persons": sum(r["persons"] or 0 for r in held),
                    "notes": sum(r["notes"] for r in held),
                    "findings": sum(r["findings"] for r in held)})
    return out


def event_status(event: dict) -> str:
    """``svolta`` for a stop (la tappa), ``svolto`` for the final meeting (l’incontro)."""
    if event["status"] not in EVENT_STATUS:
        return event["status"]
    return EVENT_STATUS[event["status"]][:-1] + ("o" if event["kind"] == FINAL else "a")
