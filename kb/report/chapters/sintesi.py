"""5. Sintesi trasversale: kinds × events, themes × provinces, recurring practices and threats,
emerging and traditional actors compared."""

from __future__ import annotations

from collections import Counter, defaultdict

from ...domain.vocabulary import (
    EMERGING,
    FINAL,
    HELD,
    PRACTICE,
    SOURCE,
    THREAT,
    TRADITIONAL,
)
from ..charts import ACCENT, ACCENT_2, bar_chart, both, grouped_chart
from ..corpus import Corpus, json_list, level, rows_of
from ..readings import extremes, reading_distribution
from ..words import PROFILES, join, num, part_of, plural, quoted, typo


def chapter(c: Corpus) -> dict:
    """The cross-event synthesis: one figure after another (kinds by stop, themes, profiles,
    recurrence), each a few lines on the same counters. Long on purpose: the figures share
    those counters and read in the chapter's order.
    """
    held = [e for e in c.events if e["status"] == HELD]
    # the findings the report prints: those of held events (a scheduled event's notes wait)
    findings = [f for f in c.findings if f["id"] in c.shown_findings]
    total = len(findings)
    charts = []
    # kinds x events
    cell = Counter((f["kind"], f["event_id"]) for f in findings)
    top = max(cell.values(), default=0)
    by_kind = Counter(f["kind"] for f in findings)
    by_event = Counter(f["event_id"] for f in findings)
    kinds_events = {
        "columns": [{"id": e["id"], "total": by_event.get(e["id"], 0),
                     "city": e["city"] + (" (finale)" if e["kind"] == FINAL else "")}
                    for e in held],
        "rows": [{"label": k["label"], "total": by_kind.get(k["id"], 0),
                  "cells": [{"n": cell.get((k["id"], e["id"]), 0),
                             "level": level(cell.get((k["id"], e["id"]), 0), top)} for e in held]}
                 for k in c.kinds],
        "total": total,
    }
    counts = [(k["label"], by_kind.get(k["id"], 0)) for k in c.kinds]
    if total:
        text = reading_distribution(
            counts, total, ("risultato", "risultati"),
            ("il tipo di risultato più frequente è", "i tipi più frequenti sono"),
            ("il meno frequente è", "i meno frequenti sono"), name=quoted,
            missing="nessun risultato di tipo", feminine=False, unit_feminine=False)
        text = f"Su {plural(total, 'risultato', 'risultati')}, " + text[:1].lower() + text[1:]
        ev = [(e["id"], by_event.get(e["id"], 0)) for e in held]
        richest, n_rich, poorest, n_poor = extremes(ev)
        if richest and n_rich != n_poor:
            events = {e["id"]: e for e in held}
            each = lambda ids: " ciascuno" if len(ids) > 1 else ""
            origin = lambda ids: join(c.event_place(events[i], "da") for i in ids)
            text += (f" Il maggior numero di risultati viene {origin(richest)} "
                     f"({num(n_rich)}{each(richest)}), il minore "
                     f"{origin(poorest)} ({num(n_poor)}{each(poorest)}).")
        ordered = sorted([x for x in counts if x[1]], key=lambda x: -x[1])
        charts.append(c.chart("Risultati per tipo", both(bar_chart, ordered, "risultati"),
                                 c.reading("sintesi-tipi", text),
                                 "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
    # themes x provinces
    provinces = [p for p in c.province_order
                 if any(e["province"] == p for e in held)]
    tagged = [(ft["theme_id"], f) for f in findings for ft in [
        {"theme_id": t} for t in json_list(f["themes"])]]
    cell = Counter((t, f["province"]) for t, f in tagged)
    top = max(cell.values(), default=0)
    theme_rows = []
    for th in sorted(c.themes.values(), key=lambda th: th["label"].casefold()):
        cells = [cell.get((th["id"], p), 0) for p in provinces]
        theme_rows.append({"label": typo(th["label"]), "total": sum(cells),
                           "spread": sum(1 for x in cells if x),
                           "cells": [{"n": n, "level": level(n, top)} for n in cells]})
    # Recurrence first: the themes of the most provinces, then of the most findings.
    theme_rows.sort(key=lambda r: (-r["spread"], -r["total"], r["label"].casefold()))
    spread = [(r["label"], r["spread"]) for r in theme_rows]
    themes_text = ""
    if tagged and provinces:
        widest, n_wide, narrowest, n_narrow = extremes(spread)
        n_tagged = len({f["id"] for _, f in tagged})
        toured = f"delle {plural(len(provinces), 'provincia', 'province')} toccate dal tour"
        everywhere = n_wide == len(provinces)
        themes_text = (f"I risultati che portano almeno un tema sono {part_of(n_tagged, total)}. "
                       f"{'Il tema discusso nel maggior numero di province è' if len(widest) == 1 else 'I temi discussi nel maggior numero di province sono'} "
                       f"{join(quoted(w) for w in widest)} ("
                       + (f"tutte le {num(len(provinces))} province toccate dal tour" if everywhere
                          else f"{num(n_wide)} {toured}") + ")")
        if n_narrow < n_wide:
            themes_text += (f"; {join(quoted(w) for w in narrowest)} "
                            f"{'compare' if len(narrowest) == 1 else 'compaiono'} soltanto in "
                            f"{plural(n_narrow, 'provincia', 'province')}")
        silent = [r["label"] for r in theme_rows if not r["total"]]
        themes_text += "."
        if silent:
            themes_text += (f" {'Il tema' if len(silent) == 1 else 'I temi'} "
                            f"{join(quoted(s) for s in silent)} non "
                            f"{'è' if len(silent) == 1 else 'sono'} mai stat{'o' if len(silent) == 1 else 'i'} "
                            "associat" + ("o" if len(silent) == 1 else "i") + " a un risultato.")
        by_prov = Counter(f["province"] for _, f in tagged)
        best = max(provinces, key=lambda p: by_prov.get(p, 0))
        themes_text += (f" La provincia con più temi segnalati è {c.province_name(best)} "
                        f"({plural(by_prov.get(best, 0), 'etichetta', 'etichette')}).")
    themes_provinces = {
        "columns": [{"id": p, "name": c.province_name(p)} for p in provinces],
        "rows": theme_rows,
        "reading": c.reading("sintesi-temi-province", themes_text),
    }
    # practices and threats recurring across provinces
    recurring, parts = [], []
    raised_by = source_profiles(c)
    for kind in (PRACTICE, THREAT):
        by_theme = defaultdict(list)
        for t, f in tagged:
            if f["kind"] == kind:
                by_theme[t].append(f)
        every, items = [], []
        for t, fs in by_theme.items():
            if t not in c.themes:
                continue
            provs = sorted({f["province"] for f in fs}, key=c.province_order.index)
            profiles = [PROFILES[p][0] for p in PROFILES
                        if any(p in raised_by.get(f["id"], ()) for f in fs)]
            every.append({"theme": typo(c.themes[t]["label"]), "id": t,
                          "provinces": [c.province_name(p) for p in provs],
                          "profiles": profiles, "count": len(fs),
                          "url": f"{c.base_url}/cotour/findings?kind={kind}"
                                 f"&themes__arraycontains={t}",
                          "findings": [{"id": f["id"], "url": c.finding_url(f["id"]),
                                        "city": f["city"]} for f in fs]})
        # Recurrence across provinces, then across the two profiles, then findings.
        every.sort(key=lambda i: (-len(i["provinces"]), -len(i["profiles"]), -i["count"],
                                  i["theme"]))
        items = [i for i in every if len(i["provinces"]) >= 2]
        recurring.append({"kind": kind, "label": c.kind_label[kind], "items": items})
        parts.append(recurrence_sentence(kind, every, len(c.themes), len(provinces)))
    recurring_reading = c.reading("sintesi-ricorrenze", " ".join(p for p in parts if p))
    # emerging and traditional actors, as sources
    profiles = profile_comparison(c)
    if profiles["total"]:
        charts.append(c.chart(
            "Punti sollevati da attori emergenti e tradizionali, per tipo",
            both(grouped_chart, [r["label"] for r in profiles["kinds"]],
                          [(PROFILES[p][0], [r[p] for r in profiles["kinds"]]) for p in PROFILES],
                          "risultati sollevati", [ACCENT_2, ACCENT]),
            profiles["reading"],
            "Grafico a barre affiancate: " + "; ".join(
                f"{r['label']}: {plural(r[EMERGING], 'emergente', 'emergenti')}, "
                    f"{plural(r[TRADITIONAL], 'tradizionale', 'tradizionali')}"
                for r in profiles["kinds"])))
    return {"total": total, "kinds_events": kinds_events, "themes_provinces": themes_provinces,
            "recurring": recurring, "recurring_reading": recurring_reading,
            "profiles": profiles, "charts": charts,
            "conclusions": c.doc("conclusioni")}


def source_profiles(c: Corpus) -> dict[str, set[str]]:
    """finding -> the profiles of the organisations the notes mark as having raised it."""
    sources = defaultdict(set)
    for r in rows_of(c.tables, "finding_organisations"):
        org = c.orgs.get(r["organisation_id"])
        if r["role"] == SOURCE and org:
            sources[r["finding_id"]].add(org["profile"])
    return sources


def recurrence_sentence(kind: str, every: list[dict], n_themes: int, n_provinces: int) -> str:
    """What the recurrence of a kind concludes: how many themes recur (``tutti i 15 temi``
    when all do), which recur in most provinces, which in one only. ``every``: the themes
    with that kind, by recurrence."""
    what = "buone pratiche" if kind == PRACTICE else "minacce"
    recur = [i for i in every if len(i["provinces"]) >= 2]
    if not recur:
        return f"Nessun tema raccoglie {what} in più di una provincia."
    if len(recur) == n_themes:
        text = (f"{'Entrambi i temi raccolgono' if n_themes == 2 else f'Tutti i {num(n_themes)} temi raccolgono'} "
                f"{what} in due o più province")
    elif len(recur) == 1:
        text = f"Un solo tema su {num(n_themes)} raccoglie {what} in più di una provincia"
    else:
        text = f"{num(len(recur))} temi su {num(n_themes)} raccolgono {what} in due o più province"
    # Everywhere the tour went, then "most provinces": more than half of them.
    toured = f"delle {num(n_provinces)} province toccate dal tour"
    everywhere = [i for i in recur if len(i["provinces"]) == n_provinces]
    most = [i for i in recur if n_provinces < 2 * len(i["provinces"]) < 2 * n_provinces]
    if everywhere:
        text += (f"; {join(quoted(i['theme']) for i in everywhere)} in "
                 + ("entrambe le province toccate dal tour" if n_provinces == 2 else
                    f"tutte le {num(n_provinces)} province toccate dal tour"))
    if most and everywhere:
        text += (f"; {'altri ' + num(len(most)) if len(most) > 1 else quoted(most[0]['theme'])}"
                 " nella maggior parte di esse")
    elif len(most) == 1:
        text += f"; {quoted(most[0]['theme'])} in {num(len(most[0]['provinces']))} {toured}"
    elif most:
        themes = join(f"{quoted(i['theme'])} ({num(len(i['provinces']))})" for i in most)
        text += f"; {themes} nella maggior parte {toured}"
    if not everywhere and not most:
        text += f"; nessuno nella maggior parte {toured}"
    one = [i for i in every if len(i["provinces"]) == 1]
    if one:
        text += (f"; {'resta' if len(one) == 1 else 'restano'} in una sola provincia "
                 + join(f"{quoted(i['theme'])} ({i['provinces'][0]})" for i in one))
    return text + "."


def profile_comparison(c: Corpus) -> dict:
    sources = source_profiles(c)
    by_id = {f["id"]: f for f in c.findings if f["id"] in c.shown_findings}
    kinds = {p: Counter() for p in PROFILES}
    themes = {p: Counter() for p in PROFILES}
    for fid, profiles in sources.items():
        f = by_id.get(fid)
        if not f:
            continue
        for p in profiles & set(PROFILES):
            kinds[p][f["kind"]] += 1
            for t in json_list(f["themes"]):
                themes[p][t] += 1
    totals = {p: sum(kinds[p].values()) for p in PROFILES}
    rows = [{"label": k["label"], "kind": k["id"], **{p: kinds[p].get(k["id"], 0) for p in PROFILES}}
            for k in c.kinds if any(kinds[p].get(k["id"]) for p in PROFILES)]
    label = lambda t: typo(c.themes[t]["label"]) if t in c.themes else t
    common = sorted(set(themes[EMERGING]) & set(themes[TRADITIONAL]), key=label)
    only = {p: sorted(set(themes[p]) - set(themes[q]), key=label)
            for p, q in ((EMERGING, TRADITIONAL), (TRADITIONAL, EMERGING))}
    text = ""
    e, t = totals[EMERGING], totals[TRADITIONAL]
    marked = sum(1 for fid in by_id if sources.get(fid, set()) & set(PROFILES))
    if e or t:
        # Which findings the comparison rests on: only those whose source the notes mark.
        text = (f"Il confronto usa soltanto i risultati di cui le note indicano l’organizzazione "
                f"che ha sollevato il punto: {part_of(marked, len(by_id))}. Di questi, gli "
                f"attori emergenti ne hanno sollevati {num(e)}, i settori tradizionali {num(t)}"
                + (" (un risultato sollevato da entrambi conta per tutti e due)"
                   if e + t > marked else "") + ".")
        if e and t:
            diffs = sorted(((kinds[EMERGING][k] / e - kinds[TRADITIONAL][k] / t, k)
                            for k in c.kind_label), key=lambda d: (d[0], d[1]))
            low, high = diffs[0], diffs[-1]
            if high[0] > 0:
                k = high[1]
                text += (f" Rispetto ai tradizionali, gli emergenti insistono di più su "
                         f"{quoted(c.kind_label[k])}: {part_of(kinds[EMERGING][k], e)} dei loro "
                         f"punti, contro {part_of(kinds[TRADITIONAL][k], t)}")
            if low[0] < 0:
                k = low[1]
                text += (f"{';' if high[0] > 0 else ''} i tradizionali su {quoted(c.kind_label[k])}: "
                         f"{part_of(kinds[TRADITIONAL][k], t)}, contro "
                         f"{part_of(kinds[EMERGING][k], e)}")
            text += "." if (high[0] > 0 or low[0] < 0) else ""
            if common:
                both = sorted(common, key=lambda th: -(themes[EMERGING][th] + themes[TRADITIONAL][th]))
                text += (f" I due gruppi hanno {plural(len(common), 'tema', 'temi')} in comune; "
                         f"il più condiviso è {quoted(label(both[0]))}.")
            else:
                text += " I due gruppi non hanno temi in comune."
    return {
        "total": e + t, "totals": totals, "kinds": rows, "marked": marked,
        "shown": len(by_id),
        "common": [label(th) for th in common],
        "only_emerging": [label(th) for th in only[EMERGING]],
        "only_traditional": [label(th) for th in only[TRADITIONAL]],
        "reading": c.reading("sintesi-profili", text),
    }
