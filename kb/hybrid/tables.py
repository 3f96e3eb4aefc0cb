"""The three hybrid tables computed whole or in batches for the build."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..outputs import Progress, _noop
from .evidence import _collector_paused, read_evidence
from .network import network, network_rows
from .pairs import PairRows, compute_pairs, rank_pairs


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

    progress("ibridazioni", 0, 2)
    ev = read_evidence(public_db)
    organisation_network = network_rows(network(ev))  # the graph goes before the pairs come
    ranked = rank_pairs(ev)
    progress("ibridazioni", 1, 2)
    ids = ranked.ids()
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    return BatchedTables(organisation_network, len(ids), PairRows(ev, ranked), order)
