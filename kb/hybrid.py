"""Ibridazioni possibili: where new emerging actors and the traditional sectors complete each other.

Everything here reads the **public database** only, so no internal note, no internal finding and
no personal field can surface in a reason. From it come three tables (described in
:mod:`kb.dictionary`):

``hybrid_pairs``
    one row per (emerging organisation, traditional organisation) pair worth a look, with a
    score, the evidence and a plain Italian reason. Pairs already joined — both named in a
    *synergy* finding, or both taking part in an initiative — are kept apart as ``realised``.
``hybrid_evidence``
    the findings behind each pair, one row each, so they are one click away in Datasette.
``organisation_network``
    the organisations as a network (co-mention in findings, co-participation in notes) with
    degree, betweenness and the ties that cross the two profiles.

The evidence for a pair (E emerging, T traditional):

* **shared themes** — the themes each declared in the mapping plus those of the findings it
  raised or is mentioned in;
* **answers** — a problem or threat one of them *raised* (role ``source``) and a good practice
  of the other (as source or mentioned) on a common theme, whose texts resemble each other:
  cosine similarity of TF-IDF vectors (scikit-learn) over the Italian-stemmed text
  (:func:`kb.search.stem_text`), mentions, tags and function words left out. An answer counts
  when the similarity is at least :data:`MIN_SIMILARITY`; for each problem only its best
  practice counts, and only the pair's :data:`MAX_ANSWERS` best answers; a practice that only
  *mentions* the answering organisation counts :data:`MENTIONED_FACTOR` as much as its own;
* **events together** — events where both took part in a session or were named in a finding.

The score is the weighted sum::

    score = W_THEME  * min(shared themes, MAX_THEMES)
          + sum over the best answers of (W_ANSWER + W_SIMILARITY * similarity)
                                         (times MENTIONED_FACTOR if only mentioned)
          + W_EVENT  * min(events together, MAX_EVENTS)

A pair is kept when it is realised, has an answer, or shares a theme *and* an event; then only
each organisation's :data:`PAIRS_PER_ORGANISATION` best pairs stay (realised ones always do).
Ties are broken by the pair id, so the same input always gives the same ranking.
"""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from .normalise import MENTION, NOT_TAG_SPANS, TAG
from .public import derive_public
from .search import stem_words
from .store import Progress, _noop, write_rows

# scikit-learn, SciPy, NumPy, networkx and matplotlib are imported where they are used: they
# take a second to load, which every other command of the CLI would otherwise pay.

# The weights of the score (see the module's docstring).
W_THEME = 0.5
W_ANSWER = 1.0
W_SIMILARITY = 10.0
W_EVENT = 0.5
MAX_THEMES = 4
MAX_ANSWERS = 3
ANSWERS_IN_REASON = 2
MAX_EVENTS = 3
MIN_SIMILARITY = 0.05
MENTIONED_FACTOR = 0.5  # an answer through a practice that only mentions the organisation
PAIRS_PER_ORGANISATION = 20
# Betweenness is exact up to this many organisations, then estimated from a fixed sample.
EXACT_BETWEENNESS_NODES = 500
BETWEENNESS_SAMPLE = 64
SEED = 2015

EMERGING, TRADITIONAL = "emergente", "tradizionale"
PROBLEM_KINDS = ("problem", "threat")
KIND_NAMES = {"problem": ("il problema", "sollevato"), "threat": ("la minaccia", "segnalata")}
EVIDENCE_ROLES = {"problem": "problema", "threat": "minaccia", "practice": "pratica",
                  "synergy": "sinergia"}

