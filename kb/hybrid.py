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

import gc
import itertools
import json
import re
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from .dictionary import HYBRID_SCORE, TABLES_BY_NAME
from .italian import name_with, with_article
from .normalise import MENTION, NOT_TAG_SPANS, TAG
from .search import stem_words, words
from .store import Progress, _noop, connect_read_only
from .vocabulary import (
    EMERGING, EVIDENCE_ROLE_OF_KIND, FINAL, PRACTICE, PROBLEM, PROBLEM_KINDS, SOURCE, SYNERGY,
    THREAT, TRADITIONAL, sql_string,
)

# scikit-learn, SciPy, NumPy and networkx are imported where they are used: they
# take a second to load, which every other command of the CLI would otherwise pay.

# The weights of the score (see the module's docstring): published in the data dictionary,
# which describes hybrid_pairs' score with them.
W_THEME = HYBRID_SCORE.theme
W_ANSWER = HYBRID_SCORE.answer
W_SIMILARITY = HYBRID_SCORE.similarity
W_EVENT = HYBRID_SCORE.event
MAX_THEMES = HYBRID_SCORE.max_themes
MAX_ANSWERS = HYBRID_SCORE.max_answers
MAX_EVENTS = HYBRID_SCORE.max_events
MENTIONED_FACTOR = HYBRID_SCORE.mentioned_factor
ANSWERS_IN_REASON = 2
MIN_SIMILARITY = 0.05
PAIRS_PER_ORGANISATION = 20
MIN_SHARED_STEMS = 2  # an answer shares at least two stems with the problem
# Findings are compared within every pair up to this many emerging × traditional pairs; beyond,
# within each organisation's SHORTLIST closest partners (see answers()).
EXHAUSTIVE_PAIRS = 40_000
SHORTLIST = 20
MAX_COMPARED = 5  # findings of an organisation on a theme compared (see answers())
SCORED_AT_ONCE = 2_000_000  # emerging × traditional pairs scored at a time (see rank_pairs())
# Betweenness is exact up to this many organisations, then estimated from a fixed sample.
EXACT_BETWEENNESS_NODES = HYBRID_SCORE.exact_betweenness_nodes
BETWEENNESS_SAMPLE = 64
# ... and fewer on a dense graph: at most this many edges walked in all (a sample of 8 at least).
BETWEENNESS_EDGE_BUDGET = 1_500_000
SEED = 2015

KIND_NAMES = {PROBLEM: ("il problema", "sollevato"), THREAT: ("la minaccia", "segnalata")}
CITED_KINDS = PROBLEM_KINDS + (PRACTICE, SYNERGY)  # the findings a pair can cite

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
class Findings:
    """The findings a pair can cite — problems, threats, practices and synergies that name an
    organisation — as arrays: a finding is its position in id order.

    The organisations finding ``n`` names are ``org[org_at[n]:org_at[n + 1]]`` (positions in
    ``Evidence.org_ids``, ascending; ``org_finding`` repeats ``n`` for each), ``source`` saying
    which of them raised it; its themes are ``theme[theme_at[n]:theme_at[n + 1]]`` (positions
    in ``Evidence.theme_ids``). ``kind`` is a position in :data:`CITED_KINDS`.
    """

    ids: list[str]
    kind: np.ndarray
    city: list[str | None]
    org_at: np.ndarray
    org_finding: np.ndarray
    org: np.ndarray
    source: np.ndarray
    theme_at: np.ndarray
    theme: np.ndarray


@dataclass
class Evidence:
    """What the public database says, in the shape the computation needs.

    Organisations, themes and events come by id, as read; everything else as integer arrays
    and sparse matrices over their positions in ``org_ids``, ``theme_ids`` and ``event_ids``
    (the ids sorted). The findings' text is not held: :func:`answers` reads it from ``path``
    as the vectorizer needs it.
    """

    path: Path
    organisations: dict[str, dict]  # id -> {name, profile, province, municipality}
    themes: dict[str, str]  # id -> Italian label
    events: dict[str, dict]  # id -> {city, kind, date}
    org_ids: list[str]
    theme_ids: list[str]
    event_ids: list[str]
    findings: Findings
    org_themes: np.ndarray  # organisations × themes (bool): declared, or of its findings
    org_events: sparse.csr_matrix  # organisations × events, 1 where it took part
    co_mentions: sparse.csr_matrix  # organisations × organisations (a < b): findings naming both
    co_participants: sparse.csr_matrix  # the same for notes where both took part
    initiatives: dict[str, dict]  # id -> {title, status, organisations}


