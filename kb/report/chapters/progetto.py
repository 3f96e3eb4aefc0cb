"""Il progetto e il metodo: the programme, its two phases, its themes, and how the mapping
and the meetings were run (``data/report/metodo.md`` and the counts)."""

from __future__ import annotations

from collections import Counter, defaultdict

from ...domain.vocabulary import CANCELLED, FINAL, HELD, SCHEDULED, TOUR_STOP
from ..corpus import Corpus, json_list
from ...domain.italian import name_with
from ..words import (NOTE_KINDS, NOTE_ORDER, NOTE_PLURALS, join, names_with, num, on_date, period,
                     plural, typo)


def chapter(c: Corpus) -> dict:
    p = c.project
    held = [e for e in c.events if e["status"] == HELD]
    stops = [e for e in held if e["kind"] == TOUR_STOP]
    finale = next((e for e in c.events if e["kind"] == FINAL), None)
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
    n = c.counts
    phase2 = ""
    if stops:
        cities = join(dict.fromkeys(e["city"] for e in stops))
        when = (f"{on_date('tra', first['date'])} e {on_date('', last['date'])}"
                if first["date"] and last["date"] and first is not last else
                on_date("", first["date"]) if first["date"] else "")
        where = (f"ha fatto tappa in {plural(n['stop_cities'], 'capoluogo', 'capoluoghi')}"
                 if n["held_stops"] == n["stop_cities"] else
                 f"ha fatto {plural(n['held_stops'], 'tappa', 'tappe')} in "
                 f"{plural(n['stop_cities'], 'capoluogo', 'capoluoghi')}")
        phase2 = (f"{when[:1].upper() + when[1:] + ' il tour' if when else 'Il tour'} {where} "
                  f"({cities}): a ogni incontro le organizzazioni hanno messo in comune "
                  "buone pratiche, problemi, opportunità, minacce, strategie, frustrazioni "
                  "e soddisfazioni.")
    if finale:
        where = f"a {finale['city']}"
        when = f" {on_date('', finale['date'])}" if finale["date"] else ""
        phase2 += {
            HELD: f" L’incontro finale, {where}{when}, ha presentato i risultati e "
                      "lanciato nuove iniziative nate dalla contaminazione tra attori.",
            SCHEDULED: f" L’incontro finale è programmato {where}{when}: presenterà i "
                           "risultati e lancerà le iniziative nate dagli incontri.",
            CANCELLED: f" L’incontro finale previsto {where}{when} è stato annullato.",
        }[finale["status"]]
    organisers = names_with("da", [typo(o) for o in json_list(p.get("organisers"))])
    where = f" in {p['spatial']}" if p.get("spatial") else ""
    when = f", {period(p.get('temporal_start'), p.get('temporal_end'))}" if p.get(
        "temporal_start") and p.get("temporal_end") else ""
    promoted = f"Co?Tour è promosso {organisers}{where}{when}"
    if p.get("funder_name"):
        promoted += (f", con il sostegno {name_with('di', typo(p['funder_name']))}"
                     + (f" ({typo(p['funder_programme'])})" if p.get("funder_programme") else ""))
    return {
        "introduction": c.doc("introduzione", heading_level=2),
        "description": typo(p.get("description") or ""),
        "promoted": promoted + ".",
        "method_text": c.doc("metodo", heading_level=3),
        "method": method(c),
        "phase1": (f"La prima fase ha mappato {plural(n['mapped'], 'organizzazione', 'organizzazioni')} "
                   f"della regione, cooperative e non, che praticano forme di nuova mutualità; "
                   f"{plural(n['met_on_tour'], 'altra è stata incontrata', 'altre sono state incontrate')} "
                   "per la prima volta durante il tour." if n["met_on_tour"] else
                   f"La prima fase ha mappato {plural(n['mapped'], 'organizzazione', 'organizzazioni')} "
                   "della regione, cooperative e non, che praticano forme di nuova mutualità."),
        "phase2": phase2,
        "themes": themes,
        "period": period(p.get("temporal_start"), p.get("temporal_end")),
        "spatial": p.get("spatial") or "",
    }


def method(c: Corpus) -> dict:
    """The counts of *Il metodo*: what was gathered, from what."""
    n = c.counts
    kinds_notes = Counter(note["kind"] for note in c.notes)
    return {
        "mapped": n["mapped"], "met_on_tour": n["met_on_tour"],
        "events": held_events(n), "notes": n["notes"],
        "notes_by_kind": join(plural(count, NOTE_KINDS[k].lower(), NOTE_PLURALS[k])
                              for k, count in sorted(kinds_notes.items(),
                                                     key=lambda kv: NOTE_ORDER.index(kv[0])
                                                     if kv[0] in NOTE_ORDER else 9)),
        "findings": n["findings"],
        "kinds": join(k["label"].lower() for k in c.kinds),
        "period": period(c.project.get("temporal_start"), c.project.get("temporal_end")),
        "base_url": c.base_url,
    }


def held_events(n: dict) -> str:
    """The held events in words: ``le 8 tappe e l’incontro finale``, ``le 3 tappe``,
    ``l’unica tappa``, ``nessun incontro``."""
    stops, finals = n["held_stops"], n["held_finals"]
    parts = []
    if stops:
        parts.append("l’unica tappa" if stops == 1 else f"le {num(stops)} tappe")
    if finals:
        parts.append("l’incontro finale" if finals == 1 else f"{num(finals)} incontri finali")
    return join(parts) or "nessun incontro"