# Italian function words, and the verbs and words of any meeting note ("racconta", "gestisce",
# "cooperativa sociale"), left out of the similarity (stemmed like the text).
_STOP_WORDS = """
a ad agli ai al all alla alle allo anche ancora altri altra altre altro anni anno avere c che chi
ci cio come con cosa cui d da dagli dai dal dall dalla dalle dallo degli dei del dell della delle
dello di dove due e ed era essere fa fare fra gia gli ha hanno i il in l la le lo loro ma mai ne
negli nei nel nell nella nelle nello noi non nostra nostro o ogni per perche piu poco poi proprio
qualche quando quanto quella quelle quelli quello questa queste questi questo se si sia solo sono
stessa stesso su sua sue sugli sui sul sull sulla sulle suo suoi tra tre tutte tutti tutto un una
uno volta
raccontare racconta raccontato spiegare spiegato mostrare mostrato gestire gestisce gestito
senza fare fatto avere riuscire riesce volere vuole potere puo dovere deve chiedere chiede
piccolo piccola piccoli piccole grande primo prima parte modo tempo oggi cooperativa cooperative
sociale sociali
"""
STOP_STEMS = frozenset(stem_words(_STOP_WORDS))


# --------------------------------------------------------------------------- reading


@dataclass
class Evidence:
    """What the public database says, in the shape the computation needs."""

    organisations: dict[str, dict]  # id -> {name, profile, province, municipality}
    themes: dict[str, str]  # id -> Italian label
    events: dict[str, dict]  # id -> {city, kind, date}
    findings: dict[str, dict]  # id -> {kind, text, event_id, city, themes: set}
    sources: dict[str, list[str]]  # finding id -> organisations that raised it
    involved: dict[str, list[str]]  # finding id -> organisations named (any role)
    org_themes: dict[str, set[str]] = field(default_factory=dict)
    org_events: dict[str, set[str]] = field(default_factory=dict)
    note_participants: dict[str, list[str]] = field(default_factory=dict)  # note -> orgs
    initiatives: dict[str, dict] = field(default_factory=dict)  # id -> {title, status, orgs}


def read_evidence(public_db: Path | str) -> Evidence:
    """Read what the computation needs from the public database (read-only)."""
    conn = sqlite3.connect(f"file:{Path(public_db)}?mode=ro", uri=True)
    try:
        q = conn.execute
        organisations = {
            r[0]: {"name": r[1], "profile": r[2], "province": r[3], "municipality": r[4]}
            for r in q("select id, name, profile, province, municipality from organisations "
                       "order by id")}
        themes = dict(q("select id, label from themes order by id"))
        events = {r[0]: {"city": r[1], "kind": r[2], "date": r[3]}
                  for r in q("select id, city, kind, date from events order by id")}
        findings = {r[0]: {"kind": r[1], "text": r[2], "event_id": r[3], "city": r[4],
                           "themes": set()}
                    for r in q("select id, kind, text, event_id, city from findings order by id")}
        for finding_id, theme_id in q("select finding_id, theme_id from finding_themes"):
            findings[finding_id]["themes"].add(theme_id)
        sources: dict[str, list[str]] = defaultdict(list)
        involved: dict[str, list[str]] = defaultdict(list)
        for finding_id, org, role in q("select finding_id, organisation_id, role from "
                                       "finding_organisations order by finding_id, organisation_id"):
            involved[finding_id].append(org)
            if role == "source":
                sources[finding_id].append(org)
        ev = Evidence(organisations, themes, events, findings, dict(sources), dict(involved))
        ev.org_themes = {org: set() for org in organisations}
        ev.org_events = {org: set() for org in organisations}
        for org, theme in q("select organisation_id, theme_id from organisation_themes"):
            ev.org_themes[org].add(theme)
        for finding_id, orgs in involved.items():
            for org in orgs:
                ev.org_themes[org] |= findings[finding_id]["themes"]
                ev.org_events[org].add(findings[finding_id]["event_id"])
        participants: dict[str, list[str]] = defaultdict(list)
        for note_id, event_id, org in q(
                "select np.note_id, n.event_id, np.organisation_id from note_participants np "
                "join notes n on n.id = np.note_id order by np.note_id, np.organisation_id"):
            participants[note_id].append(org)
            ev.org_events[org].add(event_id)
        ev.note_participants = dict(participants)
        ev.initiatives = {r[0]: {"title": r[1], "status": r[2], "organisations": []}
                          for r in q("select id, title, status from initiatives order by id")}
        for initiative_id, org in q("select initiative_id, organisation_id from "
                                    "initiative_organisations order by initiative_id, organisation_id"):
            ev.initiatives[initiative_id]["organisations"].append(org)
        return ev
    finally:
        conn.close()