def _batches(cursor, size: int = 50_000):
    """A query's rows, a batch at a time: never a list of every row."""
    while rows := cursor.fetchmany(size):
        yield rows


def _column(rows: list[tuple], i: int, code=None, dtype=None) -> np.ndarray:
    """Column ``i`` of ``rows`` as an array, each value through the mapping ``code`` if any."""
    import numpy as np

    values = map(itemgetter(i), rows)
    if code is not None:
        values = map(code.__getitem__, values)
    return np.fromiter(values, dtype=dtype or np.int64, count=len(rows))


def _concat(arrays: list, dtype=None) -> np.ndarray:
    import numpy as np

    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype or np.int64)


def _incidence(rows, cols, shape) -> sparse.csr_matrix:
    """A 0/1 matrix with a 1 at each (row, col), however often it is given."""
    import numpy as np
    from scipy import sparse

    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    matrix.data[:] = 1.0
    return matrix


@contextmanager
def _collector_paused():
    """On a large corpus the computation makes millions of short-lived tuples, dicts and
    lists, none of them in a cycle: the cyclic garbage collector, run every few hundred of
    them, would walk the process's objects again and again.
    A context manager, or a decorator: ``@_collector_paused()``."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def read_evidence(public_db: Path | str) -> Evidence:
    """Read what the computation needs from the public database (read-only).

    ``findings`` holds only the findings a pair can cite; the rest of a large corpus counts
    towards the organisations' themes and events and the ties of the network, which are
    gathered on the way as products of incidence matrices (organisations × findings,
    findings × events, ...): no Python object per finding or per link is kept.
    """
    import numpy as np
    from scipy import sparse

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
        org_ids, theme_ids, event_ids = sorted(organisations), sorted(themes), sorted(events)
        org_pos = {o: n for n, o in enumerate(org_ids)}
        theme_pos = {t: n for n, t in enumerate(theme_ids)}
        event_pos = {e: n for n, e in enumerate(event_ids)}

        # Every finding that names an organisation, in id order (a finding is its position;
        # the other tables find it by its rowid); the cited kinds (the others are -1) keep
        # their id and city.
        kind_code = defaultdict(lambda: -1, {k: n for n, k in enumerate(CITED_KINDS)})
        at_rowid = np.full((q("select max(rowid) from findings").fetchone()[0] or 0) + 1, -1)
        kinds, finding_events, cited_ids, city = [], [], [], []
        cities: dict[str | None, str | None] = {}
        n_findings = 0
        for rows in _batches(q(
                "select rowid, kind, event_id, id, city from findings "
                "where id in (select finding_id from finding_organisations) order by id")):
            at_rowid[_column(rows, 0)] = np.arange(n_findings, n_findings + len(rows))
            n_findings += len(rows)
            kind = _column(rows, 1, kind_code, np.int8)
            kinds.append(kind)
            finding_events.append(_column(rows, 2, event_pos))
            cited = [rows[n] for n in np.flatnonzero(kind >= 0).tolist()]
            # (The ids as an array, a city as its first string: what a batch's rows held is
            # freed with them, not kept scattered in memory one string at a time.)
            cited_ids.append(np.array([r[3] for r in cited], dtype=str))
            city += [cities.setdefault(r[4], r[4]) for r in cited]
        kind, finding_events = _concat(kinds, np.int8), _concat(finding_events)
        cited_ids = _concat(cited_ids, str).tolist()

        named_finding, named_org, named_source = [], [], []
        for rows in _batches(q(
                f"select f.rowid, fo.organisation_id, fo.role = {sql_string(SOURCE)} "
                "from finding_organisations fo join findings f on f.id = fo.finding_id")):
            named_finding.append(at_rowid[_column(rows, 0)])
            named_org.append(_column(rows, 1, org_pos))
            named_source.append(_column(rows, 2, dtype=bool))
        named_finding, named_org = _concat(named_finding), _concat(named_org)
        named_source = _concat(named_source, bool)
        theme_finding, theme_of = [], []
        for rows in _batches(q("select f.rowid, ft.theme_id from finding_themes ft "
                               "join findings f on f.id = ft.finding_id")):
            finding = at_rowid[_column(rows, 0)]
            theme_finding.append(finding[finding >= 0])
            theme_of.append(_column(rows, 1, theme_pos)[finding >= 0])
        theme_finding, theme_of = _concat(theme_finding), _concat(theme_of)
        del at_rowid
        note_pos: dict[str, int] = {}
        note_events: list[int] = []
        participant_note, participant_org = [], []
        for rows in _batches(q(
                "select np.note_id, n.event_id, np.organisation_id from note_participants np "
                "join notes n on n.id = np.note_id")):
            for note, event, _ in rows:
                if note not in note_pos:
                    note_pos[note] = len(note_pos)
                    note_events.append(event_pos[event])
            participant_note.append(_column(rows, 0, note_pos))
            participant_org.append(_column(rows, 2, org_pos))
        participant_note, participant_org = _concat(participant_note), _concat(participant_org)
        declared = [(org_pos[o], theme_pos[t]) for o, t in q(
            "select organisation_id, theme_id from organisation_themes")]
        initiatives = {r[0]: {"title": r[1], "status": r[2], "organisations": []}
                       for r in q("select id, title, status from initiatives order by id")}
        for initiative_id, org in q(
                "select initiative_id, organisation_id from initiative_organisations "
                "order by initiative_id, organisation_id"):
            initiatives[initiative_id]["organisations"].append(org)
    finally:
        conn.close()
    n_orgs, n_themes, n_events = len(org_ids), len(theme_ids), len(event_ids)

    # An organisation's events: those of the findings that name it and of the notes it took
    # part in; its themes: those it declared and those of the findings that name it; two
    # organisations' ties: the findings that name both, the notes where both took part.
    by_finding = _incidence(named_org, named_finding, (n_orgs, n_findings))
    by_note = _incidence(participant_org, participant_note, (n_orgs, len(note_pos)))
    org_events = (by_finding @ _incidence(np.arange(n_findings), finding_events,
                                          (n_findings, n_events))
                  + by_note @ _incidence(np.arange(len(note_pos)), np.array(note_events, np.int64),
                                         (len(note_pos), n_events))).tocsr()
    org_events.data[:] = 1.0
    org_themes = (by_finding @ _incidence(theme_finding, theme_of, (n_findings, n_themes))
                  ).toarray() > 0
    for o, t in declared:
        org_themes[o, t] = True
    co_mentions = sparse.triu(by_finding @ by_finding.T, k=1).tocsr()
    co_participants = sparse.triu(by_note @ by_note.T, k=1).tocsr()
    del by_finding, by_note

    # The cited findings, renumbered: their organisations and themes, sorted.
    cited = np.flatnonzero(kind >= 0)
    renumber = np.full(n_findings, -1, dtype=np.int64)
    renumber[cited] = np.arange(len(cited))

    def cells(finding, member, *more):
        keep = renumber[finding] >= 0
        finding, member = renumber[finding[keep]], member[keep]
        order = np.lexsort((member, finding))
        at = np.searchsorted(finding[order], np.arange(len(cited) + 1))
        return (at, finding[order], member[order]) + tuple(m[keep][order] for m in more)

    org_at, org_finding, org, source = cells(named_finding, named_org, named_source)
    theme_at, _, theme = cells(theme_finding, theme_of)
    findings = Findings(cited_ids, kind[cited], city, org_at, org_finding, org, source,
                        theme_at, theme)
    return Evidence(Path(public_db), organisations, themes, events, org_ids, theme_ids,
                    event_ids, findings, org_themes, org_events, co_mentions, co_participants,
                    initiatives)


def _texts(path: Path, ids: list[str], block: int = 10_000):
    """The text of the findings ``ids``, in that order, read a block at a time."""
    conn = connect_read_only(path)
    try:
        for start in range(0, len(ids), block):
            part = ids[start:start + block]
            texts = [r[0] for r in conn.execute(
                "select f.text from json_each(?) j join findings f on f.id = j.value "
                "order by j.key", [json.dumps(part)])]
            if len(texts) != len(part):
                raise RuntimeError(f"{path}: findings changed while being read")
            yield from texts
    finally:
        conn.close()


# --------------------------------------------------------------------------- similarity


# Mentions, links, code and tags, in one pass. The tag is kb.normalise.TAG with its "#" moved
# before its look-behind (which then checks the character before the "#"): the same matches,
# but a pattern that starts with a plain character lets `re` skip to the next "#" instead of
# trying the look-behind at every position.
_TAG_FIRST = "#" + TAG.pattern.replace(")#", "#)", 1)
_NOT_WORDS = re.compile("|".join(f"(?:{r})" for r in (MENTION.pattern, NOT_TAG_SPANS.pattern,
                                                        _TAG_FIRST)))


@lru_cache(maxsize=1 << 17)
def _word_stems(word: str) -> tuple[str, ...]:
    """A word's stems for the similarity (a corpus repeats its words: each is stemmed once)."""
    return tuple(s for s in stem_words(word) if s not in STOP_STEMS and not s.isdigit())


