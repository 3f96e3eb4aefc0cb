"""Italian full-text search over the stemmed index."""

import pytest

from kb.store.search import fts_match, search, stem_query
from kb.domain.text import stem_text


@pytest.mark.parametrize("text,expected", [
    ("cooperativa", "cooper"),
    ("Cooperative COOPERATIVO cooperazione", "cooper cooper cooper"),
    ("perché", "perc"),
    ("perche", "perc"),
    ("Città", "citt"),
    ("spazi condivisi", "spaz condivis"),
    ("#spazi-condivisi", "spaz condivis"),
    ("Müller", "muller"),
    ("Mu\u0308ller", "muller"),  # decomposed accents (text from some editors): the same word
    ("Citta\u0300 ½", "citt 1 2"),
    ("", ""),
])
def test_stem_text(text, expected):
    assert expected == stem_text(text)


@pytest.mark.parametrize("query,expected", [
    ("cooperativa", '"cooper"'),
    ("cooperative sociali", '"cooper" "social"'),
    ('"spazi condivisi"', '"spaz condivis"'),
    ("bandi OR burocrazia", '"band" OR "burocraz"'),
    ("spazi NOT coworking", '"spaz" NOT "coworking"'),
    ("OR spazi OR", '"spaz"'),
    ('"unterminated phrase', '"unterminated phras"'),
    ("*** ''", ""),
    ("coop*", '"coop" *'),
    ("Perché* spazi", '"perc" * "spaz"'),
])
def test_fts_match(query, expected):
    assert expected == fts_match(query)


def test_stem_query_is_plain_words():
    assert "cooper social" == stem_query("Cooperative sociali!")


@pytest.mark.parametrize("query,expected_ids", [
    ("cooperativa", ["7be3f479b483", "1d22223ee0e1", "bologna-2015-plenaria"]),
    ("cooperativo", ["7be3f479b483", "1d22223ee0e1", "bologna-2015-plenaria"]),
    ("bandi", ["9b3e15974335"]),
    ("perche", []),
    ("segreto", ["bologna-2015-debriefing"]),
])
def test_search_full(mini_build, query, expected_ids):
    kb, _ = mini_build
    assert sorted(expected_ids) == sorted(h.id for h in search(kb, query))


def test_search_public_leaves_out_internal(mini_build):
    _, public = mini_build
    assert [] == search(public, "segreto")
    assert ["bologna-2015-plenaria"] == [h.id for h in search(public, "plenaria", tables=("notes",))]


def test_search_hit_carries_provenance(mini_build):
    kb, _ = mini_build
    [hit] = search(kb, "bandi")
    assert ("findings", "threat", "parma-2015", "Parma", "notes/parma-2015/tavolo-1.md", 16) == (
        hit.table, hit.kind, hit.event_id, hit.city, hit.source_path, hit.source_line)


@pytest.mark.parametrize("query,word", [
    ("perche", "perché"),
    ("cooperativo", "cooperative"),
    ("citta", "città"),
])
def test_search_sample_finds_other_forms(sample_build, query, word):
    """Every finding that contains the other form is found by the query."""
    import re
    import sqlite3
    kb, _ = sample_build
    with sqlite3.connect(kb) as conn:
        containing = {fid for fid, text in conn.execute("select id, text from findings")
                      if re.search(rf"\b{word}\b", text, re.I)}
    assert containing  # the sample really has the other form
    found = {h.id for h in search(kb, query, limit=1000, tables=("findings",))}
    assert containing <= found
