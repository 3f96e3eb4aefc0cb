"""Answers: a problem or threat of one organisation and a similar good practice of the other."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ..domain.dictionary import HYBRID_SCORE
from ..domain.syntax import MENTION, NOT_TAG_SPANS, TAG
from ..domain.text import stem_words, words
from ..domain.vocabulary import PRACTICE, PROBLEM_KINDS
from .evidence import (
    CITED_KINDS,
    EXHAUSTIVE_PAIRS,
    MAX_COMPARED,
    MIN_SHARED_STEMS,
    MIN_SIMILARITY,
    SHORTLIST,
    STOP_STEMS,
    Evidence,
    _texts,
)

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
        weight = HYBRID_SCORE.answer + HYBRID_SCORE.similarity * self.similarity
        return weight if self.answered_as_source else HYBRID_SCORE.mentioned_factor * weight


@dataclass
class Answers:
    """The answers of many pairs at once, as arrays (a pair is an emerging organisation and a
    traditional one, as positions in the sorted lists ``emerging`` and ``traditional``).

    ``pair_e``, ``pair_t``: the pairs with at least one answer, sorted; ``count``: how many
    problems or threats of the pair found an answer; ``total``: the sum of the weights of its
    :data:`HYBRID_SCORE.max_answers` best answers, which :meth:`best` gives as :class:`Answer` objects.
    """

    pair_e: np.ndarray
    pair_t: np.ndarray
    count: np.ndarray
    total: np.ndarray
    _start: list  # pair row -> its first best answer in the lists below
    _rows: dict  # problem, practice, raiser, answerer, source, similarity (lists)

    @classmethod
    def empty(cls) -> Answers:

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

    bits = np.zeros((present.shape[0], present.shape[1] // 64 + 1), dtype=np.uint64)
    for column in range(present.shape[1]):
        bits[:, column // 64] |= present[:, column].astype(np.uint64) << np.uint64(column % 64)
    return bits


def _top_partners(left, right, left_themes, right_themes, k: int):
    """For each row of ``left``, the ``k`` rows of ``right`` most similar to it (dot product,
    rounded so that ties are broken by position) among those with a theme in common (the
    themes as :func:`_bits`); as ``(left rows, right rows, similarity in millionths)`` arrays,
    a block of rows at a time."""

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

    by = np.argsort(group, kind="stable")
    count = np.bincount(group)
    start = np.cumsum(count) - count
    rank = np.empty(len(group), dtype=np.int64)
    rank[by] = np.arange(len(group)) - start[group[by]]
    return rank


def _unique(values):
    """The distinct values, sorted: ``np.unique`` without its hash table, which NumPy 2.4 fills
    far more slowly than it sorts millions of integers."""

    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _find(sorted_keys, keys):
    """Where each of ``keys`` is in ``sorted_keys`` and whether it is there: ``(at, hit)``."""

    at = np.minimum(np.searchsorted(sorted_keys, keys), max(len(sorted_keys) - 1, 0))
    hit = sorted_keys[at] == keys if len(sorted_keys) else np.zeros(len(keys), dtype=bool)
    return at, hit


def _runs(start, count):
    """Runs ``[start, start + count)`` laid end to end: for each element, its run and its value."""

    run = np.repeat(np.arange(len(count)), count)
    return run, start[run] + np.arange(len(run)) - np.repeat(np.cumsum(count) - count, count)


def _row_products(left, left_rows, right, right_rows, block: int = 16_384):
    """For each ``i``, the dot product of row ``left_rows[i]`` of ``left`` and row
    ``right_rows[i]`` of ``right`` (sparse), and how many columns the two rows share; a block of
    rows at a time, as pairs of arrays (the rows gathered for a block take as much memory as
    the block)."""

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


def import_scikit_learn() -> None:
    """Import what :func:`answers` imports when it runs (half a second of CPU), ahead of it:
    a build does it on a second thread while SQLite derives the public database."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: F401
    from sklearn.preprocessing import normalize  # noqa: F401


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

    Long on purpose: one vectorised pipeline (shortlist, theme blocks, cosine, keep the
    best) whose steps share a dozen large arrays; split, each part would take and return
    them all.
    """
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
    t["weight"] = np.where(t["source"] == 1, 1.0, HYBRID_SCORE.mentioned_factor) * (
        HYBRID_SCORE.answer + HYBRID_SCORE.similarity * t["similarity"])

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
    top = rank < HYBRID_SCORE.max_answers
    t = {k: v[at[top]] for k, v in t.items()}
    row = np.searchsorted(pairs, t["pair"])
    weights = np.zeros((len(pairs), HYBRID_SCORE.max_answers))
    weights[row, rank[top]] = t["weight"]
    total = weights[:, 0]
    for k in range(1, HYBRID_SCORE.max_answers):  # summed best first, as Python's sum() would
        total = total + weights[:, k]
    starts = np.concatenate([[0], np.cumsum(np.minimum(count, HYBRID_SCORE.max_answers))])
    # As lists of plain values (findings as positions in ev.findings), what best() hands out.
    best = {"similarity": t["similarity"].tolist(), "problem": problems[t["problem"]].tolist(),
            "practice": practices[t["practice"]].tolist(), "raiser": t["raiser"].tolist(),
            "answerer": t["answerer"].tolist(), "source": (t["source"] == 1).tolist()}
    return Answers(pe[pairs], pt[pairs], count, total, starts.tolist(), best)
