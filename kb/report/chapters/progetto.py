"""1. Il progetto: the programme, its two phases and its themes."""

from __future__ import annotations

from collections import defaultdict

from ..corpus import Corpus, json_list
from ..words import join, long_date, plural, typo
from ...vocabulary import CANCELLED, FINAL, HELD, SCHEDULED, TOUR_STOP


def chapter(c: Corpus) -> dict:
    p = c.project
    held = [e for e in c.events if e["status"] == HELD]
    stops = [e for e in held if e["kind"] == TOUR_STOP]
    finale = next((e for e in c.events if e["kind"] == FINAL), None)
    mapped = [o for o in c.orgs.values() if o["mapped"]]
    themes = []
    children = defaultdict(list)
    for th in sorted(c.themes.values(), key=lambda th: th["label"].casefold()):
        children[th["parent_id"]].append(th)

    def walk(parent, depth):
        for th in children.get(parent, []):
            themes.append({"label": typo(th["label"]), "description": typo(th["description"]),
                           "depth": depth, "id": th["id"]})
            walk(th["id"], depth + 1)
    walk(None, 0)
    first, last = (stops[0], stops[-1]) if stops else (None, None)
    phase2 = ""
    if stops:
        cities = join(e["city"] for e in stops)
        phase2 = (f"Tra il {long_date(first['date'])} e il {long_date(last['date'])} il tour ha "
                  f"fatto tappa in {plural(len(stops), 'capoluogo', 'capoluoghi')} "
                  f"({cities}): a ogni incontro le organizzazioni hanno messo in comune "
                  "buone pratiche, problemi, opportunità, minacce, strategie, frustrazioni "
                  "e soddisfazioni.")
    if finale:
        where = f"a {finale['city']}"
        when = f" il {long_date(finale['date'])}" if finale["date"] else ""
        phase2 += {
            HELD: f" L’incontro finale, {where}{when}, ha presentato i risultati e "
                      "lanciato nuove iniziative nate dalla contaminazione tra attori.",
            SCHEDULED: f" L’incontro finale è programmato {where}{when}: presenterà i "
                           "risultati e lancerà le iniziative nate dagli incontri.",
            CANCELLED: f" L’incontro finale previsto {where}{when} è stato annullato.",
        }[finale["status"]]
    return {
        "introduction": c.doc("introduzione"),
        "description": typo(p.get("description") or ""),
        "organisers": join(typo(o) for o in json_list(p.get("organisers"))),
        "phase1": (f"La prima fase ha mappato {plural(len(mapped), 'organizzazione', 'organizzazioni')} "
                   f"della regione, cooperative e non, che praticano forme di nuova mutualità; "
                   f"{plural(len(c.orgs) - len(mapped), 'altra è stata incontrata', 'altre sono state incontrate')} "
                   "per la prima volta durante il tour." if len(c.orgs) > len(mapped) else
                   f"La prima fase ha mappato {plural(len(mapped), 'organizzazione', 'organizzazioni')} "
                   "della regione, cooperative e non, che praticano forme di nuova mutualità."),
        "phase2": phase2,
        "themes": themes,
        "period": (f"dal {long_date(p.get('temporal_start'))} al {long_date(p.get('temporal_end'))}"
                   if p.get("temporal_start") and p.get("temporal_end") else ""),
        "spatial": p.get("spatial") or "",
    }
