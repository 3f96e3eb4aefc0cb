"""Ibridazioni possibili: the best emerging × traditional pairs, the collaborations already
under way and the organisations' network, as computed by :mod:`kb.hybrid` at build time and
stored in the public database (``hybrid_pairs``, ``hybrid_evidence``, ``organisation_network``).

Each pair is told with the findings behind it: the problem (or threat) one organisation raised
and the good practice of the other that answers it, quoted (shortened when long) with the page
where each is printed, so that the chapter reads on paper without the database. A quote is
introduced by who raised or told the finding and whom it only cites (``finding_organisations``),
never by the pair member it is listed under; a practice already quoted for a better-ranked pair
is pointed to, not quoted again. The programme's organisers and staff are in no pair and no
bridge (:mod:`kb.hybrid`): they appear only as the source of a quoted finding."""

from __future__ import annotations

import json
import sqlite3

from ...domain.dictionary import HYBRID_SCORE
from ...domain.italian import with_article
from ...domain.vocabulary import (
    EVIDENCE_ROLE_OF_KIND,
    FINDING_KIND,
    ORGANISER,
    PRACTICE,
    PROBLEM,
    PROBLEM_KINDS,
    SOURCE,
    SYNERGY,
)
from ...store.database import connect_read_only
from ..charts import PROFILE_COLOURS, network_figures
from ..corpus import Corpus
from ..words import FEMININE_KINDS, join, join_some, name_with, num, plural, quoted, typo

# The chapter keeps a readable length whatever the corpus: at most these many pairs of each
# kind, quoted answers per pair, themes and meetings named per pair (the rest are counted,
# and the pair's row in the database lists them all).
PAIRS_SHOWN = 10
BRIDGES_SHOWN = 10
ANSWERS_SHOWN = 3
THEMES_NAMED = 5
MEETINGS_NAMED = 3
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


# How a finding of each role came to the notes: the problem raised, the threat pointed out, the
# practice or synergy told (by its source).
TOLD = {PROBLEM: "sollevato", "threat": "segnalata", PRACTICE: "raccontata", SYNERGY: "raccontata"}


def quote(c: Corpus, finding_id: str, role: str, members: tuple[str, ...]) -> dict:
    """One finding as the chapter quotes it: who raised or told it where, the pair's members it
    only cites, its words, its page. ``members``: the pair's organisations."""
    finding = c.findings_by_id.get(finding_id)
    words = shorten(c.markdown.plain(finding["text"])) if finding else ""
    place = f" a {finding['city']}" if finding and finding["city"] else ""
    kind = KIND_OF_ROLE[role]
    named = {r["organisation_id"]: r["role"] for r in c.roles_by_finding.get(finding_id, [])}
    sources = sorted((o for o, r in named.items() if r == SOURCE), key=c.org_name)
    label = role_words(role)
    verb = TOLD.get(kind, "raccolta" if kind in FEMININE_KINDS else "raccolto")
    if sources:
        lead = f"{label} {verb} {join(name_with('da', c.org_name(o)) for o in sources)}{place}"
    else:  # no source marked in the notes: where it was noted, and whom it names
        lead = f"{label} annotat{'a' if kind in FEMININE_KINDS else 'o'}{place}"
    cited = [m for m in members if m in named and m not in sources]
    if cited:
        lead += f", che cita {join(with_article(c.org_name(m)) for m in cited)}"
    return {"id": finding_id, "lead": lead, "words": words, "role": role, "again": None,
            "anchor": c.finding_anchor(finding_id),
            "url": c.finding_url(finding_id)}


def answers(c: Corpus, pair: dict, quoted_before: dict[str, int] | None = None) -> list[dict]:
    """The pair's problems (or threats) each with the practice that answers it, in the order
    kb.hybrid cites them (a problem, then its practice); then its synergies. A practice already
    quoted for the pair numbered ``quoted_before[id]`` says so (``again``) instead."""
    out, problem, last_practice = [], None, None
    members = (pair["emerging_id"], pair["traditional_id"])
    for f in pair["evidence_findings"]:
        role = pair["roles"].get(f, ("", ""))[0]
        if role in PROBLEM_ROLES:
            if problem and last_practice:  # a practice cited once answers two problems
                out.append({"question": problem, "answer": last_practice})
            problem = quote(c, f, role, members)
        elif role == EVIDENCE_ROLE_OF_KIND[PRACTICE]:
            last_practice = quote(c, f, role, members)
            last_practice["again"] = (quoted_before or {}).get(f)
            if problem:
                out.append({"question": problem, "answer": last_practice})
                problem = None
        elif role == EVIDENCE_ROLE_OF_KIND[SYNERGY]:
            out.append({"together": quote(c, f, role, members)})
    if problem and last_practice:
        out.append({"question": problem, "answer": last_practice})
    return out


def _shown(c: Corpus, pair: dict, found: list[dict]) -> None:
    """The pair's first ANSWERS_SHOWN answers (``answers``), how many more it has
    (``more_answers``) and its row in the database, which lists them all (``url``)."""
    pair["answers"], pair["more_answers"] = found[:ANSWERS_SHOWN], max(0, len(found) - ANSWERS_SHOWN)
    pair["url"] = f"{c.base_url}/cotour/hybrid_pairs/{pair['id']}"