# --------------------------------------------------------------------------- similarity


def plain_words(text: str) -> list[str]:
    """A finding's stems for the similarity: mentions, tags, links and function words out."""
    text = MENTION.sub(" ", text)
    text = NOT_TAG_SPANS.sub(" ", text)
    text = TAG.sub(" ", text)
    return [s for s in stem_words(text) if s not in STOP_STEMS and not s.isdigit()]


@dataclass(frozen=True, order=True)
class Answer:
    """A problem or threat raised by one organisation, answered by the other's practice."""

    similarity: float
    problem_id: str
    practice_id: str
    raised_by: str
    answered_by: str
    answered_as_source: bool  # the practice is the answering organisation's own

    @property
    def weight(self) -> float:
        """What the answer adds to the score."""
        weight = W_ANSWER + W_SIMILARITY * self.similarity
        return weight if self.answered_as_source else MENTIONED_FACTOR * weight


def answers(ev: Evidence, per_problem: int = 20) -> list[Answer]:
    """Every (problem or threat, practice) match across the two profiles on a common theme.

    TF-IDF is fitted on every public finding; for each problem only its ``per_problem`` most
    similar practices on a common theme are considered, so the work stays bounded.
    """
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = sorted(ev.findings)
    if not ids:
        return []
    vectorizer = TfidfVectorizer(analyzer=plain_words, sublinear_tf=True, dtype=np.float64)
    try:
        matrix = vectorizer.fit_transform([ev.findings[i]["text"] for i in ids]).tocsr()
    except ValueError:  # no words at all
        return []
    row = {finding_id: n for n, finding_id in enumerate(ids)}
    problems = [i for i in ids if ev.findings[i]["kind"] in PROBLEM_KINDS and ev.sources.get(i)]
    practices = [i for i in ids if ev.findings[i]["kind"] == "practice" and ev.involved.get(i)]
    if not problems or not practices:
        return []
    theme_ids = {t: n for n, t in enumerate(sorted(ev.themes))}

    def theme_matrix(findings: list[str]) -> sparse.csr_matrix:
        cells = [(r, theme_ids[t]) for r, f in enumerate(findings)
                 for t in sorted(ev.findings[f]["themes"]) if t in theme_ids]
        data = np.ones(len(cells))
        rows = [c[0] for c in cells]
        cols = [c[1] for c in cells]
        return sparse.csr_matrix((data, (rows, cols)), shape=(len(findings), len(theme_ids)))

    practice_vectors = matrix[[row[p] for p in practices]].T.tocsc()
    practice_themes = theme_matrix(practices).T.tocsc()
    problem_themes = theme_matrix(problems)
    found: list[Answer] = []
    chunk = 2000
    for start in range(0, len(problems), chunk):
        block = problems[start:start + chunk]
        sims = (matrix[[row[p] for p in block]] @ practice_vectors).tocsr()
        common = (problem_themes[start:start + chunk] @ practice_themes).tocsr()
        sims = sims.multiply(common > 0).tocsr()
        for r, problem in enumerate(block):
            lo, hi = sims.indptr[r], sims.indptr[r + 1]
            cols, vals = sims.indices[lo:hi], sims.data[lo:hi]
            keep = [(round(float(v), 4), practices[c]) for c, v in zip(cols, vals)
                    if v >= MIN_SIMILARITY]
            keep.sort(key=lambda x: (-x[0], x[1]))
            for similarity, practice in keep[:per_problem]:
                for raiser in ev.sources[problem]:
                    profile = ev.organisations[raiser]["profile"]
                    for other in ev.involved[practice]:
                        if ev.organisations[other]["profile"] not in (profile, None):
                            found.append(Answer(similarity, problem, practice, raiser, other,
                                                other in ev.sources.get(practice, [])))
    return found


