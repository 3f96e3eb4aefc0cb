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
  when the similarity is at least :data:`MIN_SIMILARITY` and the two texts share at least
  :data:`MIN_SHARED_STEMS` stems (one common word — "piano" economico and piano terra — is too
  often a coincidence); for each problem only its best practice counts, and only the pair's
  :data:`MAX_ANSWERS` best answers; a practice that only *mentions* the answering
  organisation counts :data:`MENTIONED_FACTOR` as much as its own. On a large corpus the
  findings are compared within shortlisted pairs only, and a prolific organisation through
  its most typical findings on each theme (:func:`answers` says how);
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
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import sqlite_utils

from .normalise import MENTION, NOT_TAG_SPANS, TAG
from .public import restamp
from .search import WORD, stem_words
from .store import Progress, _noop, connect_read_only, copy_rows, write_rows

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
MIN_SHARED_STEMS = 2  # an answer shares at least two stems with the problem
# Findings are compared within every pair up to this many emerging × traditional pairs; beyond,
# within each organisation's SHORTLIST closest partners (see answers()).
EXHAUSTIVE_PAIRS = 40_000
SHORTLIST = 20
MAX_COMPARED = 5  # findings of an organisation on a theme compared (see answers())
# Betweenness is exact up to this many organisations, then estimated from a fixed sample.
EXACT_BETWEENNESS_NODES = 500
BETWEENNESS_SAMPLE = 64
# ... and fewer on a dense graph: at most this many edges walked in all (a sample of 8 at least).
BETWEENNESS_EDGE_BUDGET = 1_500_000
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
    """Read what the computation needs from the public database (read-only).

    ``findings`` holds only the findings a pair can cite — problems, threats, practices and
    synergies that name an organisation — and ``involved`` those plus every finding naming two
    organisations or more (the ties of the network): the rest of a large corpus only counts
    towards the organisations' themes and events, which are gathered on the way.
    """
    conn = connect_read_only(public_db)
    try:
        q = conn.execute
        organisations = {
            r[0]: {"name": r[1], "profile": r[2], "province": r[3], "municipality": r[4]}
            for r in q("select id, name, profile, province, municipality from organisations "
                       "order by id")}
        themes = dict(q("select id, label from themes order by id"))
        events = {r[0]: {"city": r[1], "kind": r[2], "date": r[3]}
                  for r in q("select id, city, kind, date from events order by id")}
        org_themes: dict[str, set[str]] = {org: set() for org in organisations}
        org_events: dict[str, set[str]] = {org: set() for org in organisations}
        sources: dict[str, list[str]] = defaultdict(list)
        named: dict[str, list[str]] = defaultdict(list)
        for finding_id, org, role in q("select finding_id, organisation_id, role "
                                       "from finding_organisations"):
            named[finding_id].append(org)
            if role == "source":
                sources[finding_id].append(org)
        findings: dict[str, dict] = {}
        kinds = PROBLEM_KINDS + ("practice", "synergy")
        marks = ", ".join("?" * len(kinds))
        for finding_id, kind, event_id, city, text in q(
                f"select id, kind, event_id, city, case when kind in ({marks}) then text end "
                "from findings where id in (select finding_id from finding_organisations)", kinds):
            for org in named[finding_id]:
                org_events[org].add(event_id)
            if text is not None:
                findings[finding_id] = {"kind": kind, "text": text, "event_id": event_id,
                                        "city": city, "themes": set()}
        for finding_id, theme_id in q("select finding_id, theme_id from finding_themes"):
            for org in named.get(finding_id, ()):
                org_themes[org].add(theme_id)
            if finding_id in findings:
                findings[finding_id]["themes"].add(theme_id)
        for org, theme in q("select organisation_id, theme_id from organisation_themes"):
            org_themes[org].add(theme)
        # (Dictionaries in no particular order: every use sorts what it needs.)
        involved = {f: orgs for f, orgs in named.items() if len(orgs) > 1 or f in findings}
        ev = Evidence(organisations, themes, events, findings,
                      {f: orgs for f, orgs in sources.items() if f in findings}, involved)
        ev.org_themes, ev.org_events = org_themes, org_events
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


