"""Obiettivi e risultati: the results framework of project.yaml's ``objectives``, each
indicator with its target, its actual value (computed by the build, or given with its source),
the difference and the staff's reason where they wrote one (the ``indicators`` table)."""

from __future__ import annotations

from itertools import groupby

from ..corpus import Corpus, rows_of
from ..words import num, plural, share, typo
from ...domain.vocabulary import SHARE, measure


def value(x: float | None, unit: str | None) -> str:
    """A target or an actual value as the table prints it: ``87%``, ``9``, ``12,5 km``."""
    if x is None:
        return "–"
    if unit == SHARE:
        return share(x, 1)
    text = num(int(x) if float(x).is_integer() else x)
    return f"{text}\u00a0{unit}" if unit else text


def difference(x: float | None, unit: str | None) -> str:
    """``+3``, ``–1`` (an en dash: the fonts have no minus sign), ``+7 punti`` (a share's difference is in percentage points), ``0``."""
    if x is None:
        return "–"
    if unit == SHARE:
        points = round(x * 100, 1)
        text = num(abs(int(points)) if float(points).is_integer() else abs(points))
        return ("+" if x > 0 else "–" if x < 0 else "") + text + (
            " punto" if abs(points) == 1 else " punti")
    text = value(abs(x), unit)
    return ("+" if x > 0 else "–" if x < 0 else "") + text


def chapter(c: Corpus) -> dict:
    rows = sorted(rows_of(c.tables, "indicators"),
                  key=lambda r: (r["objective_position"], r["position"]))
    objectives = []
    for (_, objective_id), group in groupby(rows, key=lambda r: (r["objective_position"],
                                                                   r["objective_id"])):
        group = list(group)
        objectives.append({
            "id": objective_id,
            "text": typo(group[0]["objective"]),
            "indicators": [{
                "id": r["id"], "label": typo(r["label"]),
                "target": value(r["target"], r["unit"]),
                "actual": value(r["actual"], r["unit"]),
                "difference": difference(r["difference"], r["unit"]),
                "met": r["actual"] is not None and r["actual"] >= r["target"],
                "source": (typo(r["source"]) if r["source"] else
                           measure(r["measure"]).it if r["measure"] and measure(r["measure"])
                           else ""),
                "given": not r["measure"],
                "note": typo(r["note"]),
                "url": f"{c.base_url}/cotour/indicators/{r['id']}",
            } for r in group],
        })
    indicators = [i for o in objectives for i in o["indicators"]]
    met = sum(1 for i in indicators if i["met"])
    text = ""
    if indicators:
        text = (f"Il programma si era dato {plural(len(objectives), 'obiettivo', 'obiettivi')}, "
                f"misurati da {plural(len(indicators), 'indicatore', 'indicatori')}: "
                + (f"{'tutti hanno' if len(indicators) > 1 else 'l’indicatore ha'} raggiunto o "
                   "superato il valore atteso." if met == len(indicators) else
                   f"{num(met)} {'ha' if met == 1 else 'hanno'} raggiunto o superato il valore "
                   f"atteso, {num(len(indicators) - met)} "
                   f"{'è rimasto' if len(indicators) - met == 1 else 'sono rimasti'} sotto."))
    return {"objectives": objectives, "text": text,
            "missed": [i for i in indicators if not i["met"]]}
