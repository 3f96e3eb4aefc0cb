"""Ibridazioni possibili: the best emerging × traditional pairs, the collaborations already
under way and the organisations' network, as computed by :mod:`kb.hybrid` at build time and
stored in the public database (``hybrid_pairs``, ``organisation_network``)."""

from __future__ import annotations

import base64
import json
import sqlite3

from ...store import connect_read_only
from ..charts import network_svg
from ..corpus import Corpus
from ..words import join, typo

PAIRS_SHOWN = 10


def top_pairs(conn: sqlite3.Connection, limit: int = PAIRS_SHOWN, realised: bool = False) -> list[dict]:
    """The best candidate (or realised) pairs, with the organisations' names."""
    rows = conn.execute(
        """select p.*, e.name as emerging_name, t.name as traditional_name
           from hybrid_pairs p join organisations e on e.id = p.emerging_id
           join organisations t on t.id = p.traditional_id
           where p.realised = ? order by p.rank limit ?""", (int(realised), limit))
    out = []
    for r in rows:
        row = dict(r)
        for key in ("shared_themes", "shared_events", "realised_by", "evidence_findings"):
            row[key] = json.loads(row[key] or "[]")
        out.append(row)
    return out


def bridges(conn: sqlite3.Connection, limit: int = PAIRS_SHOWN) -> list[dict]:
    """The organisations that best join the two profiles (by betweenness)."""
    return [dict(r) for r in conn.execute(
        """select n.*, o.name from organisation_network n
           join organisations o on o.id = n.organisation_id
           where n.is_bridge = 1 order by n.betweenness desc, n.cross_profile_ties desc,
           n.organisation_id limit ?""", (limit,))]


def chapter(c: Corpus) -> dict:
    """Keys: ``pairs`` and ``realised`` (the best of each, with names, reason, themes and
    ``evidence`` as ``{id, url}``), ``bridges``, ``counts``, ``text`` (the chapter's reading)
    and ``figure`` (the network, or ``None``)."""
    conn = connect_read_only(c.public_db)
    conn.row_factory = sqlite3.Row
    try:
        counts = dict(conn.execute("select realised, count(*) from hybrid_pairs group by realised")
                      .fetchall())
        pairs, realised = top_pairs(conn), top_pairs(conn, realised=True)
        top_bridges = bridges(conn)
    finally:
        conn.close()
    themes = {t: th["label"] for t, th in c.themes.items()}
    for p in pairs + realised:
        p["evidence"] = [{"id": f, "url": c.finding_url(f)} for f in p["evidence_findings"]]
        p["theme_labels"] = [themes.get(t, t) for t in p["shared_themes"]]
        p["reason"] = typo(p["reason"])
    n_candidates, n_realised = counts.get(0, 0), counts.get(1, 0)
    text = (f"Le coppie tra un attore emergente e un’organizzazione tradizionale che potrebbero "
            f"completarsi sono {n_candidates}; altre {n_realised} collaborano già, in una sinergia "
            "raccolta nelle note o in una nuova iniziativa. Il punteggio somma i temi in comune, "
            "i problemi o le minacce sollevati dall’una a cui risponde una buona pratica "
            "dell’altra sullo stesso tema (con testi simili) e le tappe a cui hanno partecipato "
            "entrambe. Ogni motivo cita i risultati da cui nasce.")
    network_text = ""
    if top_bridges:
        names = join([b["name"] for b in top_bridges[:3]])
        network_text = (f"Le organizzazioni sono legate quando compaiono nello stesso risultato o "
                        f"nella stessa sessione. Fanno più da ponte tra i due mondi {names}.")
    svg = network_svg(c.public_db)
    figure = c.chart(
        "La rete delle organizzazioni",
        "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        c.reading("ibridazioni-rete", network_text),
        "Rete delle organizzazioni: nodi arancioni per gli attori emergenti, blu per i settori "
        "tradizionali, in viola i legami tra i due profili.")
    return {
        "pairs": pairs, "realised": realised, "bridges": top_bridges,
        "counts": {"candidates": n_candidates, "realised": n_realised},
        "text": text, "figure": figure,
    }
