"""Ibridazioni possibili: candidate pairs, their reasons, the network and its figure."""

import json
import shutil

import pytest
from xml.etree import ElementTree
import sqlite_utils

from kb import hybrid
from kb.domain.dictionary import HYBRID_SCORE
from kb.hybrid import evidence
from kb.pipeline import build
from kb.report.charts import network_svg

from conftest import MINI

# The mini fixture plus a traditional credit cooperative whose practice answers the threat
# that Orti Ribelli raises in Parma, a synergy, and an internal note whose matching words
# must never reach a reason.
EXTRA_ORGANISATION = ("cassa-rurale,Cassa Rurale del Taro,,cooperativa,tradizionale,credito,PR,"
                      "Parma,,1900,,,finanza-mutualistica,,yes\n")
TAVOLO_2 = """---
event: parma-2015
title: Tavolo 2 — Credito e bandi
kind: tavolo
participants: [cassa-rurale, orti-ribelli]
---
## Buone pratiche
- [[!Cassa Rurale del Taro]] anticipa i contributi dei bandi a chi non ha ancora un bilancio,
  con la garanzia dei soci. #finanza-mutualistica
- [[!Mosaico]] organizza una festa di quartiere ogni estate. #finanza-mutualistica

## Sinergie
- [[!Orti Ribelli]] e [[Mosaico]] coltivano insieme l'orto della sede. #spazi-condivisi
"""
INTERNAL = """---
event: bologna-2015
title: Appunti riservati
kind: sintesi
visibility: internal
---
## Problemi
- [[!kilowatt]] lamenta che la cassa comune zanzibar non copre le spese. #finanza-mutualistica

## Buone pratiche
- [[!cassa-rurale]] ha una cassa comune zanzibar per le spese dei soci. #finanza-mutualistica
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data = tmp_path_factory.mktemp("hybrid") / "data"
    shutil.copytree(MINI, data)
    with open(data / "organisations.csv", "a", encoding="utf-8") as fp:
        fp.write(EXTRA_ORGANISATION)
    (data / "notes" / "parma-2015" / "tavolo-2.md").write_text(TAVOLO_2, encoding="utf-8")
    (data / "notes" / "bologna-2015" / "riservato.md").write_text(INTERNAL, encoding="utf-8")
    result = build(data, data.parent / "build" / "cotour.db")
    return data, result


def rows(path, table, order):
    return list(sqlite_utils.Database(path)[table].rows_where(order_by=order))


def finding_id(path, start):
    db = sqlite_utils.Database(path)
    return next(r["id"] for r in db["findings"].rows if r["text"].startswith(start))


def test_answer_ranks_first_and_reason_names_the_findings(built):
    _, result = built
    threat = finding_id(result.public_path, "[[!Orti Ribelli APS]] teme")
    practice = finding_id(result.public_path, "[[!Cassa Rurale del Taro]]")
    first = rows(result.public_path, "hybrid_pairs", "realised, rank")[0]
    assert {
        "id": "orti-ribelli--cassa-rurale",
        "emerging_id": "orti-ribelli",
        "traditional_id": "cassa-rurale",
        "rank": 1,
        "shared_themes": '["finanza-mutualistica"]',
        "answers": 1,
        "events_together": 1,
        "shared_events": '["parma-2015"]',
        "realised": 0,
        "realised_by": "[]",
        "reason": "Condividono il tema Finanza mutualistica; la minaccia segnalata dagli Orti Ribelli "
                  f"APS a Parma (risultato {threat}) trova risposta nella buona pratica della Cassa "
                  f"Rurale del Taro a Parma (risultato {practice}); si sono incontrate a una "
                  "tappa (Parma).",
        "evidence_findings": json.dumps([threat, practice]),
    } == {k: v for k, v in first.items() if k not in ("score", "rank_score", "best_similarity")}
    assert first["rank_score"] == first["score"]  # the first pair repeats nothing
    assert first["best_similarity"] >= evidence.MIN_SIMILARITY
    assert first["score"] == round(HYBRID_SCORE.theme + HYBRID_SCORE.answer
                                   + HYBRID_SCORE.similarity * first["best_similarity"]
                                   + HYBRID_SCORE.event, 4)
    assert [
        {"pair_id": "orti-ribelli--cassa-rurale", "finding_id": practice, "role": "pratica",
         "organisation_id": "cassa-rurale", "organisation_role": "source"},
        {"pair_id": "orti-ribelli--cassa-rurale", "finding_id": threat, "role": "minaccia",
         "organisation_id": "orti-ribelli", "organisation_role": "source"},
    ] == list(sqlite_utils.Database(result.public_path)["hybrid_evidence"].rows_where(
        "pair_id = 'orti-ribelli--cassa-rurale'", order_by="finding_id"))


def test_realised_pairs_are_apart(built):
    _, result = built
    synergy = finding_id(result.public_path, "[[!Orti Ribelli]] e [[Mosaico]]")
    realised = [(r["rank"], r["id"], json.loads(r["realised_by"]))
                for r in rows(result.public_path, "hybrid_pairs", "rank")
                if r["realised"]]
    # Kilowatt is one of the programme's organisers: its initiative with the Mosaico is
    # no pair (nor is any other of its own).
    assert [
        (1, "orti-ribelli--il-mosaico", [{"table": "findings", "id": synergy}]),
    ] == realised
    candidates = [r["id"] for r in rows(result.public_path, "hybrid_pairs", "rank")
                  if not r["realised"]]
    assert "orti-ribelli--il-mosaico" not in candidates
    assert not [r["id"] for r in rows(result.public_path, "hybrid_pairs", "rank")
                if "kilowatt" in (r["emerging_id"], r["traditional_id"])]


def test_same_input_same_ranking(built, tmp_path):
    data, result = built
    again = build(data, tmp_path / "cotour.db")
    for table, order in [("hybrid_pairs", "id"), ("hybrid_evidence", "pair_id, finding_id"),
                         ("organisation_network", "organisation_id")]:
        assert rows(result.public_path, table, order) == rows(again.public_path, table, order)
    # Reading the evidence in another order changes nothing either (the findings are arrays
    # in id order by construction; the dicts are turned around).
    ev = hybrid.read_evidence(result.public_path)
    for name in ("organisations", "themes", "events", "initiatives"):
        setattr(ev, name, dict(reversed(list(getattr(ev, name).items()))))
    assert hybrid.compute_pairs(ev)[0] == hybrid.compute_pairs(hybrid.read_evidence(result.public_path))[0]


def test_nothing_internal_reaches_a_pair(built):
    _, result = built
    kb = sqlite_utils.Database(result.db_path)
    internal = [r["id"] for r in kb.query(
        "select f.id from findings f join notes n on n.id = f.note_id where n.visibility = 'internal'")]
    assert 3 == len(internal)  # the mini debriefing's and the two planted here
    for path in (result.db_path, result.public_path):
        db = sqlite_utils.Database(path)
        dumped = json.dumps(list(db["hybrid_pairs"].rows) + list(db["hybrid_evidence"].rows))
        assert "zanzibar" not in dumped.lower()
        for finding in internal:
            assert finding not in dumped
    # Kilowatt and the Cassa meet only in the internal note, so they are no pair at all.
    assert [] == list(sqlite_utils.Database(result.public_path)["hybrid_pairs"].rows_where(
        "id = 'kilowatt--cassa-rurale'"))


def test_knowledge_base_and_public_database_agree(built):
    _, result = built
    for table, order in [("hybrid_pairs", "id"), ("hybrid_evidence", "pair_id, finding_id"),
                         ("organisation_network", "organisation_id")]:
        assert rows(result.db_path, table, order) == rows(result.public_path, table, order)


def test_network_measures(built):
    _, result = built
    network = {r["organisation_id"]: r for r in rows(result.public_path, "organisation_network",
                                                      "organisation_id")}
    # Orti Ribelli is tied to the Mosaico (tavolo 1, synergy) and the Cassa (tavolo 2).
    assert {
        "organisation_id": "orti-ribelli", "profile": "emergente", "degree": 2, "strength": 4,
        "cross_profile_ties": 2, "same_profile_ties": 0, "is_bridge": 1,
    } == {k: v for k, v in network["orti-ribelli"].items() if k != "betweenness"}
    assert network["orti-ribelli"]["betweenness"] > 0
    # Kilowatt, an organiser, has no betweenness and is no bridge.
    assert (0, None, 0) == (network["kilowatt"]["degree"], network["kilowatt"]["betweenness"],
                            network["kilowatt"]["is_bridge"])


def test_network_figure_is_deterministic_svg(built):
    _, result = built
    svg = network_svg(result.public_path, ["orti-ribelli"])
    assert svg == network_svg(result.public_path, ["orti-ribelli"])
    root = ElementTree.fromstring(svg)
    svg_ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(f"{svg_ns}text")]
    assert ["Emergente", "Tradizionale", "Legame tra i due profili"] == texts[-3:]
    # every organisation with a tie but the organisers is a circle (and two more in the
    # legend); the organisations asked for, and only they, are named
    graph = hybrid.network(hybrid.read_evidence(result.public_path))
    tied = [r for r in hybrid.network_rows(graph)
            if r["degree"] > 0 and not graph.nodes[r["organisation_id"]]["staff"]]
    assert len(tied) + 2 == len(list(root.iter(f"{svg_ns}circle")))
    assert ["Orti Ribelli APS"] == texts[:-3]


def test_datasette_canned_query_links_the_evidence(built):
    import asyncio

    from kb.serve.app import make_datasette

    _, result = built
    threat = finding_id(result.public_path, "[[!Orti Ribelli APS]] teme")
    ds = make_datasette(result.public_path)

    async def get(path):
        return await ds.client.get(path)

    page = asyncio.run(get("/cotour/ibridazioni_per_organizzazione.json?"
                           "organizzazione=cassa-rurale&_shape=objects"))
    assert ["orti-ribelli--cassa-rurale"] == [r["coppia_id"] for r in page.json()["rows"]]
    html = asyncio.run(get("/cotour/ibridazioni_per_organizzazione?organizzazione=cassa-rurale")).text
    assert f'<a href="/cotour/findings/{threat}">{threat}</a>' in html


# ---- the answer pinned on a fixture worked out by hand (tests/fixtures/hybrid)
#
# Alfa (emerging) raises a problem P in Parma: "cerca case in affitto per giovani" (#casa).
# Three practices there: Rossa's own A1 "offre case in affitto ai giovani", A2 raised by Beta
# naming Verde "aprono case in affitto per giovani", Verde's own A3 "cerca soci" (all #casa).
# In Bologna a synergy S names Beta and Rossa (#cibo). Participants: Alfa and Rossa in Parma,
# Beta and Verde in Bologna. Gamma (emerging) declares Cibo and is met nowhere.
#
# Stems without stop words: P cerc cas affitt giovan; A1 offre cas affitt giovan; A2 apron cas
# affitt giovan; A3 cerc soc. TF-IDF on these 4 texts (smooth idf = ln(5 / (1 + df)) + 1, each
# term once): df 3 -> c = ln(5/4) + 1, df 2 -> b = ln(5/3) + 1, df 1 -> a = ln(5/2) + 1.
# cos(P, A1) = cos(P, A2) = 3c² / (√(b² + 3c²) · √(a² + 3c²)) = 0.603808 -> 0.6038.
# A3 shares one stem with P (cerc): under MIN_SHARED_STEMS, not an answer.
#
# Themes (declared, and of the findings naming it): Alfa casa; Beta cibo + casa (A2); Gamma
# cibo; Rossa casa + cibo (S); Verde casa, cibo. Events (findings naming it, sessions): Alfa
# Parma; Beta Parma (A2), Bologna; Rossa Parma, Bologna (S); Verde Parma (A2), Bologna.
#   alfa--rossa  0.5 × 1 theme + (1 + 10 × 0.6038) + 0.5 × 1 event        = 8.038
#   alfa--verde  0.5 × 1 + 0.5 × (1 + 10 × 0.6038) (A2 only names Verde) + 0.5 × 1 = 4.519
#   beta--verde  0.5 × 2 themes + 0.5 × 2 events                         = 2.0
#   beta--rossa  realised (S): 0.5 × 2 + 0.5 × 2                         = 2.0
#   gamma--*     a theme in common but no event and no answer: not kept
# Ranking scores: alfa--verde's answer repeats P, which alfa--rossa (ranked first) cites: its
# weight 0.5 × 7.038 = 3.519 counts 0.5 of it, 4.519 - 1.7595 = 2.7595, still above beta--verde.
# A2 is raised by Beta and names Verde: the reason says so, and the evidence gives Verde's role.
HYBRID_FIXTURE = MINI.parent / "hybrid"


@pytest.fixture(scope="module")
def hand_worked(tmp_path_factory):
    result = build(HYBRID_FIXTURE, tmp_path_factory.mktemp("hand") / "cotour.db")
    db = sqlite_utils.Database(result.public_path)
    ids = {r["text"].split("]] ", 1)[1][:12]: r["id"] for r in db["findings"].rows}
    return db, ids


def test_hybrid_pairs_worked_out_by_hand(hand_worked):
    db, ids = hand_worked
    p, a1, a2, s = (ids["cerca case i"], ids["offre case i"], ids["e [[Verde]] "],
                    ids["e [[Rossa]] "])
    assert [
        ("alfa--rossa", "alfa", "rossa", 1, 8.038, 8.038, '["casa"]', 1, 0.6038, 1,
         '["parma-2015"]', 0, "[]",
         f"Condividono il tema Casa; il problema sollevato da Alfa a Parma (risultato {p}) trova "
         f"risposta nella buona pratica di Rossa a Parma (risultato {a1}); si sono incontrate a "
         "una tappa (Parma).", json.dumps([p, a1])),
        ("alfa--verde", "alfa", "verde", 2, 4.519, 2.7595, '["casa"]', 1, 0.6038, 1,
         '["parma-2015"]', 0, "[]",
         f"Condividono il tema Casa; il problema sollevato da Alfa a Parma (risultato {p}) trova "
         f"risposta in una buona pratica raccontata da Beta che cita Verde a Parma (risultato "
         f"{a2}); si sono incontrate a una tappa (Parma).", json.dumps([p, a2])),
        ("beta--verde", "beta", "verde", 3, 2.0, 2.0, '["casa", "cibo"]', 0, None, 2,
         '["parma-2015", "bologna-2015"]', 0, "[]",
         "Condividono i temi Casa e Cibo; si sono incontrate a 2 tappe (Parma e Bologna).", "[]"),
        ("beta--rossa", "beta", "rossa", 1, 2.0, 2.0, '["casa", "cibo"]', 0, None, 2,
         '["parma-2015", "bologna-2015"]', 1, json.dumps([{"table": "findings", "id": s}]),
         f"Collaborano già in una sinergia a Bologna (risultato {s}); condividono i temi Casa e "
         "Cibo; si sono incontrate a 2 tappe (Parma e Bologna).", json.dumps([s])),
    ] == [tuple(r.values()) for r in db.query(
        "select * from hybrid_pairs order by realised, rank")]
    assert sorted([
        ("alfa--rossa", a1, "pratica", "rossa", "source"),
        ("alfa--rossa", p, "problema", "alfa", "source"),
        ("alfa--verde", a2, "pratica", "verde", "mentioned"),
        ("alfa--verde", p, "problema", "alfa", "source"),
        ("beta--rossa", s, "sinergia", "beta", "source"),
    ]) == sorted(tuple(r.values()) for r in db.query("select * from hybrid_evidence"))


def test_network_worked_out_by_hand(hand_worked):
    # Ties: Alfa-Rossa (the Parma session), Beta-Verde (A2 and the Bologna session: 2),
    # Beta-Rossa (S): the path Alfa - Rossa - Beta - Verde, Gamma alone. Betweenness of
    # Rossa and Beta: 2 of the pairs' shortest paths each, normalised by (n-1)(n-2)/2 = 6.
    db, _ = hand_worked
    assert [
        ("alfa", "emergente", 1, 1, 0.0, 1, 0, 0),
        ("beta", "emergente", 2, 3, 0.333333, 2, 0, 1),
        ("gamma", "emergente", 0, 0, 0.0, 0, 0, 0),
        ("rossa", "tradizionale", 2, 2, 0.333333, 2, 0, 1),
        ("verde", "tradizionale", 1, 2, 0.0, 1, 0, 0),
    ] == [tuple(r.values()) for r in db.query(
        "select * from organisation_network order by organisation_id")]
