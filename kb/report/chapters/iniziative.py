"""Nuove iniziative: the initiatives born from the tour, each once, with its lead organisation,
partners, the stops it came from, its status and the date of that status, its next step."""

from __future__ import annotations

from collections import Counter, defaultdict

from ...domain.vocabulary import COMPLETED, FINAL, HELD, PROPOSED, STARTED
from ..corpus import Corpus, rows_of
from ..words import join, long_date, num, on_date, plural, quoted, typo

# The status as the report says it of an initiative: "avviata dal 18 marzo 2016".
STATUS_WORDS = {PROPOSED: "proposta", STARTED: "avviata", COMPLETED: "conclusa"}
# The chapter keeps a readable length whatever the corpus: past this many initiatives it
# describes those furthest along, then the widest; partners and stops past these many are
# counted (the database lists them all).
INITIATIVES_SHOWN = 20
PARTNERS_NAMED = 8
STOPS_NAMED = 6
PROGRESS = (COMPLETED, STARTED, PROPOSED)


def _capped(names: list[str], most: int, one: str, many: str) -> list[str]:
    return names if len(names) <= most else names[:most] + [plural(len(names) - most, one, many)]


def chapter(c: Corpus) -> dict:
    t = c.tables
    events = {e["id"]: e for e in c.events}
    finale = next((e for e in c.events if e["kind"] == FINAL), None)
    order = {e["id"]: i for i, e in enumerate(c.events)}
    links = {name: defaultdict(list) for name in ("initiative_organisations",
                                                  "initiative_themes", "initiative_events")}
    for name, by_initiative in links.items():
        for r in rows_of(t, name):
            by_initiative[r["initiative_id"]].append(r)
    items = []
    for ini in sorted(rows_of(t, "initiatives"), key=lambda i: i["title"].casefold()):
        born = sorted((r["event_id"] for r in links["initiative_events"][ini["id"]]
                       if r["event_id"] in events), key=order.get)
        lead = ini.get("lead_id")
        partners = sorted((c.org_name(r["organisation_id"])
                           for r in links["initiative_organisations"][ini["id"]]
                           if r["organisation_id"] != lead), key=str.casefold)
        items.append({
            "id": ini["id"], "title": typo(ini["title"]),
            "status": ini["status"],
            "status_text": STATUS_WORDS.get(ini["status"], ini["status"])
            + (f" {on_date('da', ini['status_date'])}" if ini.get("status_date") else ""),
            "html": c.markdown.render(ini["description"], 4),
            "born_from": _capped([events[e]["city"] if events[e]["kind"] != FINAL
                                  else f"incontro finale di {events[e]['city']}" for e in born],
                                 STOPS_NAMED, "altra tappa", "altre tappe"),
            "stops": len(born),
            "lead": c.org_name(lead) if lead else "",
            "organisations": _capped(partners, PARTNERS_NAMED, "altra organizzazione",
                                     "altre organizzazioni"),
            "size": len(partners) + (1 if lead else 0),
            "next_step": typo(ini.get("next_step")),
            "themes": sorted((typo(c.themes[r["theme_id"]]["label"])
                              for r in links["initiative_themes"][ini["id"]]
                              if r["theme_id"] in c.themes), key=str.casefold),
            "url": f"{c.base_url}/cotour/initiatives/{ini['id']}",
        })
    text, n = "", len(items)
    if items:
        where = ""
        if finale:
            when = f" del {long_date(finale['date'])}" if finale["date"] else ""
            where = (f"All’incontro finale di {finale['city']}{when} "
                     if finale["status"] == HELD
                     else f"In vista dell’incontro finale di {finale['city']}{when} ")
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
        cross = sum(1 for i in items if i["stops"] > 1)
        if cross:
            who = ("Tutte nascono" if cross == n else "Una nasce" if cross == 1
                   else f"{num(cross)} nascono")
            text += f" {who} dall’incontro di idee emerse in più tappe."
        widest = max(items, key=lambda i: i["size"])
        if widest["size"]:
            text += (f" La più partecipata è {quoted(widest['title'])}, con "
                     f"{plural(widest['size'], 'organizzazione', 'organizzazioni')}.")
    shown = items
    if n > INITIATIVES_SHOWN:
        rank = {s: i for i, s in enumerate(PROGRESS)}
        chosen = sorted(items, key=lambda i: (rank.get(i["status"], len(rank)), -i["size"],
                                              i["title"].casefold()))[:INITIATIVES_SHOWN]
        shown = [i for i in items if i in chosen]  # in the chapter's order, by title
        text += (f" Sono descritte qui le {num(len(shown))} più avanti nel loro percorso e, "
                 "a parità, con più organizzazioni; tutte si trovano nella base di dati.")
    return {"items": shown, "reading": c.reading("iniziative", text),
            "all_url": f"{c.base_url}/cotour/initiatives", "total": len(items)}
