"""The evidence the hybridisation reads from the public database, as arrays, and its settings."""

from __future__ import annotations

import gc
import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import numpy as np
from scipy import sparse

from ..domain.text import stem_words
from ..domain.vocabulary import (
    PRACTICE,
    PROBLEM,
    PROBLEM_KINDS,
    SOURCE,
    SYNERGY,
    THREAT,
    sql_string,
)
from ..store.database import connect_read_only

# The weights of the score and its caps are HYBRID_SCORE's (kb.domain.dictionary), where the
# data dictionary publishes them with hybrid_pairs' score; the settings below are the
# computation's own.
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
# Betweenness is exact up to HYBRID_SCORE.exact_betweenness_nodes organisations, then estimated
# from a fixed sample.
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
    organisations: dict[str, dict]  # id -> {name, profile, province, municipality, staff}
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

    values = map(itemgetter(i), rows)
    if code is not None:
        values = map(code.__getitem__, values)
    return np.fromiter(values, dtype=dtype or np.int64, count=len(rows))


def _concat(arrays: list, dtype=None) -> np.ndarray:

    return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype or np.int64)


def _incidence(rows, cols, shape) -> sparse.csr_matrix:
    """A 0/1 matrix with a 1 at each (row, col), however often it is given."""

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

    Long on purpose: one pass over the database whose queries fill the same incidence
    matrices; split, each part would pass the open cursor and half the arrays.
    """

    conn = connect_read_only(public_db)
    try:
        q = conn.execute
        organisations = {
            r[0]: {"name": r[1], "profile": r[2], "province": r[3], "municipality": r[4],
                   "staff": r[5] is not None}
            for r in q("select id, name, profile, province, municipality, programme_role "
                       "from organisations order by id")}
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
