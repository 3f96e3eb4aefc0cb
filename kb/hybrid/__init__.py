"""Ibridazioni possibili: where new emerging actors and the traditional sectors complete each other.

Everything here reads the **public database** only, so no internal note, no internal finding and
no personal field can surface in a reason. From it come three tables (described in
:mod:`kb.domain.dictionary`):

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
  (:func:`kb.domain.text.stem_text`), mentions, tags and function words left out. An answer counts
  when the similarity is at least :data:`MIN_SIMILARITY` and the two texts share at least
  :data:`MIN_SHARED_STEMS` stems (one common word — "piano" economico and piano terra — is too
  often a coincidence); for each problem only its best practice counts, and only the pair's
  :data:`MAX_ANSWERS` best answers; a practice that only *mentions* the answering
  organisation counts :data:`MENTIONED_FACTOR` as much as its own. On a large corpus the
  findings are compared within shortlisted pairs only, and a prolific organisation through
  its most typical findings on each theme (:func:`kb.hybrid.answers.answers` says how);
* **events together** — events where both took part in a session or were named in a finding.

The score is the weighted sum::

    score = W_THEME  * min(shared themes, MAX_THEMES)
          + sum over the best answers of (W_ANSWER + W_SIMILARITY * similarity)
                                         (times MENTIONED_FACTOR if only mentioned)
          + W_EVENT  * min(events together, MAX_EVENTS)

where the weights and caps (``W_THEME`` is ``HYBRID_SCORE.theme``, ``MAX_THEMES``
``HYBRID_SCORE.max_themes``, and so on) are the fields of
:data:`kb.domain.dictionary.HYBRID_SCORE`, which the data dictionary publishes with the score.

A pair is kept when it is realised, has an answer, or shares a theme *and* an event; then only
each organisation's :data:`PAIRS_PER_ORGANISATION` best pairs stay (realised ones always do).
The ranking rests on different evidence: walking down it, an answer whose problem or practice a
better-ranked pair already cites counts :data:`REUSE_FACTOR` to the power of those citations
(``rank_score``; :func:`kb.hybrid.pairs.diversified`). Ties are broken by the pair id, so the
same input always gives the same ranking.

The programme's organisers and staff (``organisations.programme_role``) are never in a pair,
and the network's measures of the others leave their ties out (:func:`without_staff`): they ran
every meeting, so meeting them says nothing.
"""

from .answers import import_scikit_learn
from .tables import BatchedTables, HybridTables, compute, compute_in_batches
from .evidence import Evidence, read_evidence
from .network import network, network_rows, without_staff
from .pairs import compute_pairs

__all__ = ["BatchedTables", "Evidence", "HybridTables", "compute", "compute_in_batches",
           "compute_pairs", "import_scikit_learn", "network", "network_rows", "read_evidence",
           "without_staff"]