# --------------------------------------------------------------------------- pairs


def pair_id(emerging: str, traditional: str) -> str:
    """Stable and readable: organisation ids are slugs, which never hold ``--``."""
    return f"{emerging}--{traditional}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " e " + items[-1]


def _at(city: str | None) -> str:
    return f" a {city}" if city else ""


def _event_name(event: dict) -> str:
    return "l'incontro finale" if event["kind"] == "finale" else event["city"]


def reason(ev: Evidence, shared_themes: list[str], best: list[Answer], shared_events: list[str],
           realised_by: list[dict]) -> str:
    """The plain Italian sentence that explains a pair, naming its themes and findings."""
    parts = []
    if realised_by:
        ways = []
        for r in realised_by:
            if r["table"] == "initiatives":
                ways.append(f"nell'iniziativa «{ev.initiatives[r['id']]['title']}» "
                            f"({ev.initiatives[r['id']]['status']})")
            else:
                ways.append(f"in una sinergia{_at(ev.findings[r['id']]['city'])} "
                            f"(risultato {r['id']})")
        parts.append("Collaborano già " + _join(ways))
    labels = [ev.themes[t] for t in shared_themes]
    if len(labels) == 1:
        parts.append(f"condividono il tema {labels[0]}")
    elif len(labels) > 5:
        parts.append(f"condividono i temi {', '.join(labels[:4])} e altri {len(labels) - 4}")
    elif labels:
        parts.append(f"condividono i temi {_join(labels)}")
    for a in best[:ANSWERS_IN_REASON]:
        problem, practice = ev.findings[a.problem_id], ev.findings[a.practice_id]
        what, verb = KIND_NAMES[problem["kind"]]
        parts.append(
            f"{what} {verb} da {ev.organisations[a.raised_by]['name']}{_at(problem['city'])} "
            f"(risultato {a.problem_id}) trova risposta "
            + ("nella buona pratica di " if a.answered_as_source else
               "in una buona pratica che coinvolge ")
            + f"{ev.organisations[a.answered_by]['name']}{_at(practice['city'])} "
            f"(risultato {a.practice_id})")
    if shared_events:
        places = _join([_event_name(ev.events[e]) for e in shared_events])
        n = len(shared_events)
        parts.append(f"si sono incontrate {'a una tappa' if n == 1 else f'a {n} tappe'} ({places})")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def _event_order(ev: Evidence, event_id: str) -> tuple:
    return (ev.events[event_id]["date"] or "9999", event_id)


