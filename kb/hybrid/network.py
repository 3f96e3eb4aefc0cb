"""The organisations as a network: co-mention and co-participation, degree and betweenness."""

from __future__ import annotations

import networkx as nx
import numpy as np

from ..domain.dictionary import HYBRID_SCORE
from .answers import _unique
from .evidence import (
    BETWEENNESS_EDGE_BUDGET,
    BETWEENNESS_SAMPLE,
    SEED,
    Evidence,
)


def network(ev: Evidence) -> nx.Graph:
    """Organisations linked by co-mention in findings and co-participation in notes.

    Edge attributes: ``findings`` and ``notes`` (how many of each join the two), ``weight``
    (their sum). Nodes carry ``profile``, ``name`` and ``staff`` (an organiser or the
    programme's staff). Built in id order, so it is the same
    graph, node for node and edge for edge, on every run.
    """

    graph = nx.Graph()
    graph.add_nodes_from((org, {"profile": ev.organisations[org]["profile"],
                                "name": ev.organisations[org]["name"],
                                "staff": ev.organisations[org]["staff"]}) for org in ev.org_ids)
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


def without_staff(graph: nx.Graph) -> nx.Graph:
    """The network without the programme's organisers and staff: they ran every meeting, so a
    tie to them, or a path through them, says nothing about who joins the two worlds."""
    return graph.subgraph(o for o, staff in graph.nodes(data="staff") if not staff)


def network_rows(graph: nx.Graph) -> list[dict]:
    """One ``organisation_network`` row per organisation. Every measure is taken on the
    network without the programme's staff (:func:`without_staff`), except the staff's own
    ties, told as context; the staff have no betweenness and are never bridges."""

    # A copy, not the view: betweenness walks it millions of times, and a view filters every
    # step (the same nodes and ties in the same order, so the same measures).
    measured = without_staff(graph).copy()
    n = measured.number_of_nodes()
    k = None if n <= HYBRID_SCORE.exact_betweenness_nodes else min(
        BETWEENNESS_SAMPLE, n,
        max(8, BETWEENNESS_EDGE_BUDGET // max(measured.number_of_edges(), 1)))
    betweenness = nx.betweenness_centrality(measured, k=k, normalized=True, seed=SEED) if n else {}
    profile_of, rows = dict(graph.nodes(data="profile")), []
    for org in sorted(graph):
        staff = org not in measured
        ties = graph[org] if staff else measured[org]
        profile = profile_of[org]
        cross = sum(profile_of[o] != profile for o in ties)
        rows.append({
            "organisation_id": org,
            "profile": profile,
            "degree": len(ties),
            "strength": int(sum(tie["weight"] for tie in ties.values())),
            "betweenness": None if staff else round(float(betweenness.get(org, 0.0)), 6),
            "cross_profile_ties": cross,
            "same_profile_ties": len(ties) - cross,
            # A bridge: most of its ties (and at least two) cross the profiles.
            "is_bridge": int(not staff and cross >= 2 and cross >= len(ties) - cross),
        })
    return rows
