"""Raccomandazioni: the staff's recommendations (``data/report/raccomandazioni.md``), then the
proposals that recurred across the stops, grouped by theme and ranked by how many stops and
provinces raised them, each linked to its findings in Datasette."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from ..corpus import Corpus, json_list
from ..words import join, join_some, num, plural, quoted, typo
from ...domain.vocabulary import FINAL, PROPOSAL
from .ibridazioni import shorten

THEMES_SHOWN = 8  # the body keeps a readable length whatever the corpus
EXAMPLES_SHOWN = 3
STOPS_NAMED = 6
QUOTE_LENGTH = 160


def chapter(c: Corpus) -> dict:
    events = {e["id"]: e for e in c.held}
    order = {e["id"]: i for i, e in enumerate(c.events)}
    proposals = [f for f in c.findings if f["kind"] == PROPOSAL and f["event_id"] in events]
    by_theme = defaultdict(list)
    for f in proposals:
        for t in json_list(f["themes"]):
            if t in c.themes:
                by_theme[t].append(f)
    items = []
    for theme, found in by_theme.items():
        stops = sorted({f["event_id"] for f in found}, key=order.get)
        if len(stops) < 2:
            continue
        provinces = {events[e]["province"] for e in stops}
        found.sort(key=lambda f: (order[f["event_id"]], f["note_id"], f["position"] or 0))
        examples = []
        for f in _one_per_stop(found)[:EXAMPLES_SHOWN]:
            who = [c.org_name(o) for o in json_list(f["source_organisations"])]
            examples.append({"words": shorten(c.markdown.plain(f["text"]), QUOTE_LENGTH),
                             "where": _where(events[f["event_id"]]),
                             "who": join(who), "url": c.finding_url(f["id"]),
                             "anchor": c.finding_anchor(f["id"])})
        items.append({
            "theme": typo(c.themes[theme]["label"]),
            "stops": len(stops), "provinces": len(provinces), "count": len(found),
            "where": join_some([_where(events[e]) for e in stops], STOPS_NAMED, "altra tappa",
                               "altre tappe"),
            "examples": examples,
            "url": f"{c.base_url}/cotour/findings?" + urlencode(
                {"kind": PROPOSAL, "themes__arraycontains": theme}),
        })
    items.sort(key=lambda i: (-i["stops"], -i["provinces"], -i["count"], i["theme"]))
    shown = items[:THEMES_SHOWN]
    text = ""
    if proposals:
        text = (f"Le note registrano {plural(len(proposals), 'proposta', 'proposte')}. "
                + (f"Su {plural(len(items), 'tema', 'temi')} le proposte sono tornate in più "
                   "tappe: sono elencati qui sotto, dal più ricorrente, con alcune delle "
                   "proposte nelle parole delle note." if items else
                   "Nessun tema ha raccolto proposte in più di una tappa."))
        if len(items) > len(shown):
            text += (f" Sono riportati i primi {num(len(shown))}; gli altri si trovano nella "
                     "base di dati.")
    return {"staff": c.doc("raccomandazioni", heading_level=2), "items": shown, "text": text,
            "all_url": f"{c.base_url}/cotour/findings?" + urlencode({"kind": PROPOSAL})}


def _one_per_stop(found: list[dict]) -> list[dict]:
    """The first proposal of each stop, then the others: examples from different places."""
    seen, first, rest = set(), [], []
    for f in found:
        (rest if f["event_id"] in seen else first).append(f)
        seen.add(f["event_id"])
    return first + rest


def _where(event: dict) -> str:
    return "incontro finale" if event["kind"] == FINAL else event["city"]