def compute_pairs(ev: Evidence) -> tuple[list[dict], list[dict]]:
    """``(hybrid_pairs rows, hybrid_evidence rows)``, candidates ranked first, then realised."""
    orgs = ev.organisations
    emerging = sorted(o for o, r in orgs.items() if r["profile"] == EMERGING)
    traditional = sorted(o for o, r in orgs.items() if r["profile"] == TRADITIONAL)

    def orient(a: str, b: str) -> tuple[str, str] | None:
        pa, pb = orgs[a]["profile"], orgs[b]["profile"]
        if pa == EMERGING and pb == TRADITIONAL:
            return a, b
        if pa == TRADITIONAL and pb == EMERGING:
            return b, a
        return None

    # Realised: both named in a synergy finding, or both in an initiative.
    realised: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for finding_id in sorted(ev.findings):
        if ev.findings[finding_id]["kind"] != "synergy":
            continue
        for a, b in itertools.combinations(sorted(set(ev.involved.get(finding_id, []))), 2):
            if key := orient(a, b):
                realised[key].append({"table": "findings", "id": finding_id})
    for initiative_id, initiative in sorted(ev.initiatives.items()):
        for a, b in itertools.combinations(sorted(set(initiative["organisations"])), 2):
            if key := orient(a, b):
                realised[key].append({"table": "initiatives", "id": initiative_id})

    # Answers, the best practice per problem, grouped by pair.
    best_per_problem: dict[tuple[str, str], dict[str, Answer]] = defaultdict(dict)
    for a in answers(ev):
        key = orient(a.raised_by, a.answered_by)
        current = best_per_problem[key].get(a.problem_id)
        if current is None or (-a.weight, a.practice_id) < (-current.weight, current.practice_id):
            best_per_problem[key][a.problem_id] = a

    # Candidate pairs: those with any evidence beyond a theme alone.
    by_event: dict[str, set[str]] = defaultdict(set)
    for org, events in ev.org_events.items():
        for e in events:
            by_event[e].add(org)
    keys = set(realised) | set(best_per_problem)
    for members in by_event.values():
        for e_org in sorted(m for m in members if orgs[m]["profile"] == EMERGING):
            for t_org in sorted(m for m in members if orgs[m]["profile"] == TRADITIONAL):
                if ev.org_themes[e_org] & ev.org_themes[t_org]:
                    keys.add((e_org, t_org))

    rows = []
    for e_org, t_org in sorted(keys):
        shared = sorted(ev.org_themes[e_org] & ev.org_themes[t_org], key=lambda t: (ev.themes[t], t))
        best = sorted(best_per_problem.get((e_org, t_org), {}).values(),
                      key=lambda a: (-a.weight, a.problem_id, a.practice_id))[:MAX_ANSWERS]
        events = sorted(ev.org_events[e_org] & ev.org_events[t_org], key=lambda e: _event_order(ev, e))
        realised_by = realised.get((e_org, t_org), [])
        score = (W_THEME * min(len(shared), MAX_THEMES)
                 + sum(a.weight for a in best)
                 + W_EVENT * min(len(events), MAX_EVENTS))
        evidence = []
        for a in best:
            evidence += [a.problem_id, a.practice_id]
        evidence += [r["id"] for r in realised_by if r["table"] == "findings"]
        rows.append({
            "id": pair_id(e_org, t_org),
            "emerging_id": e_org,
            "traditional_id": t_org,
            "score": round(score, 4),
            "shared_themes": json.dumps(shared),
            "answers": len(best_per_problem.get((e_org, t_org), {})),
            "best_similarity": max(a.similarity for a in best) if best else None,
            "events_together": len(events),
            "shared_events": json.dumps(events),
            "realised": int(bool(realised_by)),
            "realised_by": json.dumps(realised_by),
            "reason": reason(ev, shared, best, events, realised_by),
            "evidence_findings": json.dumps(list(dict.fromkeys(evidence))),
        })
    rows.sort(key=lambda r: (r["realised"], -r["score"], r["id"]))

    # Each organisation keeps its best pairs; realised pairs always stay.
    kept, count = [], defaultdict(int)
    for r in rows:
        e_org, t_org = r["emerging_id"], r["traditional_id"]
        if r["realised"] or count[e_org] < PAIRS_PER_ORGANISATION or count[t_org] < PAIRS_PER_ORGANISATION:
            kept.append(r)
            count[e_org] += 1
            count[t_org] += 1
    ranks = defaultdict(int)
    for r in kept:
        ranks[r["realised"]] += 1
        r["rank"] = ranks[r["realised"]]

    evidence_rows = {}
    for r in kept:
        for finding_id in json.loads(r["evidence_findings"]):
            kind = ev.findings[finding_id]["kind"]
            org = next((o for o in (r["emerging_id"], r["traditional_id"])
                        if o in ev.involved.get(finding_id, [])), None)
            evidence_rows[(r["id"], finding_id)] = {
                "pair_id": r["id"], "finding_id": finding_id, "role": EVIDENCE_ROLES[kind],
                "organisation_id": org}
    return kept, [evidence_rows[k] for k in sorted(evidence_rows)]


# --------------------------------------------------------------------------- network


