"""2. La mappatura: the mapped organisations by province, legal form, profile and theme."""

from __future__ import annotations

from collections import Counter

from ...domain.vocabulary import EMERGING, TRADITIONAL
from ..charts import ACCENT, ACCENT_2, bar_chart, both, stacked_chart
from ..corpus import Corpus, json_list
from ..readings import reading_distribution
from ..words import LEGAL_FORMS, PROFILES, num, plural, quoted, share, typo


def chapter(c: Corpus) -> dict:
    """The mapping: one figure after another (provinces, legal forms, sectors, profiles,
    themes), each a few lines on the mapped organisations. Long on purpose: read in the
    chapter's order.
    """
    mapped = [o for o in c.orgs.values() if o["mapped"]]
    total = len(mapped)
    charts = []
    if not total:
        return {"total": 0, "charts": [], "others": len(c.orgs)}
    # by province
    by_province = Counter(o["province"] for o in mapped)
    counts = [(c.province_name(p), by_province.get(p, 0)) for p in c.province_order]
    ordered = sorted(counts, key=lambda x: -x[1])
    text = reading_distribution(
        counts, total, ("organizzazione", "organizzazioni"),
        ("la provincia più rappresentata è", "le province più rappresentate sono"),
        ("la meno rappresentata è", "le meno rappresentate sono"),
        missing="nessuna organizzazione mappata nelle province di" if sum(
            1 for x in counts if not x[1]) > 1 else "nessuna organizzazione mappata nella provincia di")
    charts.append(c.chart("Organizzazioni mappate per provincia",
                             both(bar_chart, ordered, "organizzazioni"),
                             c.reading("mappatura-province", text),
                             "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
    # by legal form
    by_form = Counter(o["legal_form"] for o in mapped)
    counts = [(f, by_form[f]) for f in LEGAL_FORMS if by_form.get(f)]
    ordered = sorted(counts, key=lambda x: -x[1])
    text = reading_distribution(
        counts, total, ("organizzazione", "organizzazioni"),
        ("la forma giuridica più diffusa è", "le forme giuridiche più diffuse sono"),
        ("la meno frequente è", "le meno frequenti sono"),
        name=lambda f: LEGAL_FORMS[f][1])
    charts.append(c.chart("Organizzazioni mappate per forma giuridica",
                             both(bar_chart, [(LEGAL_FORMS[f][0], n) for f, n in ordered], "organizzazioni"),
                             c.reading("mappatura-forme-giuridiche", text),
                             "Grafico a barre: " + "; ".join(f"{LEGAL_FORMS[f][0]} {n}" for f, n in ordered)))
    # cooperative or not x emerging or traditional
    cross = Counter((bool(o["is_cooperative"]), o["profile"]) for o in mapped)
    coop = sum(n for (is_coop, _), n in cross.items() if is_coop)
    emerging = sum(n for (_, p), n in cross.items() if p == EMERGING)
    groups = [(True, "Cooperative e consorzi"), (False, "Altre organizzazioni")]
    text = (f"Le cooperative (comprese le cooperative sociali e i consorzi) sono {num(coop)} "
            f"su {num(total)} ({share(coop, total)}); gli attori emergenti sono "
            f"{num(emerging)} ({share(emerging, total)}).")
    for is_coop, name in groups:
        e, t = cross.get((is_coop, EMERGING), 0), cross.get((is_coop, TRADITIONAL), 0)
        who = "Tra le cooperative" if is_coop else "Tra le altre organizzazioni"
        if e + t == 0:
            continue
        if e > t:
            text += f" {who} prevale il profilo emergente ({num(e)} su {num(e + t)})."
        elif t > e:
            text += f" {who} prevale il profilo tradizionale ({num(t)} su {num(e + t)})."
        else:
            text += f" {who} emergenti e tradizionali si equivalgono ({num(e)} e {num(t)})."
    charts.append(c.chart(
        "Cooperative e non, attori emergenti e settori tradizionali",
        both(stacked_chart, [g for _, g in groups],
                      [(PROFILES[p][0], [cross.get((is_coop, p), 0) for is_coop, _ in groups])
                       for p in PROFILES], "organizzazioni", [ACCENT_2, ACCENT]),
        c.reading("mappatura-profili", text),
        "Grafico a barre sovrapposte: " + "; ".join(
            f"{g}: {plural(cross.get((is_coop, EMERGING), 0), 'emergente', 'emergenti')}, "
            f"{plural(cross.get((is_coop, TRADITIONAL), 0), 'tradizionale', 'tradizionali')}"
            for is_coop, g in groups)))
    # by theme
    by_theme = Counter(th for o in mapped for th in json_list(o["themes"]))
    counts = [(th["label"], by_theme.get(th["id"], 0)) for th in
              sorted(c.themes.values(), key=lambda th: th["label"].casefold())]
    ordered = sorted([x for x in counts if x[1]], key=lambda x: -x[1])
    if ordered:
        text = reading_distribution(
            counts, total, ("organizzazione", "organizzazioni"),
            ("il tema dichiarato più spesso è", "i temi dichiarati più spesso sono"),
            ("il meno dichiarato è", "i meno dichiarati sono"), name=quoted,
            missing="nessuna organizzazione dichiara il tema" if sum(
                1 for x in counts if not x[1]) == 1 else "nessuna organizzazione dichiara i temi",
            of=" delle organizzazioni", feminine=False)
        untagged = sum(1 for o in mapped if not json_list(o["themes"]))
        if untagged:
            text += (f" {plural(untagged, 'organizzazione non dichiara', 'organizzazioni non dichiarano')} "
                     "alcun tema.")
        charts.append(c.chart("Organizzazioni mappate per tema dichiarato",
                                 both(bar_chart, [(typo(l), n) for l, n in ordered], "organizzazioni"),
                                 c.reading("mappatura-temi", text),
                                 "Grafico a barre: " + "; ".join(f"{l} {n}" for l, n in ordered)))
    return {"total": total, "others": len(c.orgs) - total, "charts": charts,
            "coop": coop, "emerging": emerging}