def similarity_stems(text: str) -> list[str]:
    """A finding's stems for the similarity: mentions, tags, links and function words out."""
    text = _NOT_WORDS.sub(" ", text)
    return [s for word in words(text) for s in _word_stems(word)]


class Answer(NamedTuple):
    """A problem or threat raised by one organisation, answered by the other's practice
    (findings as positions in ``Evidence.findings``, organisations in ``Evidence.org_ids``)."""

    similarity: float
    problem: int
    practice: int
    raised_by: int
    answered_by: int
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

    pair_e: np.ndarray
    pair_t: np.ndarray
    count: np.ndarray
    total: np.ndarray
    _start: list  # pair row -> its first best answer in the lists below
    _rows: dict  # problem, practice, raiser, answerer, source, similarity (lists)

    @classmethod
    def empty(cls) -> Answers:
        import numpy as np

        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, none, np.zeros(0), [0], {})

    def best(self, row: int) -> list[Answer]:
        """The best answers of the pair at ``row``, best first."""
        r = self._rows
        return [Answer(r["similarity"][i], r["problem"][i], r["practice"][i], r["raiser"][i],
                       r["answerer"][i], r["source"][i])
                for i in range(self._start[row], self._start[row + 1])]


def _bits(present) -> np.ndarray:
    """Each row's true columns as bits, 64 to a word (rows × words, uint64): whether two rows
    have a column in common, or how many, is then an AND (and a count of bits)."""
    import numpy as np

    bits = np.zeros((present.shape[0], present.shape[1] // 64 + 1), dtype=np.uint64)
    for column in range(present.shape[1]):
        bits[:, column // 64] |= present[:, column].astype(np.uint64) << np.uint64(column % 64)
    return bits


def _top_partners(left, right, left_themes, right_themes, k: int):
    """For each row of ``left``, the ``k`` rows of ``right`` most similar to it (dot product,
    rounded so that ties are broken by position) among those with a theme in common (the
    themes as :func:`_bits`); as ``(left rows, right rows, similarity in millionths)`` arrays,
    a block of rows at a time."""
    import numpy as np

    n_right = right.shape[0]
    lefts, rights, sims_kept = [], [], []
    block = max(1, 1_000_000 // max(n_right, 1))
    right_t = right.T
    for start in range(0, left.shape[0], block):
        sims = left[start:start + block] @ right_t
        sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
        valid = sims > 0
        common = np.zeros(valid.shape, dtype=bool)
        for word in range(left_themes.shape[1]):
            common |= (left_themes[start:start + block, word, None] & right_themes[:, word]) != 0
        valid &= common
        points = np.rint(sims * 1e6).astype(np.int64)
        key = -points * n_right + np.arange(n_right)
        key[~valid] = np.iinfo(np.int64).max
        if n_right > k:
            top = np.argpartition(key, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(n_right), key.shape)
        rows = np.broadcast_to(np.arange(key.shape[0])[:, None], top.shape)
        ok = valid[rows, top]
        lefts.append(rows[ok] + start)
        rights.append(top[ok])
        sims_kept.append(points[rows[ok], top[ok]])
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


def _unique(values):
    """The distinct values, sorted: ``np.unique`` without its hash table, which NumPy 2.4 fills
    far more slowly than it sorts millions of integers."""
    import numpy as np

    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _find(sorted_keys, keys):
    """Where each of ``keys`` is in ``sorted_keys`` and whether it is there: ``(at, hit)``."""
    import numpy as np

    at = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
    hit = sorted_keys[at] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
    return at, hit


def _runs(start, count):
    """Runs ``[start, start + count)`` laid end to end: for each element, its run and its value."""
    import numpy as np

    run = np.repeat(np.arange(len(count)), count)
    return run, start[run] + np.arange(len(run)) - np.repeat(np.cumsum(count) - count, count)


def _row_products(left, left_rows, right, right_rows, block: int = 16_384):
    """For each ``i``, the dot product of row ``left_rows[i]`` of ``left`` and row
    ``right_rows[i]`` of ``right`` (sparse), and how many columns the two rows share; a block of
    rows at a time, as pairs of arrays (the rows gathered for a block take as much memory as
    the block)."""
    import numpy as np

    for start in range(0, max(len(left_rows), 1), block):  # (one block, if empty)
        product = left[left_rows[start:start + block]].multiply(
            right[right_rows[start:start + block]]).tocsr()
        yield np.asarray(product.sum(axis=1)).ravel(), np.diff(product.indptr)


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

    cited = ev.findings
    org_pos = {o: n for n, o in enumerate(ev.org_ids)}
    n_orgs, n_themes = len(ev.org_ids), len(ev.theme_ids)
    raised_any = np.zeros(len(cited.ids), dtype=bool)
    raised_any[cited.org_finding[cited.source]] = True
    problems = np.flatnonzero((cited.kind < len(PROBLEM_KINDS)) & raised_any)
    practices = np.flatnonzero(cited.kind == CITED_KINDS.index(PRACTICE))
    if not len(problems) or not len(practices) or not emerging or not traditional:
        return Answers.empty()
    vectorizer = TfidfVectorizer(analyzer=similarity_stems, sublinear_tf=True, dtype=np.float64)
    try:  # the text goes from the database straight into the vectorizer
        matrix = vectorizer.fit_transform(_texts(
            ev.path, [cited.ids[n] for n in itertools.chain(problems, practices)])).tocsr()
    except ValueError:  # no words at all
        return Answers.empty()
    x_problems, x_practices = matrix[:len(problems)], matrix[len(problems):]
    del matrix, vectorizer

    # Who raised which problem, who takes part in which practice (and whether as its source):
    # one row per (theme, organisation, finding), sorted, so that the findings of an
    # organisation on a theme are a contiguous run (the finding as its row in ``findings``).
    def incidence(findings, sources_only: bool):
        row = np.full(len(cited.ids), -1, dtype=np.int64)
        row[findings] = np.arange(len(findings))
        named = row[cited.org_finding] >= 0
        if sources_only:
            named &= cited.source
        named = np.flatnonzero(named)
        finding = cited.org_finding[named]
        start = cited.theme_at[finding]
        cell, theme = _runs(start, cited.theme_at[finding + 1] - start)
        named = named[cell]
        source = np.zeros(len(named), dtype=np.int64) if sources_only else cited.source[named]
        cells = np.stack([cited.theme[theme], cited.org[named], row[cited.org_finding[named]],
                          source]).T.astype(np.int64)
        return cells[np.lexsort((cells[:, 2], cells[:, 1], cells[:, 0]))]

    def typical(cells, x):
        """An organisation with more than MAX_COMPARED findings on a theme is represented by
        the MAX_COMPARED closest to the sum of them all (its most typical ones), so that the
        comparisons of a pair stay bounded however prolific the two organisations are."""
        if not len(cells):  # (no finding on any theme: nothing to compare)
            return cells, np.zeros(n_themes * n_orgs + 1, dtype=np.int64)
        run = cells[:, 0] * n_orgs + cells[:, 1]
        group = np.unique(run, return_inverse=True)[1].ravel()
        centre = normalize(sparse.csr_matrix((np.ones(len(cells)), (group, cells[:, 2])),
                                             shape=(group.max(initial=-1) + 1, x.shape[0])) @ x)
        closeness = np.concatenate([c for c, _ in _row_products(x, cells[:, 2], centre, group)])
        order = np.lexsort((cells[:, 2], -np.round(closeness, 9), run))
        keep = np.zeros(len(cells), dtype=bool)
        keep[order] = _rank_within(run[order]) < MAX_COMPARED
        cells, run = cells[keep], run[keep]
        return cells, np.searchsorted(run, np.arange(n_themes * n_orgs + 1))

    raised_all = incidence(problems, sources_only=True)
    given_all = incidence(practices, sources_only=False)
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
                                    shape=(n_orgs, x.shape[0]))
            inc.data[:] = 1.0  # a finding counts once for an organisation, whatever its themes
            themes = sparse.csr_matrix((np.ones(len(cells)), (cells[:, 1], cells[:, 0])),
                                       shape=(n_orgs, n_themes))
            return normalize(inc @ x), themes

        raised_profile, raised_themes = profile(raised_all, x_problems)
        given_profile, given_themes = profile(given_all, x_practices)
        # Dot products of these rows: what E raised against what T practises, plus the reverse.
        e_side = sparse.hstack([raised_profile[e_glob], given_profile[e_glob]]).tocsr()
        t_side = sparse.hstack([given_profile[t_glob], raised_profile[t_glob]]).tocsr()
        e_themes = sparse.hstack([raised_themes[e_glob], given_themes[e_glob]]).tocsr()
        t_themes = sparse.hstack([given_themes[t_glob], raised_themes[t_glob]]).tocsr()
        e_side, t_side = _dense_if_small(e_side), _dense_if_small(t_side)
        e_themes, t_themes = _bits(e_themes.toarray() > 0), _bits(t_themes.toarray() > 0)
        a_e, a_t, a_sim = _top_partners(e_side, t_side, e_themes, t_themes, SHORTLIST)
        b_t, b_e, b_sim = _top_partners(t_side, e_side, t_themes, e_themes, SHORTLIST)
        del e_side, t_side
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
    del raised_all, given_all

    # Every (problem, practice) on a common theme within a pair, in both directions, and
    # their similarity, a block at a time; an answer needs MIN_SIMILARITY and at least
    # MIN_SHARED_STEMS stems in common (one shared word is too often a coincidence): only
    # those are kept (as 32-bit positions: there are millions on a large corpus).
    parts: dict[str, list] = defaultdict(list)
    for raiser_side, answerer_side in ((e_glob[pe], t_glob[pt]), (t_glob[pt], e_glob[pe])):
        for theme in range(n_themes):
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
            del offset, i, j
            products = list(_row_products(x_problems, r_cells[:, 2], x_practices, a_cells[:, 2]))
            similarity = np.round(np.concatenate([p[0] for p in products]), 4)
            shared = np.concatenate([p[1] for p in products])
            keep = (similarity >= MIN_SIMILARITY) & (shared >= MIN_SHARED_STEMS)
            for name, column in (("pair", rep), ("problem", r_cells[:, 2]),
                                 ("practice", a_cells[:, 2]), ("raiser", r_cells[:, 1]),
                                 ("answerer", a_cells[:, 1]), ("source", a_cells[:, 3])):
                parts[name].append(column[keep].astype(np.int32))
            parts["similarity"].append(similarity[keep])
    if not parts:
        return Answers.empty()
    t = {k: np.concatenate(v) for k, v in parts.items()}
    del parts, x_problems, x_practices
    t["weight"] = np.where(t["source"] == 1, 1.0, MENTIONED_FACTOR) * (
        W_ANSWER + W_SIMILARITY * t["similarity"])

    # For each problem of a pair only its best practice counts; then the pair's best answers
    # (sorting a permutation of the rows, which are gathered once at the end).
    at = np.lexsort((t["answerer"], t["raiser"], t["practice"], -t["weight"], t["problem"],
                     t["pair"]))
    pair, problem = t["pair"][at], t["problem"][at]
    first = np.ones(len(at), dtype=bool)
    first[1:] = (pair[1:] != pair[:-1]) | (problem[1:] != problem[:-1])
    at = at[first]
    del pair, problem, first
    at = at[np.lexsort((t["practice"][at], t["problem"][at], -t["weight"][at], t["pair"][at]))]
    pairs, start, count = np.unique(t["pair"][at], return_index=True, return_counts=True)
    rank = np.arange(len(at)) - np.repeat(start, count)
    top = rank < MAX_ANSWERS
    t = {k: v[at[top]] for k, v in t.items()}
    row = np.searchsorted(pairs, t["pair"])
    weights = np.zeros((len(pairs), MAX_ANSWERS))
    weights[row, rank[top]] = t["weight"]
    total = weights[:, 0]
    for k in range(1, MAX_ANSWERS):  # summed best first, as Python's sum() would
        total = total + weights[:, k]
    starts = np.concatenate([[0], np.cumsum(np.minimum(count, MAX_ANSWERS))])
    # As lists of plain values (findings as positions in ev.findings), what best() hands out.
    best = {"similarity": t["similarity"].tolist(), "problem": problems[t["problem"]].tolist(),
            "practice": practices[t["practice"]].tolist(), "raiser": t["raiser"].tolist(),
            "answerer": t["answerer"].tolist(), "source": (t["source"] == 1).tolist()}
    return Answers(pe[pairs], pt[pairs], count, total, starts.tolist(), best)


# --------------------------------------------------------------------------- pairs


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
    answer_row: np.ndarray
    rank: np.ndarray  # 1, 2, ... among candidates, and again among realised pairs
    found: Answers
    realised: dict[tuple[str, str], list[dict]]  # (emerging, traditional) -> ways

    def ids(self) -> list[str]:
        return [pair_id(self.emerging[e], self.traditional[t])
                for e, t in zip(self.e.tolist(), self.t.tolist())]


def rank_pairs(ev: Evidence) -> RankedPairs:
    """Score every candidate pair at once (arrays) and keep each organisation's best."""
    import numpy as np

    orgs = ev.organisations
    emerging = sorted(o for o, r in orgs.items() if r["profile"] == EMERGING)
    traditional = sorted(o for o, r in orgs.items() if r["profile"] == TRADITIONAL)
    e_pos = {o: n for n, o in enumerate(emerging)}
    t_pos = {o: n for n, o in enumerate(traditional)}
    org_pos = {o: n for n, o in enumerate(ev.org_ids)}
    e_glob = np.array([org_pos[o] for o in emerging], dtype=np.int64)
    t_glob = np.array([org_pos[o] for o in traditional], dtype=np.int64)
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
        score = np.round(W_THEME * np.minimum(n_shared_themes(pe, pt), MAX_THEMES) + total
                         + W_EVENT * np.minimum(n_events, MAX_EVENTS), 4)
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
    rank = np.arange(1, len(keys) + 1)
    rank[len(kept):] -= len(kept)
    at, hit = _find(answer_keys, keys)
    return RankedPairs(emerging, traditional, keys // n_t, keys % n_t, score,
                       np.where(hit, at, -1), rank, found, dict(realised))


class PairRows:
    """The ``hybrid_pairs`` and ``hybrid_evidence`` rows of ranked pairs, a batch at a time (on
    a large corpus the rows take more memory than all the rest: :func:`compute_in_batches` makes
    each batch before making the next)."""

    def __init__(self, ev: Evidence, ranked: RankedPairs):
        import numpy as np

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

    def _answer(self, a: Answer) -> str:
        cited, names = self.ev.findings, self.names
        what, verb = KIND_NAMES[self.kind[a.problem]]
        answerer = names[a.answered_by]
        return (f"{what} {verb} {name_with('da', names[a.raised_by])}"
                f"{_at(cited.city[a.problem])} (risultato {cited.ids[a.problem]}) trova risposta "
                + (f"nella buona pratica {name_with('di', answerer)}" if a.answered_as_source
                   else f"in una buona pratica che coinvolge {with_article(answerer)}")
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
        for i, (e, t, e_org, t_org, score, row, rank) in enumerate(zip(
                e_glob.tolist(), t_glob.tolist(), ranked.e[which].tolist(),
                ranked.t[which].tolist(), ranked.score[which].tolist(),
                ranked.answer_row[which].tolist(), ranked.rank[which].tolist())):
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
            cites = [n for a in best for n in (a.problem, a.practice)]
            cites += [self.synergy_at[w["id"]] for w in ways if w["table"] == "findings"]
            cites = list(dict.fromkeys(cites))
            pair = pair_id(e_org, t_org)
            rows.append((  # in PAIR_COLUMNS order
                pair, e_org, t_org, rank, score, shared_themes,
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
            for n in cites:
                named = self.named[self.named_at[n]:self.named_at[n + 1]]
                org = e_org if e in named else t_org if t in named else None
                evidence.append((pair, ids[n], EVIDENCE_ROLE_OF_KIND[self.kind[n]], org))
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
    import numpy as np

    ranked = rank_pairs(ev)
    rows, evidence = PairRows(ev, ranked)(np.arange(len(ranked.e)))
    keys = [c for c in PAIR_COLUMNS if c != "rank"] + ["rank"]  # (the rank came last)
    at = [PAIR_COLUMNS.index(k) for k in keys]
    return ([{k: r[i] for k, i in zip(keys, at)} for r in rows],
            [dict(zip(EVIDENCE_COLUMNS, r)) for r in sorted(evidence)])


# --------------------------------------------------------------------------- network


def network(ev: Evidence) -> nx.Graph:
    """Organisations linked by co-mention in findings and co-participation in notes.

    Edge attributes: ``findings`` and ``notes`` (how many of each join the two), ``weight``
    (their sum). Nodes carry ``profile`` and ``name``. Built in id order, so it is the same
    graph, node for node and edge for edge, on every run.
    """
    import networkx as nx
    import numpy as np

    graph = nx.Graph()
    graph.add_nodes_from((org, {"profile": ev.organisations[org]["profile"],
                                "name": ev.organisations[org]["name"]}) for org in ev.org_ids)
    n = len(ev.org_ids)
    findings, notes = ev.co_mentions.tocoo(), ev.co_participants.tocoo()
    f_keys = findings.row.astype(np.int64) * n + findings.col
    n_keys = notes.row.astype(np.int64) * n + notes.col
    keys = _unique(np.concatenate([f_keys, n_keys]))  # the ties, in (a, b) order

    def count(of_keys, values):
        out = np.zeros(len(keys), dtype=np.int64)
        out[np.searchsorted(keys, of_keys)] = np.rint(values)
        return out.tolist()

    ids = ev.org_ids
    graph.add_edges_from(
        (ids[a], ids[b], {"findings": f, "notes": m, "weight": f + m})
        for a, b, f, m in zip((keys // n).tolist(), (keys % n).tolist(),
                              count(f_keys, findings.data), count(n_keys, notes.data)))
    return graph


def network_rows(graph: nx.Graph) -> list[dict]:
    """One ``organisation_network`` row per organisation."""
    import networkx as nx

    n = graph.number_of_nodes()
    k = None if n <= EXACT_BETWEENNESS_NODES else min(
        BETWEENNESS_SAMPLE, n,
        max(8, BETWEENNESS_EDGE_BUDGET // max(graph.number_of_edges(), 1)))
    betweenness = nx.betweenness_centrality(graph, k=k, normalized=True, seed=SEED) if n else {}
    profile_of, rows = dict(graph.nodes(data="profile")), []
    for org, ties in sorted(graph.adjacency()):
        profile = profile_of[org]
        cross = sum(profile_of[o] != profile for o in ties)
        rows.append({
            "organisation_id": org,
            "profile": profile,
            "degree": len(ties),
            "strength": int(sum(tie["weight"] for tie in ties.values())),
            "betweenness": round(float(betweenness.get(org, 0.0)), 6),
            "cross_profile_ties": cross,
            "same_profile_ties": len(ties) - cross,
            # A bridge: most of its ties (and at least two) cross the profiles.
            "is_bridge": int(cross >= 2 and cross >= len(ties) - cross),
        })
    return rows


# --------------------------------------------------------------------------- the build


@dataclass
class HybridTables:
    hybrid_pairs: list[dict]
    hybrid_evidence: list[dict]
    organisation_network: list[dict]


@_collector_paused()
def compute(public_db: Path | str) -> HybridTables:
    """The three tables, computed from the public database only."""
    ev = read_evidence(public_db)
    pairs, evidence = compute_pairs(ev)
    return HybridTables(pairs, evidence, network_rows(network(ev)))


# Pairs whose rows are made at a time by compute_in_batches.
WRITE_BATCH = 4_096


@dataclass
class BatchedTables:
    """The tables for a build: the network's rows, and the pairs' rows (tuples of
    :data:`PAIR_COLUMNS`, in primary-key order) with their evidence (tuples of
    :data:`EVIDENCE_COLUMNS`) made a batch at a time by :meth:`pair_batches`."""

    organisation_network: list[dict]
    pairs: int
    _make_rows: Callable | None
    _order: np.ndarray | None

    def pair_batches(self) -> Iterator[tuple[list[tuple], list[tuple]]]:
        """``(pairs' rows, their evidence)`` a batch at a time; the computation's memory is
        given back once the last batch is made."""
        make_rows, order = self._make_rows, self._order
        self._make_rows = self._order = None
        with _collector_paused():
            for start in range(0, self.pairs, WRITE_BATCH):
                yield make_rows(order[start:start + WRITE_BATCH])


@_collector_paused()
def compute_in_batches(public_db: Path | str, progress: Progress = _noop) -> BatchedTables:
    """What :func:`compute` gives, for a build: on a large corpus the pairs' rows take more
    memory than all the rest, so they are made a batch at a time, as they are written (the
    same rows, in the same order, without holding them all)."""
    import numpy as np

    progress("ibridazioni", 0, 2)
    ev = read_evidence(public_db)
    organisation_network = network_rows(network(ev))  # the graph goes before the pairs come
    ranked = rank_pairs(ev)
    progress("ibridazioni", 1, 2)
    ids = ranked.ids()
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    return BatchedTables(organisation_network, len(ids), PairRows(ev, ranked), order)
