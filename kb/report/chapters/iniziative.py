"""6. Nuove iniziative: the initiatives born from the tour."""

from __future__ import annotations

from collections import Counter

from ...domain.vocabulary import COMPLETED, FINAL, HELD, PROPOSED, STARTED
from ..corpus import Corpus, rows_of
from ..words import join, long_date, num, plural, quoted, typo


def chapter(c: Corpus) -> dict:
    t = c.tables
    events = {e["id"]: e for e in c.events}
    finale = next((e for e in c.events if e["kind"] == FINAL), None)
    items = []
    for ini in sorted(rows_of(t, "initiatives"), key=lambda i: i["title"].casefold()):
        items.append({
            "id": ini["id"], "title": typo(ini["title"]),
            "status": ini["status"],
            "html": c.markdown.render(ini["description"], 4),
            "born_from": [f"{events[r['event_id']]['city']}"
                          + (f" ({long_date(events[r['event_id']]['date'])})"
                             if events[r["event_id"]]["date"] else "")
                          for r in rows_of(t, "initiative_events")
                          if r["initiative_id"] == ini["id"] and r["event_id"] in events],
            "organisations": [c.org_name(r["organisation_id"]) for r in rows_of(t, "initiative_organisations")
                              if r["initiative_id"] == ini["id"]],
            "themes": [typo(c.themes[r["theme_id"]]["label"]) for r in rows_of(t, "initiative_themes")
                       if r["initiative_id"] == ini["id"] and r["theme_id"] in c.themes],
        })
    text = ""
    if items:
        where = ""
        if finale:
            when = f" del {long_date(finale['date'])}" if finale["date"] else ""
            where = (f"All’incontro finale di {finale['city']}{when} "
                     if finale["status"] == HELD
                     else f"In vista dell’incontro finale di {finale['city']}{when} ")
        n = len(items)
        text = (f"{where}{'è nata' if n == 1 else 'sono nate'} "
                f"{plural(n, 'nuova iniziativa', 'nuove iniziative')}.")
        text = text[0].upper() + text[1:]
        states = {STARTED: ("è già avviata", "sono già avviate"),
                  PROPOSED: ("è ancora una proposta", "sono ancora proposte"),
                  COMPLETED: ("è conclusa", "sono concluse")}
        status = Counter(i["status"] for i in items)
        if n == 1:
            text += f" L’iniziativa {states.get(items[0]['status'], ('è ' + items[0]['status'],))[0]}."
        else:
            parts = [f"{num(k)} {states[s][k != 1] if s in states else s}"
                     for s, k in sorted(status.items(), key=lambda kv: (-kv[1], kv[0]))]
            text += f" Di queste, {join(parts)}."
        cross = sum(1 for i in items if len(i["born_from"]) > 1)
        if cross:
            who = ("Tutte nascono" if cross == n else "Una nasce" if cross == 1
                   else f"{num(cross)} nascono")
            text += f" {who} dall’incontro di idee emerse in più tappe."
        widest = max(items, key=lambda i: len(i["organisations"]))
        if widest["organisations"]:
            text += (f" La più partecipata è {quoted(widest['title'])}, con "
                     f"{plural(len(widest['organisations']), 'organizzazione', 'organizzazioni')}.")
    return {"items": items, "reading": c.reading("iniziative", text)}