# Mentions, links, code and tags, in one pass.
_NOT_WORDS = re.compile("|".join(f"(?:{r.pattern})" for r in (MENTION, NOT_TAG_SPANS, TAG)))


@lru_cache(maxsize=1 << 17)
def _word_stems(word: str) -> tuple[str, ...]:
    """A word's stems for the similarity (a corpus repeats its words: each is stemmed once)."""
    return tuple(s for s in stem_words(word) if s not in STOP_STEMS and not s.isdigit())


def plain_words(text: str) -> list[str]:
    """A finding's stems for the similarity: mentions, tags, links and function words out."""
    text = _NOT_WORDS.sub(" ", text)
    return [s for word in WORD.findall(text.casefold().replace("_", " "))
            for s in _word_stems(word)]


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


@dataclass
class Answers:
    """The answers of many pairs at once, as arrays (a pair is an emerging organisation and a
    traditional one, as positions in the sorted lists ``emerging`` and ``traditional``).

    ``pair_e``, ``pair_t``: the pairs with at least one answer, sorted; ``count``: how many
    problems or threats of the pair found an answer; ``total``: the sum of the weights of its
    :data:`MAX_ANSWERS` best answers, which :meth:`best` gives as :class:`Answer` objects.
    """

    pair_e: "np.ndarray"
    pair_t: "np.ndarray"
    count: "np.ndarray"
    total: "np.ndarray"
    _start: "np.ndarray"  # pair row -> its first best answer in the arrays below
    _rows: dict  # problem, practice, raiser, answerer, source, similarity (arrays)
    _names: dict  # problems, practices, organisations (lists of ids)

    @classmethod
    def empty(cls) -> Answers:
        import numpy as np

        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0), np.zeros(1, dtype=np.int64), {}, {})

    def best(self, row: int) -> list[Answer]:
        """The best answers of the pair at ``row``, best first."""
        names, rows = self._names, self._rows
        return [Answer(float(rows["similarity"][i]), names["problems"][rows["problem"][i]],
                       names["practices"][rows["practice"][i]],
                       names["organisations"][rows["raiser"][i]],
                       names["organisations"][rows["answerer"][i]], bool(rows["source"][i]))
                for i in range(self._start[row], self._start[row + 1])]


