"""Ibridazioni possibili: the best emerging × traditional pairs, the collaborations already
under way and the organisations' network, as computed by :mod:`kb.hybrid` at build time and
stored in the public database (``hybrid_pairs``, ``hybrid_evidence``, ``organisation_network``).

Each pair is told with the findings behind it: the problem (or threat) one organisation raised
and the good practice of the other that answers it, quoted (shortened when long) with the page
where each is printed, so that the chapter reads on paper without the database."""

from __future__ import annotations

import json
import sqlite3

from ...domain.vocabulary import (
    EVIDENCE_ROLE_OF_KIND,
    FINAL,
    FINDING_KIND,
    PRACTICE,
    PROBLEM_KINDS,
    SYNERGY,
)
from ...store.database import connect_read_only
from ..charts import PROFILE_COLOURS, network_figures
from ..corpus import Corpus
from ..words import FEMININE_KINDS, join, name_with, num, plural, quoted, typo

PAIRS_SHOWN = 10
BRIDGES_SHOWN = 10
QUOTE_LENGTH = 200  # characters of a quoted finding, cut at a word
# An evidence role (problema, minaccia, pratica, sinergia) and the finding kind it stands for.
KIND_OF_ROLE = {role: kind for kind, role in EVIDENCE_ROLE_OF_KIND.items()}
PROBLEM_ROLES = {EVIDENCE_ROLE_OF_KIND[k] for k in PROBLEM_KINDS}


def role_words(role: str) -> str:
    """``Il problema``, ``La minaccia``, ``La buona pratica``, ``La sinergia``."""
    kind = KIND_OF_ROLE[role]
    return f"{'La' if kind in FEMININE_KINDS else 'Il'} {FINDING_KIND[kind].it}"


def pairs(conn: sqlite3.Connection, where: str, limit: int) -> list[dict]:
    """Pairs in rank order, with the organisations' names and their evidence rows."""
    rows = conn.execute(
        f"""select p.*, e.name as emerging_name, t.name as traditional_name
            from hybrid_pairs p join organisations e on e.id = p.emerging_id
            join organisations t on t.id = p.traditional_id
            where {where} order by p.rank, p.id limit ?""", (limit,))
    out = []
    for r in rows:
        row = dict(r)
        for key in ("shared_themes", "shared_events", "realised_by", "evidence_findings"):
            row[key] = json.loads(row[key] or "[]")
        row["roles"] = {f: (role, org) for f, role, org in conn.execute(
            "select finding_id, role, organisation_id from hybrid_evidence where pair_id = ?",
            (row["id"],))}
        out.append(row)
    return out


def bridges(conn: sqlite3.Connection, limit: int = BRIDGES_SHOWN) -> list[dict]:
    """The organisations that best join the two profiles (by betweenness)."""
    return [dict(r) for r in conn.execute(
        """select n.*, o.name from organisation_network n
           join organisations o on o.id = n.organisation_id
           where n.is_bridge = 1 order by n.betweenness desc, n.cross_profile_ties desc,
           n.organisation_id limit ?""", (limit,))]


