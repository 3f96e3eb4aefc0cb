"""Ranking the emerging–traditional pairs and writing their rows and reasons."""

from __future__ import annotations

import heapq
import itertools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from ..domain.dictionary import HYBRID_SCORE
from ..domain.dictionary import TABLES_BY_NAME
from ..domain.italian import name_with, with_article
from ..domain.vocabulary import (
    EMERGING,
    EVIDENCE_ROLE_OF_KIND,
    FINAL,
    MENTIONED,
    SOURCE,
    SYNERGY,
    TRADITIONAL,
)
from .answers import Answer, Answers, _bits, _find, _rank_within, _unique, answers
from .evidence import (
    ANSWERS_IN_REASON,
    CITED_KINDS,
    KIND_NAMES,
    PAIRS_PER_ORGANISATION,
    SCORED_AT_ONCE,
    Evidence,
    _concat,
)


def pair_id(emerging: str, traditional: str) -> str:
    """Stable and readable: organisation ids are slugs, which never hold ``--``."""
    return f"{emerging}--{traditional}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " e " + items[-1]


def _at(city: str | None) -> str:
    return f" a {city}" if city else ""


def _event_name(event: dict) -> str:
    return "l'incontro finale" if event["kind"] == FINAL else event["city"]


def _themes_text(labels: list[str]) -> str | None:
    if len(labels) == 1:
        return f"condividono il tema {labels[0]}"
    if len(labels) > 5:
        return f"condividono i temi {', '.join(labels[:4])} e altri {len(labels) - 4}"
    return f"condividono i temi {_join(labels)}" if labels else None


def reason(ways: list[str], themes: str | None, answers: list[str], places: list[str]) -> str:
    """The plain Italian sentence that explains a pair from its parts: the ways the two
    already work together, the themes they share (:func:`_themes_text`), the answers (each
    naming its findings) and the events where they met."""
    parts = []
    if ways:
        parts.append("Collaborano già " + _join(ways))
    if themes:
        parts.append(themes)
    parts += answers
    if places:
        n = len(places)
        parts.append(f"si sono incontrate {'a una tappa' if n == 1 else f'a {n} tappe'} "
                     f"({_join(places)})")
    else:
        parts.append("non si sono ancora incontrate a una tappa")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


@dataclass
class RankedPairs:
    """The pairs that stay, in ranking order — candidates first (best score first, then by
    pair id), then realised pairs — as arrays: ``e`` and ``t`` are positions in the sorted
    lists ``emerging`` and ``traditional``, ``answer_row`` a row of ``found`` (or -1)."""

    emerging: list[str]
    traditional: list[str]
    e: np.ndarray
    t: np.ndarray
    score: np.ndarray
    rank_score: np.ndarray  # the score with repeated evidence reduced (see diversified())
    answer_row: np.ndarray
    rank: np.ndarray  # 1, 2, ... among candidates, and again among realised pairs
    found: Answers
    realised: dict[tuple[str, str], list[dict]]  # (emerging, traditional) -> ways

    def ids(self) -> list[str]:
        return [pair_id(self.emerging[e], self.traditional[t])
                for e, t in zip(self.e.tolist(), self.t.tolist())]


