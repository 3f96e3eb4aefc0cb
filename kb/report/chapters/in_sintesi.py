"""In sintesi: the key figures, computed from the public database by the same SQL as the
results framework's measures, and the staff's key messages (``data/report/sintesi.md``)."""

from __future__ import annotations

from ..corpus import Corpus
from ..words import join, num, plural


def chapter(c: Corpus) -> dict:
    m, n = c.measures, c.counts
    figures = [
        {"value": num(m["events_held"]),
         "label": "tappe del tour svolte" if m["events_held"] != 1 else "tappa del tour svolta",
         "note": f"su {plural(m['events_planned'], 'in calendario', 'in calendario')}"
                 + (", più l’incontro finale" if n["held_finals"] == 1 else
                    f", più {plural(n['held_finals'], 'incontro finale', 'incontri finali')}"
                    if n["held_finals"] else "")},
        {"value": num(m["provinces_reached"]),
         "label": "provincia raggiunta" if m["provinces_reached"] == 1 else "province raggiunte",
         "note": f"su {num(len(c.provinces))} della regione"},
        {"value": num(m["organisations_mapped"]), "label": "organizzazioni mappate",
         "note": "nella prima fase"},
        {"value": num(m["organisations_met"]), "label": "organizzazioni presenti agli incontri",
         "note": f"{plural(m['emerging_met'], 'attore emergente', 'attori emergenti')}, "
                 f"{plural(m['traditional_met'], 'tradizionale', 'tradizionali')}"},
        {"value": num(m["attendance"]), "label": "presenze",
         "note": "persone registrate a ogni incontro, sommate"},
        {"value": num(m["findings"]), "label": "risultati raccolti",
         "note": "punti emersi nelle note pubbliche"},
        {"value": num(m["initiatives_launched"]),
         "label": "nuova iniziativa" if m["initiatives_launched"] == 1 else "nuove iniziative",
         "note": f"{num(m['initiatives_started'])} già "
                 f"{'avviata' if m['initiatives_started'] == 1 else 'avviate'}"},
        {"value": num(m["pairs_met"]), "label": "coppie emergente–tradizionale",
         "note": "sedute allo stesso incontro"},
    ]
    kinds = [{"label": k["label"], "n": m.get(f"findings:{k['id']}", 0)} for k in c.kinds]
    kinds_text = join(f"{num(k['n'])} {k['label'].lower()}" for k in kinds if k["n"])
    return {
        "figures": figures,
        "kinds": [k for k in kinds if k["n"]],
        "kinds_text": kinds_text,
        "messages": c.doc("sintesi", heading_level=2),
    }