def shorten(text: str, length: int = QUOTE_LENGTH) -> str:
    """``text`` cut at the last word that fits in ``length`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text.rstrip(".")
    cut = text[:length].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def quote(c: Corpus, finding_id: str, role: str, org_id: str) -> dict:
    """One finding as the chapter quotes it: who raised it where, its words, its page."""
    finding = c.findings_by_id.get(finding_id)
    who = c.org_name(org_id) if org_id else ""
    words = shorten(c.markdown.plain(finding["text"])) if finding else ""
    place = f" a {finding['city']}" if finding and finding["city"] else ""
    label = role_words(role)
    if role in PROBLEM_ROLES:  # il problema sollevato, la minaccia sollevata
        raised = "sollevata" if KIND_OF_ROLE[role] in FEMININE_KINDS else "sollevato"
        lead = f"{label} {raised} {name_with('da', who)}{place}" if who else label
    else:
        lead = f"{label} {name_with('di', who)}{place}" if who else label
    return {"id": finding_id, "lead": lead, "words": words, "role": role,
            "anchor": c.finding_anchor(finding_id),
            "url": c.finding_url(finding_id)}


def answers(c: Corpus, pair: dict) -> list[dict]:
    """The pair's problems (or threats) each with the practice that answers it, in the order
    kb.hybrid cites them (a problem, then its practice); then its synergies."""
    out, problem, last_practice = [], None, None
    for f in pair["evidence_findings"]:
        role, org = pair["roles"].get(f, ("", ""))
        if role in PROBLEM_ROLES:
            if problem and last_practice:  # a practice cited once answers two problems
                out.append({"question": problem, "answer": last_practice})
            problem = quote(c, f, role, org)
        elif role == EVIDENCE_ROLE_OF_KIND[PRACTICE]:
            last_practice = quote(c, f, role, org)
            if problem:
                out.append({"question": problem, "answer": last_practice})
                problem = None
        elif role == EVIDENCE_ROLE_OF_KIND[SYNERGY]:
            out.append({"together": quote(c, f, role, org)})
    if problem and last_practice:
        out.append({"question": problem, "answer": last_practice})
    return out


def meeting(c: Corpus, pair: dict) -> str:
    """What else the pair shares: ``Condividono i temi «A» e «B»; si sono incontrate a 2 tappe
    (Forlì e l’incontro finale).``"""
    labels = [quoted(typo(c.themes[t]["label"])) for t in pair["shared_themes"] if t in c.themes]
    parts = []
    if labels:
        parts.append(f"condividono {'il tema' if len(labels) == 1 else 'i temi'} {join(labels)}")
    events = {e["id"]: e for e in c.events}
    met = [events[e] for e in pair["shared_events"] if e in events]
    if met:
        names = join("l’incontro finale" if e["kind"] == FINAL else e["city"] for e in met)
        parts.append(f"si sono incontrate {'a un incontro' if len(met) == 1 else f'a {num(len(met))} incontri'}"
                     f" ({names})")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def chapter(c: Corpus) -> dict:
    """Keys: ``answered`` (the best pairs with an answer, each with its quotes), ``others`` (the
    best pairs that share themes and events only), ``realised``, ``bridges``, ``counts``,
    ``text`` and ``figure`` (the network, or ``None``)."""
    conn = connect_read_only(c.public_db)
    conn.row_factory = sqlite3.Row
    try:
        counts = dict(conn.execute("select realised, count(*) from hybrid_pairs group by realised")
                      .fetchall())
        answered = pairs(conn, "p.realised = 0 and p.answers > 0", PAIRS_SHOWN)
        others = pairs(conn, "p.realised = 0 and p.answers = 0", PAIRS_SHOWN)
        realised = pairs(conn, "p.realised = 1", PAIRS_SHOWN)
        top_bridges = bridges(conn)
        drawn, organisations = conn.execute(
            "select sum(degree > 0), count(*) from organisation_network").fetchone()
    finally:
        conn.close()
    initiatives = {i["id"]: typo(i["title"]) for i in c.tables.get("initiatives", [])}
    for p in answered + others + realised:
        p["emerging_name"], p["traditional_name"] = typo(p["emerging_name"]), typo(p["traditional_name"])
        p["answers"] = answers(c, p)
        p["meeting"] = meeting(c, p)
        p["theme_labels"] = [typo(c.themes[t]["label"]) for t in p["shared_themes"] if t in c.themes]
        p["initiatives"] = [initiatives[w["id"]] for w in p["realised_by"]
                            if w.get("table") == "initiatives" and w.get("id") in initiatives]
        p["reason"] = typo(p["reason"])
    for b in top_bridges:
        b["name"] = typo(b["name"])
        b["betweenness"] = f"{b['betweenness']:.3f}".replace(".", ",")
    n_candidates, n_realised = counts.get(0, 0), counts.get(1, 0)
    if not (n_candidates or n_realised):
        return {"answered": [], "others": [], "realised": [], "bridges": [], "text": "",
                "counts": {"candidates": 0, "realised": 0}, "figure": None}
    text = (f"Le coppie tra un attore emergente e un’organizzazione tradizionale che potrebbero "
            f"completarsi sono {num(n_candidates)}; "
            + (f"altre {num(n_realised)} collaborano già" if n_realised != 1 else
               "un’altra collabora già")
            + ", in una sinergia raccolta nelle note o in una nuova iniziativa. Il punteggio "
            "somma i temi in comune, i problemi o le minacce sollevati dall’una a cui risponde "
            "una buona pratica dell’altra sullo stesso tema (con testi simili) e gli incontri a "
            "cui hanno partecipato entrambe. Per ogni coppia sono citati i risultati da cui "
            "nasce, con la pagina in cui si trovano in questo rapporto.")
    network_text = (
        f"Sono disegnate le {plural(drawn or 0, 'organizzazione', 'organizzazioni')} che hanno "
        f"almeno un legame, su {num(organisations)}: due organizzazioni sono legate quando "
        "compaiono nello stesso risultato o nella stessa sessione. Il colore indica il profilo "
        "(arancione gli attori emergenti, verde petrolio i settori tradizionali, come negli "
        "altri grafici), la grandezza del punto il numero dei legami; in viola i legami tra i "
        "due profili. Sono nominate le organizzazioni con la maggiore intermediazione, cioè "
        "quelle che stanno più spesso sul percorso più breve tra altre due.")
    if top_bridges:
        network_text += (f" Fanno più da ponte tra i due mondi "
                         f"{join(b['name'] for b in top_bridges[:3])}.")
    figure = None
    if drawn:
        figure = c.chart(
            "La rete delle organizzazioni", network_figures(c.public_db),
            c.reading("ibridazioni-rete", network_text),
            f"Rete di {plural(drawn, 'organizzazione', 'organizzazioni')}: punti arancioni per "
            "gli attori emergenti, verde petrolio per i settori tradizionali, in viola i legami "
            "tra i due profili." + (f" Le più centrali: {join(b['name'] for b in top_bridges[:3])}."
                                    if top_bridges else ""))
    return {
        "answered": answered, "others": others, "realised": realised, "bridges": top_bridges,
        "counts": {"candidates": n_candidates, "realised": n_realised},
        "text": text, "figure": figure, "colours": PROFILE_COLOURS,
    }