def network(ev: Evidence) -> nx.Graph:
    """Organisations linked by co-mention in findings and co-participation in notes.

    Edge attributes: ``findings`` and ``notes`` (how many of each join the two), ``weight``
    (their sum). Nodes carry ``profile`` and ``name``. Built in id order, so it is the same
    graph, node for node and edge for edge, on every run.
    """
    import networkx as nx

    graph = nx.Graph()
    for org in sorted(ev.organisations):
        graph.add_node(org, profile=ev.organisations[org]["profile"],
                       name=ev.organisations[org]["name"])
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for finding_id in sorted(ev.involved):
        for a, b in itertools.combinations(sorted(set(ev.involved[finding_id])), 2):
            counts[(a, b)][0] += 1
    for note_id in sorted(ev.note_participants):
        for a, b in itertools.combinations(sorted(set(ev.note_participants[note_id])), 2):
            counts[(a, b)][1] += 1
    for (a, b), (findings, notes) in sorted(counts.items()):
        graph.add_edge(a, b, findings=findings, notes=notes, weight=findings + notes)
    return graph


def network_rows(graph: nx.Graph) -> list[dict]:
    """One ``organisation_network`` row per organisation."""
    import networkx as nx

    n = graph.number_of_nodes()
    k = None if n <= EXACT_BETWEENNESS_NODES else min(BETWEENNESS_SAMPLE, n)
    betweenness = nx.betweenness_centrality(graph, k=k, normalized=True, seed=SEED) if n else {}
    rows = []
    for org in sorted(graph.nodes):
        profile = graph.nodes[org]["profile"]
        neighbours = list(graph.neighbors(org))
        cross = sum(1 for o in neighbours if graph.nodes[o]["profile"] != profile)
        rows.append({
            "organisation_id": org,
            "profile": profile,
            "degree": len(neighbours),
            "strength": int(sum(graph.edges[org, o]["weight"] for o in neighbours)),
            "betweenness": round(float(betweenness.get(org, 0.0)), 6),
            "cross_profile_ties": cross,
            "same_profile_ties": len(neighbours) - cross,
            # A bridge: most of its ties (and at least two) cross the profiles.
            "is_bridge": int(cross >= 2 and cross >= len(neighbours) - cross),
        })
    return rows


# Colours of the two profiles in the figure (the report's palette may restyle the rest).
PROFILE_COLOURS = {EMERGING: "#e07b24", TRADITIONAL: "#1f5b8c"}
CROSS_EDGE_COLOUR = "#7a4f9a"
SAME_EDGE_COLOUR = "#c8c8c8"