def meeting(c: Corpus, pair: dict) -> str:
    """What else the pair shares: ``Condividono i temi «A» e «B»; si sono incontrate a Forlì e
    all’incontro finale di Bologna.``, or ``…; non si sono ancora incontrate a una tappa.``"""
    labels = [quoted(typo(c.themes[t]["label"])) for t in pair["shared_themes"] if t in c.themes]
    parts = []
    if labels:
        parts.append(f"condividono {'il tema' if len(labels) == 1 else 'i temi'} "
                     + join_some(labels, THEMES_NAMED, "altro tema", "altri temi"))
    met = [c.events_by_id[e] for e in pair["shared_events"] if e in c.events_by_id]
    if met:
        parts.append("si sono incontrate " + join_some([c.event_place(e, 'a') for e in met],
                                                     MEETINGS_NAMED, "altro incontro",
                                                     "altri incontri"))
    else:
        parts.append("non si sono ancora incontrate a una tappa del tour")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."




def chapter(c: Corpus) -> dict:
    """Keys: ``answered`` (the best pairs with an answer, each with its quotes), ``others`` (the
    best pairs that share themes and events only), ``realised``, ``bridges``, ``counts``,
    ``text`` and ``figure`` (the network, or ``None``).

    Long on purpose: the chapter's parts read in its order from one connection.
    """
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
            "select sum(n.degree > 0 and o.programme_role is null), "
            "sum(o.programme_role is null) "
            "from organisation_network n join organisations o on o.id = n.organisation_id"
        ).fetchone()
        staff = conn.execute("select name, programme_role from organisations "
                             "where programme_role is not null order by name").fetchall()
    finally:
        conn.close()
    initiatives = {i["id"]: typo(i["title"]) for i in c.tables.get("initiatives", [])}
    quoted_before: dict[str, int] = {}  # practice -> the number of the pair that quotes it
    for number, p in enumerate(answered, 1):
        _shown(c, p, answers(c, p, quoted_before))
        for a in p["answers"]:
            if "answer" in a:
                quoted_before.setdefault(a["answer"]["id"], number)
    for p in answered + others + realised:
        p["emerging_name"], p["traditional_name"] = typo(p["emerging_name"]), typo(p["traditional_name"])
        if p not in answered:
            _shown(c, p, answers(c, p))
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
            "cui hanno partecipato entrambe; una coppia che non si è ancora incontrata conta "
            "per quello che ha. Perché le prime coppie poggino su risultati diversi, nella "
            "classifica una risposta il cui problema o la cui buona pratica sono già alla base "
            "di una coppia più in alto conta "
            + ("la metà" if HYBRID_SCORE.reuse_factor == 0.5 else
               f"{num(HYBRID_SCORE.reuse_factor)} volte")
            + ", e così di nuovo a ogni ripetizione. Per ogni coppia sono citati i risultati "
            "da cui nasce, introdotti da chi li ha sollevati o raccontati, con la pagina in cui "
            "si trovano in questo rapporto.")
    if staff:
        names = [typo(name) for name, _ in staff]
        who = ("Gli organizzatori" if all(r == ORGANISER for _, r in staff) else
               "Gli organizzatori e lo staff") if len(names) > 1 else (
               "L’organizzatore" if staff[0][1] == ORGANISER else "Lo staff")
        text += (f" {who} del programma "
                 f"({join(names)}) non {'compaiono' if len(names) > 1 else 'compare'} tra le "
                 "coppie né tra i ponti: hanno condotto tutti gli incontri, e averli incontrati "
                 "non dice nulla di un’affinità; restano soltanto come fonte dei risultati citati.")
    network_text = (
        f"Sono disegnate le {plural(drawn or 0, 'organizzazione', 'organizzazioni')} che hanno "
        f"almeno un legame, su {num(organisations)}: due organizzazioni sono legate quando "
        "compaiono nello stesso risultato o nella stessa sessione. Il colore indica il profilo "
        "(arancione gli attori emergenti, verde petrolio i settori tradizionali, come negli "
        "altri grafici), la grandezza del punto il numero dei legami; in viola i legami tra i "
        "due profili. Sono nominate le organizzazioni della tabella che segue, quelle che fanno "
        "più da ponte tra i due profili, per intermediazione: quanto spesso stanno sul percorso "
        "più breve tra altre due."
        + (" Gli organizzatori non sono disegnati: hanno condotto tutti gli incontri, e i "
           "legami con loro non dicono chi unisce i due mondi." if staff else ""))
    if top_bridges:
        network_text += (f" Fanno più da ponte tra i due mondi "
                         f"{join(b['name'] for b in top_bridges[:3])}.")
    figure = None
    if drawn:
        figure = c.chart(
            "La rete delle organizzazioni",
            network_figures(c.public_db, [b["organisation_id"] for b in top_bridges]),
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
