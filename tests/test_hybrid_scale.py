"""Ibridazioni possibili at scale: the paths a large corpus takes (pairs scored a block at a
time, rows made and written a batch at a time) give the same tables as the small one."""

import re
import shutil
import sqlite3

import pytest

from kb import hybrid
from kb.hybrid import answers, pairs, tables
from kb.domain.syntax import MENTION, NOT_TAG_SPANS, TAG
from kb.pipeline import add_hybrid

TABLES = {"hybrid_pairs": "id", "hybrid_evidence": "pair_id, finding_id",
          "organisation_network": "organisation_id"}


def table(path, name, order="rowid"):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f"select * from [{name}] order by {order}")]
    finally:
        conn.close()


@pytest.mark.parametrize("per_organisation", [pairs.PAIRS_PER_ORGANISATION, 2])
def test_pairs_scored_in_blocks_are_the_same(sample_build, monkeypatch, per_organisation):
    _, public = sample_build
    monkeypatch.setattr(pairs, "PAIRS_PER_ORGANISATION", per_organisation)  # (2: most go)
    whole = hybrid.compute_pairs(hybrid.read_evidence(public))
    monkeypatch.setattr(pairs, "SCORED_AT_ONCE", 1)  # one emerging organisation at a time
    assert whole == hybrid.compute_pairs(hybrid.read_evidence(public))
    assert whole[0]


def test_written_in_batches_as_computed(sample_build, tmp_path, monkeypatch):
    kb, public = sample_build
    kb, public = shutil.copy(kb, tmp_path / "cotour.db"), shutil.copy(public, tmp_path / "p.db")
    for path in (kb, public):
        with sqlite3.connect(path) as conn:
            for name in TABLES:
                conn.execute(f"delete from [{name}]")
    monkeypatch.setattr(tables, "WRITE_BATCH", 7)
    counts = add_hybrid(kb, public)
    computed = hybrid.compute(public)
    for name, key in TABLES.items():
        expected = sorted(getattr(computed, name), key=lambda r: [r[k] for k in key.split(", ")])
        assert counts[name] == len(expected) > 0
        # In primary-key order, rowid after rowid, in both files.
        assert table(kb, name) == table(public, name) == expected


def test_findings_without_themes_answer_nothing(sample_build, tmp_path):
    public = shutil.copy(sample_build[1], tmp_path / "p.db")
    with sqlite3.connect(public) as conn:
        conn.execute("delete from finding_themes")
    pairs, evidence = hybrid.compute_pairs(hybrid.read_evidence(public))
    assert pairs and not any(p["answers"] for p in pairs)


@pytest.mark.parametrize("text", [
    "#tag at the start", "a #tag, C#, a&#39;s, path/#x, ##double, x#y", "[[!Org|#not]] #yes",
    "see [link](http://x.org/#frag) and <http://a.b/#c> and `#code` then #after",
    "https://example.org/#x www.site.it/#y #ok-tag-2 #9no #_no", "#", "", "text#", "é#tag #è",
])
def test_not_words_are_the_mentions_links_code_and_tags(text):
    plain = re.compile("|".join(f"(?:{r.pattern})" for r in (MENTION, NOT_TAG_SPANS, TAG)))
    assert answers._NOT_WORDS.sub(" ", text) == plain.sub(" ", text)