def network_svg(graph: nx.Graph, max_nodes: int = 120, labels: int = 8,
                width: float = 7.0, height: float = 5.5) -> str:
    """The network as SVG text: deterministic (fixed layout seed, hash salt, no date).

    Only organisations with at least one tie are drawn, at most ``max_nodes`` of them (the
    most connected); colour is the profile, size the degree; ties that cross the two profiles
    are drawn in colour; the ``labels`` organisations of highest betweenness are named.
    """
    import networkx as nx
    import numpy as np
    from matplotlib import rc_context
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    rows = {r["organisation_id"]: r for r in network_rows(graph)}
    drawn = sorted((o for o in graph.nodes if graph.degree(o) > 0),
                   key=lambda o: (-graph.degree(o), o))[:max_nodes]
    sub = graph.subgraph(sorted(drawn))
    with rc_context({"svg.hashsalt": "cotour", "svg.fonttype": "path",
                     "font.family": "DejaVu Sans", "font.size": 7}):
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        if sub.number_of_nodes():
            # Kamada-Kawai has no randomness; the seeded spring layout places what it cannot.
            start = nx.spring_layout(sub, seed=SEED, iterations=50)
            pos = nx.kamada_kawai_layout(sub, pos=start, weight=None)
            nodes = sorted(sub.nodes)
            edges = sorted(sub.edges)
            for cross in (False, True):
                segs = [(pos[a], pos[b]) for a, b in edges
                        if (sub.nodes[a]["profile"] != sub.nodes[b]["profile"]) == cross]
                widths = [0.25 + 0.35 * min(sub.edges[a, b]["weight"], 6) for a, b in edges
                          if (sub.nodes[a]["profile"] != sub.nodes[b]["profile"]) == cross]
                ax.add_collection(LineCollection(
                    segs, linewidths=widths, colors=CROSS_EDGE_COLOUR if cross else SAME_EDGE_COLOUR,
                    alpha=0.45 if cross else 0.7, zorder=1))
            xy = np.array([pos[o] for o in nodes])
            ax.scatter(xy[:, 0], xy[:, 1], s=[18 + 10 * graph.degree(o) for o in nodes],
                       c=[PROFILE_COLOURS.get(sub.nodes[o]["profile"], "#888888") for o in nodes],
                       edgecolors="white", linewidths=0.6, zorder=2)
            named = sorted(nodes, key=lambda o: (-rows[o]["betweenness"], o))[:labels]
            # The most central organisations crowd the middle: their names go on a ring
            # outside the network, spread so that no two collide, each tied to its node.
            center = xy.mean(axis=0)
            ring = float(np.max(np.linalg.norm(xy - center, axis=1))) * 1.12
            angles = sorted((float(np.arctan2(*(pos[o] - center)[::-1])), o) for o in named)
            gap = min(0.42, 2 * np.pi / max(len(angles), 1))
            placed: list[tuple[float, str]] = []
            for angle, o in angles:
                if placed and angle - placed[-1][0] < gap:
                    angle = placed[-1][0] + gap
                placed.append((angle, o))
            for angle, o in placed:
                name = sub.nodes[o]["name"]
                where = center + ring * np.array([np.cos(angle), np.sin(angle)])
                ax.annotate(name if len(name) <= 30 else name[:29] + "…", pos[o], xytext=where,
                            ha="left" if np.cos(angle) >= 0 else "right", va="center",
                            fontsize=6.5, zorder=3,
                            arrowprops={"arrowstyle": "-", "color": "#5b6b73", "lw": 0.5,
                                        "shrinkA": 0, "shrinkB": 2},
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                  "alpha": 0.85})
            ax.set_aspect("equal")
            span = ring * 1.9
            ax.set_xlim(center[0] - span, center[0] + span)
            ax.set_ylim(center[1] - ring * 1.2, center[1] + ring * 1.2)
        ax.legend(handles=[
            Line2D([], [], marker="o", ls="", color=PROFILE_COLOURS[EMERGING], label="Emergente"),
            Line2D([], [], marker="o", ls="", color=PROFILE_COLOURS[TRADITIONAL], label="Tradizionale"),
            Line2D([], [], color=CROSS_EDGE_COLOUR, label="Legame tra i due profili"),
        ], loc="lower left", frameon=False)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


# --------------------------------------------------------------------------- the build


@dataclass
class HybridTables:
    hybrid_pairs: list[dict]
    hybrid_evidence: list[dict]
    organisation_network: list[dict]

    def items(self):
        return vars(self).items()


def compute(public_db: Path | str) -> HybridTables:
    """The three tables, computed from the public database only."""
    ev = read_evidence(public_db)
    pairs, evidence = compute_pairs(ev)
    return HybridTables(pairs, evidence, network_rows(network(ev)))


def add_to_build(kb_path: Path, public_path: Path, progress: Progress = _noop) -> HybridTables:
    """Compute the tables from the freshly derived public database, write them into the
    knowledge base, and derive the public database again so that it carries them and records
    the digest of the knowledge base as it finally is (:func:`kb.public.derive_public` stays
    the one function that writes the public file)."""
    progress("ibridazioni", 0, 2)
    tables = compute(public_path)
    db = sqlite_utils.Database(kb_path)
    try:
        with db.atomic():
            for name, rows in tables.items():
                write_rows(db, name, rows, public=False)
    finally:
        db.close()
    progress("ibridazioni", 1, 2)
    Path(public_path).unlink()
    derive_public(kb_path, public_path, progress=progress)
    progress("ibridazioni", 2, 2)
    return tables