def rank_pairs(ev: Evidence) -> RankedPairs:
    """Score every candidate pair at once (arrays), keep each organisation's best and rank
    them on different evidence (:func:`diversified`). The programme's organisers and staff
    are in no pair: they ran every meeting, so meeting them says nothing.

    Long on purpose: the scoring of every candidate pair as arrays, step after step on the
    same positions and masks.
    """

    orgs = ev.organisations
    emerging = sorted(o for o, r in orgs.items() if r["profile"] == EMERGING and not r["staff"])
    traditional = sorted(o for o, r in orgs.items()
                         if r["profile"] == TRADITIONAL and not r["staff"])
    e_pos = {o: n for n, o in enumerate(emerging)}
    t_pos = {o: n for n, o in enumerate(traditional)}
    org_pos = {o: n for n, o in enumerate(ev.org_ids)}
    e_glob = np.array([org_pos[o] for o in emerging], dtype=np.int64)
    t_glob = np.array([org_pos[o] for o in traditional], dtype=np.int64)
    n_t = len(traditional)

    def orient(a: str, b: str) -> tuple[str, str] | None:
        if orgs[a]["staff"] or orgs[b]["staff"]:
            return None
        pa, pb = orgs[a]["profile"], orgs[b]["profile"]
        if pa == EMERGING and pb == TRADITIONAL:
            return a, b
        if pa == TRADITIONAL and pb == EMERGING:
            return b, a
        return None

    # Realised: both named in a synergy finding, or both in an initiative.
    realised: dict[tuple[str, str], list[dict]] = defaultdict(list)
    cited = ev.findings
    synergies = (cited.kind == CITED_KINDS.index(SYNERGY)) & (np.diff(cited.org_at) > 1)
    for n in np.flatnonzero(synergies).tolist():
        named = [ev.org_ids[o] for o in cited.org[cited.org_at[n]:cited.org_at[n + 1]].tolist()]
        for a, b in itertools.combinations(named, 2):
            if key := orient(a, b):
                realised[key].append({"table": "findings", "id": cited.ids[n]})
    for initiative_id, initiative in sorted(ev.initiatives.items()):
        for a, b in itertools.combinations(sorted(set(initiative["organisations"])), 2):
            if key := orient(a, b):
                realised[key].append({"table": "initiatives", "id": initiative_id})

    found = answers(ev, emerging, traditional)

    # Themes as bits, so that counting those two organisations share is cheap.
    e_bits, t_bits = _bits(ev.org_themes[e_glob]), _bits(ev.org_themes[t_glob])

    def n_shared_themes(e, t):
        out = np.zeros(len(e), dtype=np.int64)
        for word in range(e_bits.shape[1]):
            out += np.bitwise_count(e_bits[e, word] & t_bits[t, word])
        return out

    # Candidate pairs: realised, with an answer, or sharing an event and a theme. On a large
    # corpus they are millions: they are scored a block of emerging organisations at a time,
    # and only those that can stay are kept (see below).
    real_keys = np.array(sorted(e_pos[e] * n_t + t_pos[t] for e, t in realised), dtype=np.int64)
    answer_keys = found.pair_e * n_t + found.pair_t
    listed = _unique(np.concatenate([answer_keys, real_keys]))
    events_of_t = ev.org_events[t_glob].T.tocsr()
    block = max(1, SCORED_AT_ONCE // max(n_t, 1))

    def score_block(start):
        """The block's candidates that can stay, ``(keys, scores)``, and its realised pairs."""
        # Events together: a product of the organisations × events incidence with itself (its
        # rows in order and their columns sorted, the pairs that met come out sorted).
        together = (ev.org_events[e_glob[start:start + block]] @ events_of_t).tocsr()
        together.sort_indices()
        met = (start + np.repeat(np.arange(together.shape[0]), np.diff(together.indptr))) * n_t \
            + together.indices
        also = listed[(listed >= start * n_t) & (listed < (start + block) * n_t)]
        keys = _unique(np.concatenate([met[n_shared_themes(met // n_t, met % n_t) > 0], also]))
        at, hit = _find(met, keys)
        n_events = np.where(hit, together.data[at].astype(np.int64) if len(met) else 0, 0)
        pe, pt = keys // n_t, keys % n_t
        at, hit = _find(answer_keys, keys)
        total = np.where(hit, found.total[at] if len(answer_keys) else 0.0, 0.0)
        score = np.round(HYBRID_SCORE.theme * np.minimum(n_shared_themes(pe, pt), HYBRID_SCORE.max_themes) + total
                         + HYBRID_SCORE.event * np.minimum(n_events, HYBRID_SCORE.max_events), 4)
        real = _find(real_keys, keys)[1]
        # Each organisation keeps its best pairs, in the order of (score descending, pair id) —
        # the pair id's order is that of (emerging, traditional), since ids are slugs without
        # "--". A pair beyond the first PAIRS_PER_ORGANISATION of both its organisations within
        # its block is beyond them overall, so it goes now; the first of each stay for the walk
        # below, which finds them in the same order as among all the pairs.
        order = np.flatnonzero(~real)
        order = order[np.lexsort((keys[order], -np.rint(score[order] * 1e4).astype(np.int64)))]
        order = order[(_rank_within(pe[order]) < PAIRS_PER_ORGANISATION)
                      | (_rank_within(pt[order]) < PAIRS_PER_ORGANISATION)]
        return keys[order], score[order], keys[real], score[real]

    keys, score, real, real_score = [], [], [], []
    for start in range(0, len(emerging), block):
        for part, got in zip((keys, score, real, real_score), score_block(start)):
            part.append(got)
    keys, real = _concat(keys), _concat(real)
    score, real_score = _concat(score, np.float64), _concat(real_score, np.float64)
    order = np.lexsort((keys, -np.rint(score * 1e4).astype(np.int64)))
    pe, pt = keys // n_t, keys % n_t
    early = (_rank_within(pe[order]) < PAIRS_PER_ORGANISATION) | (
        _rank_within(pt[order]) < PAIRS_PER_ORGANISATION)
    kept, count = [], defaultdict(int)
    for k in order[early].tolist():
        e, t = int(pe[k]), int(pt[k])
        if count[("e", e)] < PAIRS_PER_ORGANISATION or count[("t", t)] < PAIRS_PER_ORGANISATION:
            kept.append(k)
            count[("e", e)] += 1
            count[("t", t)] += 1
    real_order = np.lexsort((real, -real_score))
    keys = np.concatenate([keys[kept], real[real_order]])
    score = np.concatenate([score[kept], real_score[real_order]])
    at, hit = _find(answer_keys, keys)
    answer_row = np.where(hit, at, -1)
    # The ranking, candidates and realised pairs apart, on different evidence.
    order, rank_score = [], []
    for part in (np.arange(len(kept)), np.arange(len(kept), len(keys))):
        got = diversified(score[part].tolist(), answer_row[part].tolist(), found)
        order += [int(part[i]) for i, _ in got]
        rank_score += [s for _, s in got]
    keys, score, answer_row = keys[order], score[order], answer_row[order]
    rank = np.arange(1, len(keys) + 1)
    rank[len(kept):] -= len(kept)
    return RankedPairs(emerging, traditional, keys // n_t, keys % n_t, score,
                       np.array(rank_score, dtype=np.float64), answer_row, rank, found,
                       dict(realised))


def diversified(scores: list[float], answer_rows: list[int], found: Answers) -> list[tuple[int, float]]:
    """The pairs in ranking order, as ``(position, ranking score)``: greedily, the pair with the
    best score once every answer of it whose problem or practice better-ranked pairs already
    cite counts :data:`HYBRID_SCORE.reuse_factor` to the power of those earlier citations (so the top pairs
    rest on different findings); ties by position (the pairs come in pair-id order at equal
    score). A pair's ranking score only falls as pairs are ranked, so each is recomputed only
    when it reaches the top of the heap (lazy greedy: the same order as recomputing all)."""
    answers_of = [[(a.problem, a.practice, a.weight) for a in found.best(row)] if row >= 0
                  else [] for row in answer_rows]
    uses: Counter = Counter()

    def points(i: int) -> int:  # in ten-thousandths, as the scores are rounded
        s = scores[i]
        for problem, practice, weight in answers_of[i]:
            if seen := uses[problem] + uses[practice]:
                s -= weight * (1 - HYBRID_SCORE.reuse_factor ** seen)
        return int(round(s * 1e4))

    heap = [(-int(round(s * 1e4)), i) for i, s in enumerate(scores)]
    heapq.heapify(heap)
    out = []
    while heap:
        stored, i = heapq.heappop(heap)
        now = points(i)
        if now != -stored:  # fallen since it was stored: back in its place
            heapq.heappush(heap, (-now, i))
            continue
        out.append((i, now / 1e4))
        for problem, practice, _ in answers_of[i]:
            uses[problem] += 1
            uses[practice] += 1
    return out


class PairRows:
    """The ``hybrid_pairs`` and ``hybrid_evidence`` rows of ranked pairs, a batch at a time (on
    a large corpus the rows take more memory than all the rest: :func:`compute_in_batches` makes
    each batch before making the next)."""

    def __init__(self, ev: Evidence, ranked: RankedPairs):

        self.ev, self.ranked = ev, ranked
        self.names = [ev.organisations[o]["name"] for o in ev.org_ids]
        org_pos = {o: n for n, o in enumerate(ev.org_ids)}
        self.e_glob = np.array([org_pos[o] for o in ranked.emerging], dtype=np.int64)
        self.t_glob = np.array([org_pos[o] for o in ranked.traditional], dtype=np.int64)
        # Themes in the order a reason names them (label, then id); events in date order.
        themes = sorted(range(len(ev.theme_ids)),
                        key=lambda n: (ev.themes[ev.theme_ids[n]], ev.theme_ids[n]))
        self.org_themes = ev.org_themes[:, themes]
        self.theme_ids = [ev.theme_ids[n] for n in themes]
        self.theme_labels = [ev.themes[ev.theme_ids[n]] for n in themes]
        self.themes_seen: dict[bytes, tuple[str, str | None]] = {}
        events = sorted(range(len(ev.event_ids)), key=lambda n: (
            ev.events[ev.event_ids[n]]["date"] or "9999", ev.event_ids[n]))
        self.org_events = ev.org_events[:, events].tocsr()
        self.org_events.sort_indices()
        # Each event's id as JSON (a JSON list of them is these joined by ", " in brackets,
        # exactly what json.dumps writes) and its name in a reason.
        self.event_json = [json.dumps(ev.event_ids[n]) for n in events]
        self.event_names = [_event_name(ev.events[ev.event_ids[n]]) for n in events]
        ids = {r["id"] for ways in ranked.realised.values() for r in ways
               if r["table"] == "findings"}
        self.synergy_at = {f: n for n, f in enumerate(ev.findings.ids) if f in ids}
        # The cited findings' kinds and the organisations they name, as lists: read per row.
        self.kind = [CITED_KINDS[k] for k in ev.findings.kind.tolist()]
        self.named_at, self.named = ev.findings.org_at.tolist(), ev.findings.org.tolist()
        self.raised = ev.findings.source.tolist()

    def _named(self, n: int) -> dict[int, bool]:
        """The organisations finding ``n`` names, each with whether it raised the point."""
        at, to = self.named_at[n], self.named_at[n + 1]
        return dict(zip(self.named[at:to], self.raised[at:to]))

    def _answer(self, a: Answer) -> str:
        cited, names = self.ev.findings, self.names
        what, verb = KIND_NAMES[self.kind[a.problem]]
        answerer = names[a.answered_by]
        # A practice that only names the answering organisation says who told it, if anyone.
        told = [o for o, raised in self._named(a.practice).items() if raised]
        by = (" raccontata " + _join([name_with("da", names[o]) for o in told])) if told else ""
        return (f"{what} {verb} {name_with('da', names[a.raised_by])}"
                f"{_at(cited.city[a.problem])} (risultato {cited.ids[a.problem]}) trova risposta "
                + (f"nella buona pratica {name_with('di', answerer)}" if a.answered_as_source
                   else f"in una buona pratica{by} che cita {with_article(answerer)}")
                + f"{_at(cited.city[a.practice])} (risultato {cited.ids[a.practice]})")

    def _way(self, way: dict) -> str:
        if way["table"] == "initiatives":
            initiative = self.ev.initiatives[way["id"]]
            return f"nell'iniziativa «{initiative['title']}» ({initiative['status']})"
        city = self.ev.findings.city[self.synergy_at[way["id"]]]
        return f"in una sinergia{_at(city)} (risultato {way['id']})"

    def __call__(self, which) -> tuple[list[tuple], list[tuple]]:
        """The rows of the ranked pairs at positions ``which``, in that order, as tuples of
        :data:`PAIR_COLUMNS`, and their evidence as tuples of :data:`EVIDENCE_COLUMNS`."""
        ranked, ids = self.ranked, self.ev.findings.ids
        e_glob, t_glob = self.e_glob[ranked.e[which]], self.t_glob[ranked.t[which]]
        common = self.org_themes[e_glob] & self.org_themes[t_glob]
        met = self.org_events[e_glob].multiply(self.org_events[t_glob]).tocsr()
        met.sort_indices()
        met_at, met_events = met.indptr.tolist(), met.indices.tolist()
        rows, evidence = [], []
        for i, (e, t, e_org, t_org, score, rank_score, row, rank) in enumerate(zip(
                e_glob.tolist(), t_glob.tolist(), ranked.e[which].tolist(),
                ranked.t[which].tolist(), ranked.score[which].tolist(),
                ranked.rank_score[which].tolist(), ranked.answer_row[which].tolist(),
                ranked.rank[which].tolist())):
            e_org, t_org = ranked.emerging[e_org], ranked.traditional[t_org]
            themes = common[i].tobytes()
            if themes not in self.themes_seen:
                labels = [label for label, c in zip(self.theme_labels, common[i]) if c]
                shared = [theme for theme, c in zip(self.theme_ids, common[i]) if c]
                self.themes_seen[themes] = (json.dumps(shared), _themes_text(labels))
            shared_themes, themes_text = self.themes_seen[themes]
            best = ranked.found.best(row) if row >= 0 else []
            events = met_events[met_at[i]:met_at[i + 1]]
            ways = ranked.realised.get((e_org, t_org), [])
            # Each finding with the pair's organisation it is cited for: who raised the
            # problem, who answers; for a synergy the member that told it, else the emerging.
            cited_for = {}
            for a in best:
                cited_for.setdefault(a.problem, a.raised_by)
                cited_for.setdefault(a.practice, a.answered_by)
            for w in ways:
                if w["table"] == "findings":
                    n = self.synergy_at[w["id"]]
                    cited_for.setdefault(n, t if self._named(n).get(t) and not
                                         self._named(n).get(e) else e)
            cites = list(cited_for)
            pair = pair_id(e_org, t_org)
            rows.append((  # in PAIR_COLUMNS order
                pair, e_org, t_org, rank, score, rank_score, shared_themes,
                int(ranked.found.count[row]) if row >= 0 else 0,
                max(a.similarity for a in best) if best else None,
                len(events),
                "[" + ", ".join(map(self.event_json.__getitem__, events)) + "]",
                int(bool(ways)),
                json.dumps(ways) if ways else "[]",
                reason([self._way(w) for w in ways], themes_text,
                       [self._answer(a) for a in best[:ANSWERS_IN_REASON]],
                       list(map(self.event_names.__getitem__, events))),
                json.dumps([ids[n] for n in cites]) if cites else "[]",
            ))
            for n, member in cited_for.items():
                evidence.append((pair, ids[n], EVIDENCE_ROLE_OF_KIND[self.kind[n]],
                                 e_org if member == e else t_org,
                                 SOURCE if self._named(n).get(member) else MENTIONED))
        return rows, evidence


# The rows as tuples of the tables' columns, in the dictionary's order: kb.store.write_rows
# inserts them as they are (dicts it would turn into tuples, a generator per row).
PAIR_COLUMNS = TABLES_BY_NAME["hybrid_pairs"].column_names

EVIDENCE_COLUMNS = TABLES_BY_NAME["hybrid_evidence"].column_names


def compute_pairs(ev: Evidence) -> tuple[list[dict], list[dict]]:
    """``(hybrid_pairs rows, hybrid_evidence rows)``, candidates ranked first, then realised.

    Scores are computed for every candidate pair at once (arrays); rows, reasons and evidence
    only for the pairs that stay.
    """

    ranked = rank_pairs(ev)
    rows, evidence = PairRows(ev, ranked)(np.arange(len(ranked.e)))
    keys = [c for c in PAIR_COLUMNS if c != "rank"] + ["rank"]  # (the rank came last)
    at = [PAIR_COLUMNS.index(k) for k in keys]
    return ([{k: r[i] for k, i in zip(keys, at)} for r in rows],
            [dict(zip(EVIDENCE_COLUMNS, r)) for r in sorted(evidence)])