def _top_partners(left, right, left_themes, right_themes, k: int):
    """For each row of ``left``, the ``k`` rows of ``right`` most similar to it (dot product,
    rounded so that ties are broken by position) among those with a theme in common; as
    ``(left rows, right rows, similarity in millionths)`` arrays, a block of rows at a time."""
    import numpy as np

    n_right = right.shape[0]
    lefts, rights, sims_kept = [], [], []
    block = max(1, 1_000_000 // max(n_right, 1))
    right_t, right_themes_t = right.T, right_themes.T
    for start in range(0, left.shape[0], block):
        sims = left[start:start + block] @ right_t
        sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
        common = left_themes[start:start + block] @ right_themes_t
        common = common.toarray() if hasattr(common, "toarray") else np.asarray(common)
        valid = (sims > 0) & (common > 0)
        key = -np.rint(sims * 1e6).astype(np.int64) * n_right + np.arange(n_right)
        key[~valid] = np.iinfo(np.int64).max
        if n_right > k:
            top = np.argpartition(key, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(n_right), key.shape)
        rows = np.broadcast_to(np.arange(key.shape[0])[:, None], top.shape)
        ok = valid[rows, top]
        lefts.append(rows[ok] + start)
        rights.append(top[ok])
        sims_kept.append(np.rint(sims[rows[ok], top[ok]] * 1e6).astype(np.int64))
    if not lefts:
        return (np.zeros(0, dtype=np.int64),) * 3
    return np.concatenate(lefts), np.concatenate(rights), np.concatenate(sims_kept)


def _rank_within(group):
    """For each element, how many equal elements come before it."""
    import numpy as np

    by = np.argsort(group, kind="stable")
    count = np.bincount(group)
    start = np.cumsum(count) - count
    rank = np.empty(len(group), dtype=np.int64)
    rank[by] = np.arange(len(group)) - start[group[by]]
    return rank


def _dense_if_small(matrix):
    """A sparse matrix as a dense array when that is both small and faster (a short vocabulary
    makes organisation profiles nearly full), else as it is."""
    cells = matrix.shape[0] * matrix.shape[1]
    if cells and cells <= 32_000_000 and matrix.nnz > 0.05 * cells:
        return matrix.toarray()
    return matrix


def answers(ev: Evidence, emerging: list[str], traditional: list[str]) -> Answers:
    """Every pair's answers: a problem or threat one organisation raised, met by a practice of
    the other (its own, or one that names it) on a common theme with similar text.

    TF-IDF (scikit-learn) is fitted on the problems, threats and practices that name an
    organisation; the similarity of two findings is the cosine of their vectors. Comparing
    every problem with every practice grows with the square of the corpus, so on a large
    corpus the pairs are first shortlisted: each organisation's :data:`SHORTLIST` closest
    partners of the other profile, comparing what each raised with what the other practises
    (the sum of the findings' vectors, on both sides, with a theme in common), an
    organisation close to everyone keeping its ``2 × SHORTLIST`` closest. Findings are
    compared within the shortlisted pairs only (with at most :data:`EXHAUSTIVE_PAIRS` pairs,
    within every pair), theme by theme, and an organisation with more than
    :data:`MAX_COMPARED` findings on a theme through the :data:`MAX_COMPARED` most typical.
    All of it as sparse-matrix and array operations: no Python loop over pairs of findings.
    """
    import numpy as np
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    org_ids = sorted(ev.organisations)
    org_pos = {o: n for n, o in enumerate(org_ids)}
    theme_pos = {t: n for n, t in enumerate(sorted(ev.themes))}
    problems = [f for f in sorted(ev.findings)
                if ev.findings[f]["kind"] in PROBLEM_KINDS and ev.sources.get(f)]
    practices = [f for f in sorted(ev.findings)
                 if ev.findings[f]["kind"] == "practice" and ev.involved.get(f)]
    if not problems or not practices or not emerging or not traditional:
        return Answers.empty()
    vectorizer = TfidfVectorizer(analyzer=plain_words, sublinear_tf=True, dtype=np.float64)
    try:
        matrix = vectorizer.fit_transform(
            [ev.findings[f]["text"] for f in problems + practices]).tocsr()
    except ValueError:  # no words at all
        return Answers.empty()
    x_problems, x_practices = matrix[:len(problems)], matrix[len(problems):]

    # Who raised which problem, who takes part in which practice (and whether as its source):
    # one row per (theme, organisation, finding), sorted, so that the findings of an
    # organisation on a theme are a contiguous run.
    def incidence(findings, orgs_of, sources_of):
        cells = [(theme_pos[t], org_pos[o], n, o in sources_of(f))
                 for n, f in enumerate(findings) for o in orgs_of(f)
                 for t in ev.findings[f]["themes"] if t in theme_pos]
        cells = np.array(cells, dtype=np.int64).reshape(-1, 4)
        return cells[np.lexsort((cells[:, 2], cells[:, 1], cells[:, 0]))]

    def typical(cells, x):
        """An organisation with more than MAX_COMPARED findings on a theme is represented by
        the MAX_COMPARED closest to the sum of them all (its most typical ones), so that the
        comparisons of a pair stay bounded however prolific the two organisations are."""
        run = cells[:, 0] * len(org_ids) + cells[:, 1]
        group = np.unique(run, return_inverse=True)[1].ravel()
        centre = normalize(sparse.csr_matrix((np.ones(len(cells)), (group, cells[:, 2])),
                                             shape=(group.max(initial=-1) + 1, x.shape[0])) @ x)
        closeness = np.asarray(x[cells[:, 2]].multiply(centre[group]).sum(axis=1)).ravel()
        order = np.lexsort((cells[:, 2], -np.round(closeness, 9), run))
        keep = np.zeros(len(cells), dtype=bool)
        keep[order] = _rank_within(run[order]) < MAX_COMPARED
        cells, run = cells[keep], run[keep]
        return cells, np.searchsorted(run, np.arange(len(theme_pos) * len(org_ids) + 1))

    raised_all = incidence(problems, lambda f: ev.sources[f], lambda f: ())
    given_all = incidence(practices, lambda f: sorted(set(ev.involved[f])),
                          lambda f: ev.sources.get(f, ()))
    raised, raised_at = typical(raised_all, x_problems)
    given, given_at = typical(given_all, x_practices)

    e_glob = np.array([org_pos[o] for o in emerging], dtype=np.int64)
    t_glob = np.array([org_pos[o] for o in traditional], dtype=np.int64)
    if len(emerging) * len(traditional) <= EXHAUSTIVE_PAIRS:
        pe, pt = (a.ravel() for a in np.meshgrid(np.arange(len(emerging)),
                                                 np.arange(len(traditional)), indexing="ij"))
    else:
        # The shortlist: organisations' profiles of problems and of practices.
        def profile(cells, x):
            inc = sparse.csr_matrix((np.ones(len(cells)), (cells[:, 1], cells[:, 2])),
                                    shape=(len(org_ids), x.shape[0]))
            inc.data[:] = 1.0  # a finding counts once for an organisation, whatever its themes
            themes = sparse.csr_matrix((np.ones(len(cells)), (cells[:, 1], cells[:, 0])),
                                       shape=(len(org_ids), len(theme_pos)))
            return normalize(inc @ x), themes

        raised_profile, raised_themes = profile(raised_all, x_problems)
        given_profile, given_themes = profile(given_all, x_practices)
        # Dot products of these rows: what E raised against what T practises, plus the reverse.
        e_side = sparse.hstack([raised_profile[e_glob], given_profile[e_glob]]).tocsr()
        t_side = sparse.hstack([given_profile[t_glob], raised_profile[t_glob]]).tocsr()
        e_themes = sparse.hstack([raised_themes[e_glob], given_themes[e_glob]]).tocsr()
        t_themes = sparse.hstack([given_themes[t_glob], raised_themes[t_glob]]).tocsr()
        e_side, t_side = _dense_if_small(e_side), _dense_if_small(t_side)
        a_e, a_t, a_sim = _top_partners(e_side, t_side, e_themes, t_themes, SHORTLIST)
        b_t, b_e, b_sim = _top_partners(t_side, e_side, t_themes, e_themes, SHORTLIST)
        keys, at = np.unique(np.concatenate([a_e * len(traditional) + a_t,
                                             b_e * len(traditional) + b_t]), return_index=True)
        closeness = np.concatenate([a_sim, b_sim])[at]
        pe, pt = keys // len(traditional), keys % len(traditional)
        # An organisation close to everyone (one that raised or practised a great deal) would
        # be in every shortlist: each keeps only its 2 × SHORTLIST closest pairs.
        order = np.lexsort((keys, -closeness))
        keep = np.zeros(len(keys), dtype=bool)
        keep[order] = ((_rank_within(pe[order]) < 2 * SHORTLIST)
                       & (_rank_within(pt[order]) < 2 * SHORTLIST))
        pe, pt = pe[keep], pt[keep]

    # Every (problem, practice) on a common theme within a pair, in both directions.
    n_orgs = len(org_ids)
    parts: dict[str, list] = defaultdict(list)
    for raiser_side, answerer_side in ((e_glob[pe], t_glob[pt]), (t_glob[pt], e_glob[pe])):
        for theme in range(len(theme_pos)):
            r_run, a_run = theme * n_orgs + raiser_side, theme * n_orgs + answerer_side
            r_from, a_from = raised_at[r_run], given_at[a_run]
            n_r, n_a = raised_at[r_run + 1] - r_from, given_at[a_run + 1] - a_from
            n = n_r * n_a
            pairs = np.flatnonzero(n)
            if not len(pairs):
                continue
            n = n[pairs]
            rep = np.repeat(pairs, n)
            offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
            i, j = np.divmod(offset, n_a[rep])
            r_cells, a_cells = raised[r_from[rep] + i], given[a_from[rep] + j]
            parts["pair"].append(rep)
            parts["problem"].append(r_cells[:, 2])
            parts["practice"].append(a_cells[:, 2])
            parts["raiser"].append(r_cells[:, 1])
            parts["answerer"].append(a_cells[:, 1])
            parts["source"].append(a_cells[:, 3])
    if not parts:
        return Answers.empty()
    t = {k: np.concatenate(v) for k, v in parts.items()}

    # Their similarity, a block at a time; an answer needs MIN_SIMILARITY and at least
    # MIN_SHARED_STEMS stems in common (one shared word is too often a coincidence).
    similarity = np.empty(len(t["pair"]))
    shared = np.empty(len(t["pair"]), dtype=np.int64)
    block = 500_000
    for start in range(0, len(similarity), block):
        product = x_problems[t["problem"][start:start + block]].multiply(
            x_practices[t["practice"][start:start + block]]).tocsr()
        similarity[start:start + block] = np.asarray(product.sum(axis=1)).ravel()
        shared[start:start + block] = np.diff(product.indptr)
    similarity = np.round(similarity, 4)
    keep = (similarity >= MIN_SIMILARITY) & (shared >= MIN_SHARED_STEMS)
    t = {k: v[keep] for k, v in t.items()}
    t["similarity"] = similarity[keep]
    t["weight"] = np.where(t["source"] == 1, 1.0, MENTIONED_FACTOR) * (
        W_ANSWER + W_SIMILARITY * t["similarity"])

    # For each problem of a pair only its best practice counts; then the pair's best answers.
    order = np.lexsort((t["answerer"], t["raiser"], t["practice"], -t["weight"], t["problem"],
                        t["pair"]))
    t = {k: v[order] for k, v in t.items()}
    first = np.ones(len(t["pair"]), dtype=bool)
    first[1:] = (t["pair"][1:] != t["pair"][:-1]) | (t["problem"][1:] != t["problem"][:-1])
    t = {k: v[first] for k, v in t.items()}
    order = np.lexsort((t["practice"], t["problem"], -t["weight"], t["pair"]))
    t = {k: v[order] for k, v in t.items()}
    pairs, start, count = np.unique(t["pair"], return_index=True, return_counts=True)
    rank = np.arange(len(t["pair"])) - np.repeat(start, count)
    top = rank < MAX_ANSWERS
    t = {k: v[top] for k, v in t.items()}
    row = np.searchsorted(pairs, t["pair"])
    weights = np.zeros((len(pairs), MAX_ANSWERS))
    weights[row, rank[top]] = t["weight"]
    total = weights[:, 0]
    for k in range(1, MAX_ANSWERS):  # summed best first, as Python's sum() would
        total = total + weights[:, k]
    starts = np.concatenate([[0], np.cumsum(np.minimum(count, MAX_ANSWERS))])
    return Answers(pe[pairs], pt[pairs], count, total, starts, t,
                   {"problems": problems, "practices": practices, "organisations": org_ids})


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
    """``(hybrid_pairs rows, hybrid_evidence rows)``, candidates ranked first, then realised.

    Scores are computed for every candidate pair at once (arrays); rows, reasons and evidence
    only for the pairs that stay.
    """
    import numpy as np
    from scipy import sparse

    orgs = ev.organisations
    emerging = sorted(o for o, r in orgs.items() if r["profile"] == EMERGING)
    traditional = sorted(o for o, r in orgs.items() if r["profile"] == TRADITIONAL)
    e_pos = {o: n for n, o in enumerate(emerging)}
    t_pos = {o: n for n, o in enumerate(traditional)}
    n_t = len(traditional)

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

    found = answers(ev, emerging, traditional)

    # Events together: a product of the organisations × events incidence with itself.
    event_pos = {e: n for n, e in enumerate(sorted(ev.events))}

    def incidence(members: list[str], of: dict[str, set[str]], pos: dict[str, int]):
        cells = [(n, pos[x]) for n, o in enumerate(members) for x in of.get(o, ()) if x in pos]
        rows, cols = zip(*cells) if cells else ((), ())
        return sparse.csr_matrix((np.ones(len(cells)), (rows, cols)),
                                 shape=(len(members), len(pos)))

    together = (incidence(emerging, ev.org_events, event_pos)
                @ incidence(traditional, ev.org_events, event_pos).T).tocoo()
    theme_pos = {t: n for n, t in enumerate(sorted(ev.themes))}
    # Themes as bits (64 to a word), so that counting those two organisations share is cheap.
    def theme_bits(members):
        bits = np.zeros((len(members), len(theme_pos) // 64 + 1), dtype=np.uint64)
        for n, o in enumerate(members):
            for x in ev.org_themes.get(o, ()):
                if x in theme_pos:
                    bits[n, theme_pos[x] // 64] |= np.uint64(1 << (theme_pos[x] % 64))
        return bits

    e_bits, t_bits = theme_bits(emerging), theme_bits(traditional)

    def n_shared_themes(e, t):
        out = np.zeros(len(e), dtype=np.int64)
        for word in range(e_bits.shape[1]):
            out += np.bitwise_count(e_bits[e, word] & t_bits[t, word])
        return out

    # Candidate pairs: realised, with an answer, or sharing an event and a theme.
    met = together.row.astype(np.int64) * n_t + together.col
    met_events = together.data.astype(np.int64)
    met_order = np.argsort(met)
    met, met_events = met[met_order], met_events[met_order]
    met_themes = n_shared_themes(met // n_t, met % n_t)
    real_keys = np.array(sorted(e_pos[e] * n_t + t_pos[t] for e, t in realised), dtype=np.int64)
    answer_keys = found.pair_e * n_t + found.pair_t
    keys = np.unique(np.concatenate([met[met_themes > 0], answer_keys, real_keys]))
    pe, pt = keys // n_t, keys % n_t

    def lookup(sorted_keys, values, default=0):
        at = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
        hit = sorted_keys[at] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
        out = np.full(len(keys), default, dtype=values.dtype)
        out[hit] = values[at[hit]]
        return out

    n_events = lookup(met, met_events)
    n_themes = n_shared_themes(pe, pt)
    answer_row = lookup(answer_keys, np.arange(len(answer_keys)), default=-1)
    total = np.where(answer_row >= 0, found.total[np.maximum(answer_row, 0)]
                     if len(answer_keys) else 0.0, 0.0)
    is_realised = lookup(real_keys, np.ones(len(real_keys), dtype=bool), default=False)
    score = np.round(W_THEME * np.minimum(n_themes, MAX_THEMES) + total
                     + W_EVENT * np.minimum(n_events, MAX_EVENTS), 4)

    # Each organisation keeps its best pairs; realised pairs always stay. In the order of
    # (score descending, pair id) — the pair id's order is that of (emerging, traditional),
    # since ids are slugs without "--" — a pair beyond the first PAIRS_PER_ORGANISATION of
    # both its organisations finds both full, so only the others need the walk below.
    candidates = np.flatnonzero(~is_realised)
    points = np.rint(score[candidates] * 1e4).astype(np.int64)
    points = points.max(initial=0) - points
    if (points.max(initial=0) + 1) * max(len(emerging) * n_t, 1) < 2 ** 62:
        order = candidates[np.argsort(points * (len(emerging) * n_t) + keys[candidates],
                                      kind="stable")]
    else:
        order = candidates[np.lexsort((pt[candidates], pe[candidates], points))]

    early = (_rank_within(pe[order]) < PAIRS_PER_ORGANISATION) | (
        _rank_within(pt[order]) < PAIRS_PER_ORGANISATION)
    kept, count = [], defaultdict(int)
    for k in order[early].tolist():
        e, t = int(pe[k]), int(pt[k])
        if count[("e", e)] < PAIRS_PER_ORGANISATION or count[("t", t)] < PAIRS_PER_ORGANISATION:
            kept.append(k)
            count[("e", e)] += 1
            count[("t", t)] += 1
    real = np.flatnonzero(is_realised)
    kept += real[np.lexsort((keys[real], -score[real]))].tolist()

    rows = []
    for k in kept:
        e_org, t_org = emerging[pe[k]], traditional[pt[k]]
        shared = sorted(ev.org_themes[e_org] & ev.org_themes[t_org], key=lambda t: (ev.themes[t], t))
        best = found.best(int(answer_row[k])) if answer_row[k] >= 0 else []
        events = sorted(ev.org_events[e_org] & ev.org_events[t_org], key=lambda e: _event_order(ev, e))
        realised_by = realised.get((e_org, t_org), [])
        evidence = []
        for a in best:
            evidence += [a.problem_id, a.practice_id]
        evidence += [r["id"] for r in realised_by if r["table"] == "findings"]
        rows.append({
            "id": pair_id(e_org, t_org),
            "emerging_id": e_org,
            "traditional_id": t_org,
            "score": float(score[k]),
            "shared_themes": json.dumps(shared),
            "answers": int(found.count[answer_row[k]]) if answer_row[k] >= 0 else 0,
            "best_similarity": max(a.similarity for a in best) if best else None,
            "events_together": len(events),
            "shared_events": json.dumps(events),
            "realised": int(bool(realised_by)),
            "realised_by": json.dumps(realised_by),
            "reason": reason(ev, shared, best, events, realised_by),
            "evidence_findings": json.dumps(list(dict.fromkeys(evidence))),
        })
    ranks = defaultdict(int)
    for r in rows:
        ranks[r["realised"]] += 1
        r["rank"] = ranks[r["realised"]]

    evidence_rows = {}
    for r in rows:
        for finding_id in json.loads(r["evidence_findings"]):
            kind = ev.findings[finding_id]["kind"]
            org = next((o for o in (r["emerging_id"], r["traditional_id"])
                        if o in ev.involved.get(finding_id, [])), None)
            evidence_rows[(r["id"], finding_id)] = {
                "pair_id": r["id"], "finding_id": finding_id, "role": EVIDENCE_ROLES[kind],
                "organisation_id": org}
    return rows, [evidence_rows[k] for k in sorted(evidence_rows)]


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
    # Counting needs no order; the edges are added in order below.
    for orgs in ev.involved.values():
        if len(orgs) > 1:
            for a, b in itertools.combinations(sorted(set(orgs)), 2):
                counts[(a, b)][0] += 1
    for orgs in ev.note_participants.values():
        for a, b in itertools.combinations(sorted(set(orgs)), 2):
            counts[(a, b)][1] += 1
    for (a, b), (findings, notes) in sorted(counts.items()):
        graph.add_edge(a, b, findings=findings, notes=notes, weight=findings + notes)
    return graph


def network_rows(graph: nx.Graph) -> list[dict]:
    """One ``organisation_network`` row per organisation."""
    import networkx as nx

    n = graph.number_of_nodes()
    k = None if n <= EXACT_BETWEENNESS_NODES else min(
        BETWEENNESS_SAMPLE, n,
        max(8, BETWEENNESS_EDGE_BUDGET // max(graph.number_of_edges(), 1)))
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
    """Compute the tables from the freshly derived public database and write them into both
    the knowledge base and the public database, then record the knowledge base's final digest
    in the public one (:func:`kb.public.restamp`).

    Writing the same rows into the public file is safe without passing them through
    :func:`kb.public.derive_public` again: they are computed from the public database alone
    (no internal note, finding or personal field is ever read), so they are public by
    construction — and the public file's copy equals the knowledge base's.
    """
    progress("ibridazioni", 0, 2)
    tables = compute(public_path)
    progress("ibridazioni", 1, 2)
    db = sqlite_utils.Database(kb_path)
    try:
        with db.atomic():
            for name, rows in tables.items():
                write_rows(db, name, rows, public=False)
    finally:
        db.close()
    db = sqlite_utils.Database(public_path)
    try:
        db.execute("attach database ? as src", [str(kb_path)])
        with db.atomic():  # the same rows, copied by SQLite
            for name, _ in tables.items():
                copy_rows(db, name, None, public=True)
        db.execute("detach database src")
        for name, _ in tables.items():  # the query planner's statistics of the new rows
            db.execute(f"analyze [{name}]")
    finally:
        db.close()
    restamp(public_path, kb_path)
    progress("ibridazioni", 2, 2)
    return tables


# --------------------------------------------------------------------------- for the report


def top_pairs(public_db: Path | str, limit: int = 10, realised: bool = False) -> list[dict]:
    """The best candidate (or realised) pairs as plain data, with names, for the report."""
    conn = connect_read_only(public_db)
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
    conn = connect_read_only(public_db)
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

    conn = connect_read_only(public_db)
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