# --------------------------------------------------------------------------- for the report


def top_pairs(public_db: Path | str, limit: int = 10, realised: bool = False) -> list[dict]:
    """The best candidate (or realised) pairs as plain data, with names, for the report."""
    conn = sqlite3.connect(f"file:{Path(public_db)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
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
    finally:
        conn.close()


def bridges(public_db: Path | str, limit: int = 10) -> list[dict]:
    """The organisations that best join the two profiles (by betweenness), for the report."""
    conn = sqlite3.connect(f"file:{Path(public_db)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            """select n.*, o.name from organisation_network n
               join organisations o on o.id = n.organisation_id
               where n.is_bridge = 1 order by n.betweenness desc, n.cross_profile_ties desc,
               n.organisation_id limit ?""", (limit,))]
    finally:
        conn.close()


def network_figure(public_db: Path | str, **options) -> str:
    """The network figure (SVG text) of a public database."""
    return network_svg(network(read_evidence(public_db)), **options)


def report_chapter(public_db: Path | str, finding_url, limit: int = 10) -> dict:
    """The chapter "Ibridazioni possibili" as plain data for the report's template.

    ``finding_url(id)`` gives a finding's public address. Keys: ``pairs`` and ``realised`` (the
    best ``limit`` of each, with names, reason, themes and ``evidence`` as ``{id, url}``),
    ``bridges``, ``counts``, ``text`` (the chapter's reading), ``network_text``, ``figure_src``
    (the network as an SVG ``data:`` URI, or ``None``) and ``figure_alt``.
    """
    import base64

    conn = sqlite3.connect(f"file:{Path(public_db)}?mode=ro", uri=True)
    try:
        counts = dict(conn.execute("select realised, count(*) from hybrid_pairs group by realised"))
        themes = dict(conn.execute("select id, label from themes"))
    except sqlite3.OperationalError:  # a database built before these tables existed
        counts, themes = None, {}
    finally:
        conn.close()
    empty = {"pairs": [], "realised": [], "bridges": [], "counts": {"candidates": 0, "realised": 0},
             "text": "", "network_text": "", "figure_src": None, "figure_alt": ""}
    if counts is None:
        return empty
    pairs, realised = top_pairs(public_db, limit), top_pairs(public_db, limit, realised=True)
    for p in pairs + realised:
        p["evidence"] = [{"id": f, "url": finding_url(f)} for f in p["evidence_findings"]]
        p["theme_labels"] = [themes.get(t, t) for t in p["shared_themes"]]
    top_bridges = bridges(public_db, limit)
    n_candidates, n_realised = counts.get(0, 0), counts.get(1, 0)
    text = (f"Le coppie tra un attore emergente e un’organizzazione tradizionale che potrebbero "
            f"completarsi sono {n_candidates}; altre {n_realised} collaborano già, in una sinergia "
            "raccolta nelle note o in una nuova iniziativa. Il punteggio somma i temi in comune, "
            "i problemi o le minacce sollevati dall’una a cui risponde una buona pratica "
            "dell’altra sullo stesso tema (con testi simili) e le tappe a cui hanno partecipato "
            "entrambe. Ogni motivo cita i risultati da cui nasce.")
    network_text = ""
    if top_bridges:
        names = _join([b["name"] for b in top_bridges[:3]])
        network_text = (f"Le organizzazioni sono legate quando compaiono nello stesso risultato o "
                        f"nella stessa sessione. Fanno più da ponte tra i due mondi {names}.")
    svg = network_figure(public_db)
    return {
        "pairs": pairs, "realised": realised, "bridges": top_bridges,
        "counts": {"candidates": n_candidates, "realised": n_realised},
        "text": text, "network_text": network_text,
        "figure_src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
        "figure_alt": ("Rete delle organizzazioni: nodi arancioni per gli attori emergenti, blu "
                       "per i settori tradizionali, in viola i legami tra i due profili."),
    }
